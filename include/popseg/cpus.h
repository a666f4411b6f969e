/* cpus.h - what this processor's instruction set offers the kernels. */
#ifndef POPSEG_CPUS_H
#define POPSEG_CPUS_H

/* Not collective. Whether this processor has AVX-512 F (asked once): the
 * kernels that have an AVX-512 form check it before calling it. 0 off
 * x86-64 or without GCC/Clang's CPU detection. */
int ps_cpu_avx512f(void);

#endif
