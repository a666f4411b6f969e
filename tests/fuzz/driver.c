/* driver.c - a main() for the libFuzzer harnesses without libFuzzer, so that
 * they build with gcc too and replay saved inputs as regression tests.
 *
 *   fuzz_TARGET_regress FILE|DIR...
 *
 * Calls LLVMFuzzerInitialize (if the harness has one) once, then
 * LLVMFuzzerTestOneInput on the bytes of every FILE, and of every regular
 * file directly inside every DIR (in name order). Prints "ran: PATH (N
 * bytes)" after each input and "ran N inputs" at the end. Exit status 0 when
 * every input ran; 2 when a file cannot be read; a harness that finds a bug
 * aborts (a crash), so its status is the signal's.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness: weak, so that it is NULL when absent. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static long g_ran;

/* Read path whole into a new buffer; NULL and a message on failure. */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  if (!f) {
    fprintf(stderr, "driver: %s: cannot open\n", path);
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 4096;
      uint8_t *nb = realloc(buf, nc);
      if (!nb) {
        fprintf(stderr, "driver: %s: out of memory\n", path);
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
      cap = nc;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    fprintf(stderr, "driver: %s: read error\n", path);
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *len = n;
  return buf;
}

static int run_file(const char *path) {
  size_t len = 0;
  uint8_t *buf = read_file(path, &len);
  if (!buf) return 2;
  /* An exact-size copy, so that a harness that reads past the input is
   * caught by a sanitizer build as it would be under libFuzzer. */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    return 2;
  }
  if (len) memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  printf("ran: %s (%zu bytes)\n", path, len);
  fflush(stdout);
  g_ran++;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir) {
  DIR *d = opendir(dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  if (!d) {
    fprintf(stderr, "driver: %s: cannot open the directory\n", dir);
    return 2;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      char **nn = realloc(names, nc * sizeof *nn);
      if (!nn) {
        rc = 2;
        break;
      }
      names = nn;
      cap = nc;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) {
      rc = 2;
      break;
    }
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n > 1) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) rc = run_file(names[i]);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  int rc = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc && rc == 0; i++) {
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
      rc = run_dir(argv[i]);
    else
      rc = run_file(argv[i]);
  }
  printf("ran %ld inputs\n", g_ran);
  return rc;
}
