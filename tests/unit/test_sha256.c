/* test_sha256.c - SHA-256: the FIPS 180-4 test vectors, and the accelerated
 * path (SHA extensions) against the portable one on buffers of every length
 * around the block size and a few large ones; the input digest (sha256.h)
 * against its definition, over the ranks (t_digest.sh checks it against
 * coreutils). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "popseg/rng.h"
#include "popseg/sha256.h"
#include "popseg/table.h"

/* A file's lines (sha256.h) from the buffer it holds, block by block. */
static void want_digest(const unsigned char *data, size_t n, char hex[65]) {
  const size_t bs = (size_t)PS_DIGEST_BLOCK;
  const size_t nb = (n + bs - 1) / bs;
  char *lines = malloc(nb * PS_DIGEST_LINE + 1);
  for (size_t b = 0; lines && b < nb; b++) {
    char h[65];
    ps_sha256_hex(data + b * bs, n - b * bs < bs ? n - b * bs : bs, h);
    memcpy(lines + b * PS_DIGEST_LINE, h, 64);
    lines[b * PS_DIGEST_LINE + 64] = '\n';
  }
  ps_sha256_hex(lines ? lines : "", lines ? nb * PS_DIGEST_LINE : 0, hex);
  if (!lines) hex[0] = '?';
  free(lines);
}

static int write_file(const char *path, const unsigned char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(data, 1, n, f) == n;
  if (f) ok &= fclose(f) == 0;
  return ok;
}

/* The file digest against its definition, at sizes around the block: one
 * pass over the file, the same bytes in memory (a CSV's, as parsed), the
 * blocks' lines by range, and ps_table_digest over every rank; a file
 * shorter than its size and one changed since it was read are refused,
 * naming it. */
