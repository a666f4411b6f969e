/* sha256.c - SHA-256 (FIPS 180-4) of a file or a buffer, and the block
 * digest of a file (sha256.h), for recording which input a result came from. Portable C, and on
 * x86-64 processors with the SHA extensions (checked at run time) the same compression with them:
 * about 8x faster, which matters when the input is a table of many gigabytes. Both give the same
 * digest (test_sha256 compares them). */
#include "popseg/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ns independent streams of n blocks each, their rounds interleaved. Each
 * state lives in two registers as (A, B, E, F) and (C, D, G, H), the layout
 * sha256rnds2 wants; each group of four rounds extends the message schedule
 * by four words, unrolled (rolled, GCC keeps the schedule on the stack and
 * the groups wait on loads: 1.09 against 1.75 GB/s for one stream). One
 * stream's rounds are a chain of sha256rnds2, each waiting for the one
 * before (about 1.7 GB/s on the AMD EPYC VM of bench/README.md); the
 * streams' chains overlap. Each stream's state and digest are those of
 * blocks_shani alone. Inlined into wrappers with a constant ns, so that the
 * loops over the streams unroll and the states stay in registers. */
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) static inline void
shani_streams(const int ns, uint32_t *const *h, const unsigned char *const *p, size_t n) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i s0[4], s1[4];
  for (int s = 0; s < ns; s++) {
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[s][0]), 0xB1);
    __m128i u = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[s][4]), 0x1B);
    s0[s] = _mm_alignr_epi8(t, u, 8);
    s1[s] = _mm_blend_epi16(u, t, 0xF0);
  }
  for (size_t b = 0; b < n; b++) {
    __m128i abef[4], cdgh[4], m[4][4];
#if defined(__clang__) || __GNUC__ >= 8
#pragma GCC unroll 4
#endif
    for (int s = 0; s < ns; s++) {
      abef[s] = s0[s];
      cdgh[s] = s1[s];
    }
#if defined(__clang__) || __GNUC__ >= 8
#pragma GCC unroll 16
#endif
    for (int g = 0; g < 16; g++) {
      const __m128i kg = _mm_loadu_si128((const __m128i *)&sha_k[4 * g]);
#if defined(__clang__) || __GNUC__ >= 8
#pragma GCC unroll 4
#endif
      for (int s = 0; s < ns; s++) {
        if (g < 4) {
          m[s][g] = _mm_shuffle_epi8(
              _mm_loadu_si128((const __m128i *)(p[s] + 64 * b + 16 * (size_t)g)), bswap);
        } else {
          __m128i w = _mm_sha256msg1_epu32(m[s][g % 4], m[s][(g + 1) % 4]);
          w = _mm_add_epi32(w, _mm_alignr_epi8(m[s][(g + 3) % 4], m[s][(g + 2) % 4], 4));
          m[s][g % 4] = _mm_sha256msg2_epu32(w, m[s][(g + 3) % 4]);
        }
        __m128i k = _mm_add_epi32(m[s][g % 4], kg);
        s1[s] = _mm_sha256rnds2_epu32(s1[s], s0[s], k);
        k = _mm_shuffle_epi32(k, 0x0E);
        s0[s] = _mm_sha256rnds2_epu32(s0[s], s1[s], k);
      }
    }
#if defined(__clang__) || __GNUC__ >= 8
#pragma GCC unroll 4
#endif
    for (int s = 0; s < ns; s++) {
      s0[s] = _mm_add_epi32(s0[s], abef[s]);
      s1[s] = _mm_add_epi32(s1[s], cdgh[s]);
    }
  }
  for (int s = 0; s < ns; s++) {
    __m128i t = _mm_shuffle_epi32(s0[s], 0x1B);
    __m128i u = _mm_shuffle_epi32(s1[s], 0xB1);
    _mm_storeu_si128((__m128i *)&h[s][0], _mm_blend_epi16(t, u, 0xF0));
    _mm_storeu_si128((__m128i *)&h[s][4], _mm_alignr_epi8(u, t, 8));
  }
}

/* n consecutive blocks with the SHA extensions: the one-stream case. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
blocks_shani(uint32_t h[8], const unsigned char *p, size_t n) {
  uint32_t *hs[1] = {h};
  const unsigned char *ps[1] = {p};
  shani_streams(1, hs, ps, n);
}

__attribute__((target("sha,sse4.1,ssse3"))) static void
shani_x2(uint32_t *const *h, const unsigned char *const *p, size_t n) {
  shani_streams(2, h, p, n);
}

__attribute__((target("sha,sse4.1,ssse3"))) static void
shani_x4(uint32_t *const *h, const unsigned char *const *p, size_t n) {
  shani_streams(4, h, p, n);
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
/* Up to n blocks of each of ns streams (2 or 4) interleaved: the number
 * done (0 without the SHA extensions). */
static size_t blocks_streams(int ns, uint32_t *const *h, const unsigned char *const *p, size_t n) {
  if (!n || !have_shani()) return 0;
  if (ns == 4)
    shani_x4(h, p, n);
  else
    shani_x2(h, p, n);
  return n;
}

int ps_sha256_accelerated(void) {
  return have_shani();
}
#else
static size_t blocks_streams(int ns, uint32_t *const *h, const unsigned char *const *p, size_t n) {
  (void)ns, (void)h, (void)p, (void)n;
  return 0;
}

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

/* One digest block's line: its hex SHA-256 and a newline. */
static void block_line(const unsigned char *p, size_t n, char line[PS_DIGEST_LINE]) {
  char hex[65];
  ps_sha256_hex(p, n, hex);
  memcpy(line, hex, 64);
  line[64] = '\n';
}

