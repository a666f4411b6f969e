/* cpus.c - this processor's instruction set (cpus.h). */
#include "popseg/cpus.h"

#include "popseg/opt.h"

int ps_cpu_avx512f(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512f") != 0 && !ps_env_flag("POPSEG_NO_AVX512", 0);
  }
  return known;
#else
  return 0;
#endif
}

int ps_cpu_avx2fma(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return known;
#else
  return 0;
#endif
}