static void digest_checks(void) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const size_t bs = (size_t)PS_DIGEST_BLOCK, big = 9 * bs + 123;
  const size_t sizes[] = {0, 1, bs - 1, bs, bs + 1, 2 * bs, big};
  unsigned char *data = malloc(big);
  char path[64] = "/tmp/popseg-digest-XXXXXX";
  int ok = data != NULL;
  for (size_t i = 0; ok && i < big; i++) data[i] = (unsigned char)(ps_rng_u64(11, 3, i) >> 17);
  if (rank == 0) {
    int fd = mkstemp(path);
    ok &= fd >= 0;
    if (fd >= 0) close(fd);
  }
  MPI_Bcast(path, (int)sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
  /* Portable, then with the SHA extensions where there are some (whole
   * blocks hashed two or four at a time: the 2-block file, the 9 whole
   * blocks of the largest). */
  for (int q = 0; q < 2 * (int)(sizeof sizes / sizeof sizes[0]); q++) {
    const size_t n = sizes[q % (sizeof sizes / sizeof sizes[0])];
    const int portable = q < (int)(sizeof sizes / sizeof sizes[0]);
    ps_sha256_set_portable(portable);
    char want[65], sha[65] = "", dig[65] = "", whole[65], got[65] = "";
    if (rank == 0) ok &= write_file(path, data, n);
    MPI_Barrier(MPI_COMM_WORLD);
    want_digest(data, n, want);
    ps_sha256_hex(data, n, whole);
    int one = ps_sha256_file_digest(path, sha, dig) == PS_OK && strcmp(sha, whole) == 0 &&
              strcmp(dig, want) == 0;
    /* The same bytes in memory (a CSV's, as it was parsed). */
    memset(sha, 0, sizeof sha);
    memset(dig, 0, sizeof dig);
    ps_sha256_buffer_digest(data, n, sha, dig);
    one &= strcmp(sha, whole) == 0 && strcmp(dig, want) == 0;
    /* The lines of blocks [1, nb) then [0, 1): each range's own. */
    const int64_t nb = (int64_t)((n + bs - 1) / bs);
    char *lines = malloc((size_t)nb * PS_DIGEST_LINE + 1);
    int ranges = lines != NULL;
    if (lines && nb > 0) {
      ranges &= ps_sha256_blocks(path, (int64_t)n, 1, nb, lines + PS_DIGEST_LINE) == PS_OK &&
                ps_sha256_blocks(path, (int64_t)n, 0, 1, lines) == PS_OK;
      ps_sha256_hex(lines, (size_t)nb * PS_DIGEST_LINE, got);
      ranges &= strcmp(got, want) == 0;
    }
    free(lines);
    ps_table_t *t = NULL;
    int shared = ps_table_create(0, 1, 0, 0, 1, 1, &t) == PS_OK;
    if (shared) {
      /* As the reader leaves a table whose file did not change. */
      snprintf(t->input, sizeof t->input, "%s", path);
      t->reload = ps_file_id(path, t->input_id) == 0;
      shared = ps_table_digest(t, MPI_COMM_WORLD) == PS_OK && strcmp(t->input_digest, want) == 0;
    }
    ps_table_destroy(&t);
    ps_error_clear();
    T_CHECK(ok && one && ranges && shared,
            "digest of a %zu-byte file: its definition in one pass, from memory, by block "
            "ranges and over the ranks (%s; %s)",
            n,
            portable                  ? "portable"
            : ps_sha256_accelerated() ? "SHA extensions"
                                      : "portable again",
            want);
    MPI_Barrier(MPI_COMM_WORLD);
  }
  /* A file that ends before the size its digest began with. */
  {
    char lines[2 * PS_DIGEST_LINE];
    ps_err_t e = ps_sha256_blocks(path, (int64_t)(big + bs), 9, 11, lines);
    T_CHECK(e == PS_ERR_IO && strstr(ps_error_message(), path) &&
                strstr(ps_error_message(), "changed while being read"),
            "a file shorter than its size is refused, naming it: %s", ps_error_message());
    ps_error_clear();
    e = ps_sha256_file_digest("/nonexistent/popseg-digest", NULL, lines);
    T_CHECK(e == PS_ERR_IO && strstr(ps_error_message(), "/nonexistent/popseg-digest: cannot open"),
            "a missing file is named: %s", ps_error_message());
    ps_error_clear();
  }
  /* A table whose file changed since its rows were read (input_id), and
   * one with no record of the file as read (reload 0: the reader itself
   * refuses a file that changes while it reads, t_digest.sh). */
  for (int during = 0; during < 2; during++) {
    ps_table_t *t = NULL;
    ps_err_t e = ps_table_create(0, 1, 0, 0, 1, 1, &t);
    if (e == PS_OK) {
      snprintf(t->input, sizeof t->input, "%s", path);
      t->reload = ps_file_id(path, t->input_id) == 0 && !during;
      t->input_id[3]--; /* an older modification time */
      e = ps_table_digest(t, MPI_COMM_WORLD);
    }
    T_CHECK(e == PS_ERR_IO && strstr(ps_error_message(), path) &&
                strstr(ps_error_message(),
                       during ? "not known as it was when its rows were read"
                              : "changed while popseg ran (its modification time differs") &&
                t && t->input_digest[0] == '\0',
            "a file %s gets no digest, naming it: %s",
            during ? "not known as its rows were read" : "changed since its rows were read",
            ps_error_message());
    ps_table_destroy(&t);
    ps_error_clear();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) unlink(path);
  free(data);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  T_INIT();
  char hex[65];
  static const struct {
    const char *msg, *want;
  } vec[] = {{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
             {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
             {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"}};
  for (int pass = 0; pass < 2; pass++) {
    ps_sha256_set_portable(pass == 0);
    int ok = 1;
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
      ps_sha256_hex(vec[i].msg, strlen(vec[i].msg), hex);
      ok &= strcmp(hex, vec[i].want) == 0;
    }
    T_CHECK(ok, "FIPS 180-4 vectors (%s code)", pass == 0 ? "portable" : "accelerated or portable");
  }
  size_t big = (size_t)3 << 20;
  unsigned char *buf = malloc(big);
  int same = buf != NULL, cases = 0;
  for (size_t i = 0; buf && i < big; i++) buf[i] = (unsigned char)(ps_rng_u64(7, 1, i) >> 13);
  size_t lens[] = {big, big - 1, 1000003, 4096 * 3 + 17};
  for (size_t len = 0; buf && len < 300; len++, cases++) {
    char a[65], b[65];
    ps_sha256_set_portable(1);
    ps_sha256_hex(buf + len % 7, len, a);
    ps_sha256_set_portable(0);
    ps_sha256_hex(buf + len % 7, len, b);
    same &= strcmp(a, b) == 0;
  }
  for (size_t q = 0; buf && q < sizeof lens / sizeof lens[0]; q++, cases++) {
    char a[65], b[65];
    ps_sha256_set_portable(1);
    ps_sha256_hex(buf, lens[q], a);
    ps_sha256_set_portable(0);
    ps_sha256_hex(buf, lens[q], b);
    same &= strcmp(a, b) == 0;
  }
  T_CHECK(same, "accelerated = portable digest on %d buffers (0..299 bytes, 3 MiB) [%s]", cases,
          ps_sha256_accelerated() ? "SHA extensions used"
                                  : "no SHA extensions here: portable twice");
  digest_checks();
  free(buf);
  MPI_Finalize();
  return T_FINISH();
}
