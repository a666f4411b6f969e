/* cpus.h - what this processor's instruction set offers the kernels. */
#ifndef POPSEG_CPUS_H
#define POPSEG_CPUS_H

/* Not collective. Whether this processor has AVX-512 F (asked once): the
 * kernels that have an AVX-512 form check it before calling it. 0 off
 * x86-64 or without GCC/Clang's CPU detection, and with POPSEG_NO_AVX512=1
 * in the environment (the tests' way to run the AVX2 forms of the
 * statistics on an AVX-512 processor; k-means has its own switches). */
int ps_cpu_avx512f(void);
/* Not collective. Whether this processor has AVX2 and FMA (asked once): the
 * kernels' fallback where AVX-512 is missing. */
int ps_cpu_avx2fma(void);

#endif