/* One 4 MiB block (or the short last one) of a file's bytes, in order,
 * into its whole SHA-256 (whole NULL: not wanted) and into the list of its
 * blocks' lines (lines NULL: not wanted): the step both one-pass forms
 * share, from a file and from memory. */
static void digest_block(sha256_t *whole, sha256_t *lines, const unsigned char *p, size_t n) {
  if (whole) sha256_update(whole, p, n);
  if (lines) {
    char line[PS_DIGEST_LINE];
    block_line(p, n, line);
    sha256_update(lines, (const unsigned char *)line, sizeof line);
  }
}

/* Read exactly n bytes at off (fewer only at the end of the file): the
 * count read, or -1 with errno. */
static ssize_t read_at(int fd, unsigned char *buf, size_t n, off_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

ps_err_t ps_sha256_file_digest(const char *path, char sha[65], char digest[65]) {
  ps_err_t err = PS_OK;
  const size_t chunk = (size_t)PS_DIGEST_BLOCK;
  unsigned char *buf = malloc(chunk);
  int fd = -1;
  sha256_t whole, lines;
  sha256_init(&whole);
  sha256_init(&lines);
  PS_CHECK_ALLOC(buf);
  fd = open(path, O_RDONLY);
  PS_CHECK(fd >= 0, PS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  for (off_t off = 0;; off += (off_t)chunk) {
    ssize_t n = read_at(fd, buf, chunk, off);
    PS_CHECK(n >= 0, PS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    if (n == 0) break;
    digest_block(&whole, digest ? &lines : NULL, buf, (size_t)n);
    if ((size_t)n < chunk) break;
  }
  if (sha) sha256_final(&whole, sha);
  if (digest) sha256_final(&lines, digest);
cleanup:
  if (fd >= 0) close(fd);
  free(buf);
  return err;
}

void ps_sha256_buffer_digest(const void *data, size_t len, char sha[65], char digest[65]) {
  const unsigned char *p = data;
  const size_t bs = (size_t)PS_DIGEST_BLOCK;
  sha256_t whole, lines;
  sha256_init(&whole);
  sha256_init(&lines);
  for (size_t off = 0; off < len; off += bs)
    digest_block(sha ? &whole : NULL, digest ? &lines : NULL, p + off,
                 len - off < bs ? len - off : bs);
  if (sha) sha256_final(&whole, sha);
  if (digest) sha256_final(&lines, digest);
}

ps_err_t ps_sha256_file(const char *path, char hex[65]) {
  return ps_sha256_file_digest(path, hex, NULL);
}

ps_err_t ps_sha256_blocks(const char *path, int64_t size, int64_t b0, int64_t b1, char *lines) {
  ps_err_t err = PS_OK;
  /* Up to four whole blocks at a time, hashed as streams side by side, each
   * read a piece at a time into a buffer that stays in cache (a buffer of
   * whole blocks, 16 MiB, hashed at 1.0-1.4 GB/s, this at 1.8 on the AMD EPYC VM;
   * one stream at 1.25). */
  const int64_t bs = PS_DIGEST_BLOCK, piece = (int64_t)256 << 10;
  unsigned char *buf = b1 > b0 ? malloc((size_t)(4 * piece)) : NULL;
  int fd = -1;
  if (b1 <= b0) return PS_OK;
  PS_CHECK_ALLOC(buf);
  fd = open(path, O_RDONLY);
  PS_CHECK(fd >= 0, PS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  for (int64_t b = b0, ns = 1; b < b1; b += ns) {
    const int64_t len = size - b * bs < bs ? size - b * bs : bs;
    /* Whole blocks from b on (all but the file's last are whole). */
    const int64_t whole = (size / bs < b1 ? size / bs : b1) - b;
    ns = whole >= 4 ? 4 : whole >= 2 ? 2 : 1;
    sha256_t st[4];
    uint32_t *h[4];
    const unsigned char *p[4];
    for (int s = 0; s < ns; s++) {
      sha256_init(&st[s]);
      h[s] = st[s].h;
      p[s] = buf + s * piece;
    }
    for (int64_t o = 0; o < len; o += piece) {
      const int64_t want = len - o < piece ? len - o : piece;
      for (int s = 0; s < ns; s++) {
        const int64_t at = (b + s) * bs + o;
        ssize_t n = read_at(fd, buf + s * piece, (size_t)want, (off_t)at);
        PS_CHECK(n >= 0, PS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        PS_CHECK(n == want, PS_ERR_IO,
                 "%s: ends at byte %lld, short of the %lld bytes it had when its digest began "
                 "(changed while being read)",
                 path, (long long)(at + n), (long long)size);
      }
      /* Whole blocks' pieces are whole 64-byte blocks: the states move on
       * by them directly. */
      if (ns > 1 && blocks_streams((int)ns, h, p, (size_t)want / 64)) {
        for (int s = 0; s < ns; s++) st[s].n_bytes += (uint64_t)want;
      } else {
        for (int s = 0; s < ns; s++) sha256_update(&st[s], p[s], (size_t)want);
      }
    }
    for (int s = 0; s < ns; s++) {
      char hex[65], *line = lines + (b - b0 + s) * PS_DIGEST_LINE;
      sha256_final(&st[s], hex);
      memcpy(line, hex, 64);
      line[64] = '\n';
    }
  }
cleanup:
  if (fd >= 0) close(fd);
  free(buf);
  return err;
}
