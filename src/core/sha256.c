/* sha256.c - SHA-256 (FIPS 180-4) of a file or a buffer, for recording which
 * input a result came from. Portable C, and on x86-64 processors with the SHA
 * extensions (checked at run time) the same compression with them: about 8x
 * faster, which matters when the input is a table of many gigabytes. Both
 * give the same digest (test_sha256 compares them). */
/* Linux: the hashing thread's own nice value (setpriority on its thread id)
 * and CPUs (pthread_setaffinity_np). */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "popseg/sha256.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

typedef struct {
  uint32_t h[8];
  uint64_t n_bytes;
  unsigned char block[64];
  size_t fill;
} sha256_t;

/* First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t sha_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

static uint32_t rotr(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int t = 0; t < 16; t++)
    w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
           (uint32_t)p[4 * t + 3];
  for (int t = 16; t < 64; t++) {
    uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int t = 0; t < 64; t++) {
    uint32_t t1 =
        hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[t] + w[t];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

static void sha256_init(sha256_t *s) {
  /* First 32 bits of the fractional parts of the square roots of the first 8 primes. */
  static const uint32_t h0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
  memcpy(s->h, h0, sizeof h0);
  s->n_bytes = 0;
  s->fill = 0;
}

/* n consecutive 64-byte blocks, portable. */
static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) sha256_block(h, p + 64 * i);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

/* n consecutive blocks with the SHA extensions. The state lives in two
 * registers as (A, B, E, F) and (C, D, G, H), the layout sha256rnds2 wants;
 * each group of four rounds extends the message schedule by four words. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
blocks_shani(uint32_t h[8], const unsigned char *p, size_t n) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i t = _mm_loadu_si128((const __m128i *)&h[0]);  /* A B C D (dword 0 = A) */
  __m128i s1 = _mm_loadu_si128((const __m128i *)&h[4]); /* E F G H */
  t = _mm_shuffle_epi32(t, 0xB1);                       /* B A D C */
  s1 = _mm_shuffle_epi32(s1, 0x1B);                     /* H G F E */
  __m128i s0 = _mm_alignr_epi8(t, s1, 8);               /* F E B A: "ABEF" */
  s1 = _mm_blend_epi16(s1, t, 0xF0);                    /* H G D C: "CDGH" */
  for (size_t b = 0; b < n; b++, p += 64) {
    const __m128i abef = s0, cdgh = s1;
    __m128i m[4], k;
    /* Unrolled, m[g % 4] are registers: rolled, GCC keeps them on the stack
     * and the four-round groups wait on loads (1.09 against 1.75 GB/s). */
#if defined(__clang__) || __GNUC__ >= 8
#pragma GCC unroll 16
#endif
    for (int g = 0; g < 16; g++) {
      if (g < 4) {
        m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
      } else {
        __m128i w = _mm_sha256msg1_epu32(m[g % 4], m[(g + 1) % 4]);
        w = _mm_add_epi32(w, _mm_alignr_epi8(m[(g + 3) % 4], m[(g + 2) % 4], 4));
        m[g % 4] = _mm_sha256msg2_epu32(w, m[(g + 3) % 4]);
      }
      k = _mm_add_epi32(m[g % 4], _mm_loadu_si128((const __m128i *)&sha_k[4 * g]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, k);
      k = _mm_shuffle_epi32(k, 0x0E);
      s0 = _mm_sha256rnds2_epu32(s0, s1, k);
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
  }
  t = _mm_shuffle_epi32(s0, 0x1B);   /* A B E F */
  s1 = _mm_shuffle_epi32(s1, 0xB1);  /* D C H G ... */
  s0 = _mm_blend_epi16(t, s1, 0xF0); /* A B C D */
  s1 = _mm_alignr_epi8(s1, t, 8);    /* E F G H */
  _mm_storeu_si128((__m128i *)&h[0], s0);
  _mm_storeu_si128((__m128i *)&h[4], s1);
}

static int g_portable;

void ps_sha256_set_portable(int on) {
  g_portable = on;
}

static int have_shani(void) {
  static int known = -1;
  unsigned a, b, c, d;
  if (g_portable) return 0;
  if (known >= 0) return known;
  known = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) && (c & (1u << 9)) &&
      __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)))
    known = 1;
  return known;
}

static void blocks(uint32_t h[8], const unsigned char *p, size_t n) {
  if (n && have_shani())
    blocks_shani(h, p, n);
  else
    blocks_portable(h, p, n);
}
int ps_sha256_accelerated(void) {
  return have_shani();
}
#else
void ps_sha256_set_portable(int on) {
  (void)on;
}

int ps_sha256_accelerated(void) {
  return 0;
}

static void blocks(uint32_t h[8], const unsigned char *p, size_t n) {
  blocks_portable(h, p, n);
}
#endif

static void sha256_update(sha256_t *s, const unsigned char *p, size_t n) {
  s->n_bytes += n;
  if (s->fill) {
    size_t take = 64 - s->fill < n ? 64 - s->fill : n;
    memcpy(s->block + s->fill, p, take);
    s->fill += take;
    p += take;
    n -= take;
    if (s->fill < 64) return;
    blocks(s->h, s->block, 1);
    s->fill = 0;
  }
  blocks(s->h, p, n / 64);
  p += n / 64 * 64;
  n %= 64;
  memcpy(s->block, p, n);
  s->fill = n;
}

