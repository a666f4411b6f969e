/* test_sha256.c - SHA-256: the FIPS 180-4 test vectors, and the accelerated
 * path (SHA extensions) against the portable one on buffers of every length
 * around the block size and a few large ones; the background job, on the
 * CPUs the ranks leave idle (cpus.h). */
#define _GNU_SOURCE /* sched_getaffinity */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "popseg/cpus.h"
#include "popseg/rng.h"
#include "popseg/sha256.h"

/* ps_node_idle_cpus against its contract, with every rank on this machine
 * (as the tests run): rank 0 gets the CPUs below the configured count that
 * no rank's affinity holds, in order; the others get none. Open MPI binds 1
 * or 2 ranks to a core each, and oversubscribed ranks to none. */
static void idle_cpus_check(void) {
  int rank, cpus[1024];
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int n = ps_node_idle_cpus(MPI_COMM_WORLD, cpus, 1024);
  unsigned char mine[CPU_SETSIZE / 8] = {0}, used[CPU_SETSIZE / 8];
  cpu_set_t set;
  CPU_ZERO(&set);
  int ok = sched_getaffinity(0, sizeof set, &set) == 0;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) mine[c / 8] |= (unsigned char)(1u << (c % 8));
  MPI_Allreduce(mine, used, (int)sizeof mine, MPI_BYTE, MPI_BOR, MPI_COMM_WORLD);
  int want = 0;
  const long conf = sysconf(_SC_NPROCESSORS_CONF);
  for (int c = 0; c < conf && c < CPU_SETSIZE; c++) {
    if (used[c / 8] & (1u << (c % 8))) continue;
    if (rank == 0) ok &= want < n && cpus[want] == c;
    want++;
  }
  ok &= rank == 0 ? n == want : n == 0;
  int n0 = n;
  MPI_Bcast(&n0, 1, MPI_INT, 0, MPI_COMM_WORLD);
  T_CHECK(ok, "ps_node_idle_cpus: the CPUs no rank may run on, on rank 0 (%d here)", n0);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  T_INIT();
  idle_cpus_check();
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
  /* The background job gives the file's digest, reports a missing file at
   * finish, and can be cancelled part-way. */
  {
    char path[] = "/tmp/popseg-sha-XXXXXX", a[65] = "", b[65] = "", c[65] = "x";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    size_t big = (size_t)48 << 20;
    unsigned char *data = malloc(big);
    int ok = f && data;
    for (size_t i = 0; ok && i < big; i++) data[i] = (unsigned char)(i * 2654435761u >> 24);
    ok = ok && fwrite(data, 1, big, f) == big;
    if (f) fclose(f);
    ps_sha256_job_t *job = NULL;
    ok = ok && ps_sha256_file(path, a) == PS_OK;
    ok = ok && ps_sha256_job_start(path, NULL, 0, &job) == PS_OK &&
         ps_sha256_job_finish(&job, b) == PS_OK;
    ps_sha256_hex(data ? data : (unsigned char *)"", data ? big : 0, c);
    T_CHECK(ok && strcmp(a, b) == 0 && strcmp(a, c) == 0 && !job,
            "a background job's digest = the file's = the buffer's (48 MiB)");
    /* On given CPUs (the first idle one, or CPU 0), and on none that exists
     * (the thread keeps the caller's): the same digest. */
    int cpus[1024], bogus = 100000;
    int n_idle = ps_node_idle_cpus(MPI_COMM_SELF, cpus, 1024);
    if (n_idle == 0) cpus[0] = 0;
    char d[65] = "", d2[65] = "";
    ok =
        ps_sha256_job_start(path, cpus, 1, &job) == PS_OK && ps_sha256_job_finish(&job, d) == PS_OK;
    ok = ok && ps_sha256_job_start(path, &bogus, 1, &job) == PS_OK &&
         ps_sha256_job_finish(&job, d2) == PS_OK;
    T_CHECK(ok && strcmp(a, d) == 0 && strcmp(a, d2) == 0,
            "a job on CPU %d, or on a CPU that does not exist, gives the same digest", cpus[0]);
    ps_error_clear();
    ok = ps_sha256_job_start("/nonexistent/popseg-sha", NULL, 0, &job) == PS_OK;
    ps_err_t e = ps_sha256_job_finish(&job, b);
    T_CHECK(ok && e == PS_ERR_IO &&
                strstr(ps_error_message(), "/nonexistent/popseg-sha: cannot open"),
            "a job on a missing file fails at finish, naming it: %s", ps_error_message());
    ps_error_clear();
    ok = ps_sha256_job_start(path, NULL, 0, &job) == PS_OK;
    ps_sha256_job_cancel(&job);
    T_CHECK(ok && !job, "a job can be cancelled (joined, freed)");
    ps_sha256_job_cancel(&job); /* NULL: no-op */
    unlink(path);
    free(data);
  }
  free(buf);
  MPI_Finalize();
  return T_FINISH();
}