static void sha256_final(sha256_t *s, char hex[65]) {
  uint64_t bits = s->n_bytes * 8;
  static const unsigned char pad[64] = {0x80};
  unsigned char len[8];
  size_t padn = s->fill < 56 ? 56 - s->fill : 120 - s->fill;
  for (int i = 0; i < 8; i++) len[i] = (unsigned char)(bits >> (56 - 8 * i));
  sha256_update(s, pad, padn);
  sha256_update(s, len, 8);
  for (int i = 0; i < 8; i++) snprintf(hex + 8 * i, 9, "%08x", (unsigned)s->h[i]);
  hex[64] = '\0';
}

void ps_sha256_hex(const void *data, size_t len, char hex[65]) {
  sha256_t s;
  sha256_init(&s);
  sha256_update(&s, data, len);
  sha256_final(&s, hex);
}

/* Not collective, no error module (threads call it): 0, or an errno with
 * what failed ("open", "read"). stop: checked between blocks (may be NULL). */
static int hash_file(const char *path, char hex[65], const atomic_int *stop, const char **what) {
  FILE *f = NULL;
  unsigned char *buf = NULL;
  const size_t chunk = (size_t)1 << 20;
  int rc = 0;
  sha256_t s;
  hex[0] = '\0';
  *what = "open";
  f = fopen(path, "rb");
  if (!f) return errno ? errno : EIO;
  buf = malloc(chunk);
  if (!buf) {
    fclose(f);
    *what = "allocate a buffer for";
    return ENOMEM;
  }
  sha256_init(&s);
  for (;;) {
    if (stop && atomic_load(stop)) {
      rc = ECANCELED;
      break;
    }
    size_t n = fread(buf, 1, chunk, f);
    sha256_update(&s, buf, n);
    if (n < chunk) break;
  }
  if (rc == 0 && ferror(f)) {
    rc = errno ? errno : EIO;
    *what = "read";
  }
  if (rc == 0) sha256_final(&s, hex);
  fclose(f);
  free(buf);
  return rc;
}

struct ps_sha256_job {
  pthread_t thread;
  char path[4096];
  char hex[65];
  const char *what;
  int rc;
  atomic_int stop;
#if defined(__linux__)
  int pinned; /* 0: the caller's CPUs */
  cpu_set_t cpus;
#endif
};

static void *job_main(void *arg) {
  ps_sha256_job_t *j = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
#if defined(__linux__)
  /* The hash is only needed when the outputs are written: on a node with no
   * spare core it must not slow the ranks' compute stages (rank 0 would hold
   * every collective back); it runs on what they leave idle. Best effort. */
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  /* CPUs no rank is bound to, when the caller found some: there the thread
   * takes nobody's time (a rank bound to one core would lend it its core
   * only while it waits). The kernel keeps to the job's cpuset; refused
   * (none of them allowed), the thread keeps the caller's CPUs. */
  if (j->pinned) (void)pthread_setaffinity_np(pthread_self(), sizeof j->cpus, &j->cpus);
#endif
  j->rc = hash_file(j->path, j->hex, &j->stop, &j->what);
  return NULL;
}

ps_err_t ps_sha256_job_start(const char *path, const int *cpus, int n_cpus, ps_sha256_job_t **job) {
  ps_err_t err = PS_OK;
  ps_sha256_job_t *j = calloc(1, sizeof *j);
  *job = NULL;
  PS_CHECK_ALLOC(j);
  PS_CHECK(strlen(path) < sizeof j->path, PS_ERR_ARG, "%s: path too long", path);
  snprintf(j->path, sizeof j->path, "%s", path);
#if defined(__linux__)
  CPU_ZERO(&j->cpus);
  for (int q = 0; cpus && q < n_cpus; q++)
    if (cpus[q] >= 0 && cpus[q] < CPU_SETSIZE) CPU_SET(cpus[q], &j->cpus);
  j->pinned = cpus && n_cpus > 0;
#else
  (void)cpus, (void)n_cpus;
#endif
  atomic_init(&j->stop, 0);
  /* No thread (resource limits): finish hashes in the caller instead. */
  if (pthread_create(&j->thread, NULL, job_main, j) != 0) j->rc = -1;
  *job = j;
  j = NULL;
cleanup:
  free(j);
  return err;
}

ps_err_t ps_sha256_job_finish(ps_sha256_job_t **job, char hex[65]) {
  ps_err_t err = PS_OK;
  ps_sha256_job_t *j = *job;
  if (!j) return PS_OK;
  if (j->rc == -1)
    j->rc = hash_file(j->path, j->hex, NULL, &j->what);
  else
    pthread_join(j->thread, NULL);
  PS_CHECK(j->rc == 0, PS_ERR_IO, "%s: cannot %s it for its sha256: %s", j->path, j->what,
           strerror(j->rc));
  memcpy(hex, j->hex, 65);
cleanup:
  free(j);
  *job = NULL;
  return err;
}

void ps_sha256_job_cancel(ps_sha256_job_t **job) {
  ps_sha256_job_t *j = *job;
  if (!j) return;
  if (j->rc != -1) {
    atomic_store(&j->stop, 1);
    pthread_join(j->thread, NULL);
  }
  free(j);
  *job = NULL;
}

ps_err_t ps_sha256_file(const char *path, char hex[65]) {
  ps_err_t err = PS_OK;
  const char *what = "";
  int rc = hash_file(path, hex, NULL, &what);
  PS_CHECK(rc == 0, PS_ERR_IO, "%s: cannot %s: %s", path, what, strerror(rc));
cleanup:
  return err;
}
