/* io_bin.h - read the raw matrices written by tests/oracle/pca_oracle.py.
 *
 * Format: int64 rows, int64 cols (little-endian), then rows * cols float64
 * in row-major order. Test-only helper; all functions are static.
 */
#ifndef POPSEG_TEST_IO_BIN_H
#define POPSEG_TEST_IO_BIN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Rows [r0, r0 + count) of the matrix in path (count < 0: to the end).
 * Returns a malloc'd [count][cols] buffer (at least one element) or NULL;
 * *rows and *cols get the whole file's shape. */
static inline double *bin_read_rows(const char *path, int64_t r0, int64_t count, int64_t *rows,
                                    int64_t *cols) {
  FILE *f = fopen(path, "rb");
  int64_t shape[2];
  double *buf = NULL;
  if (!f) {
    fprintf(stderr, "io_bin: cannot open %s\n", path);
    return NULL;
  }
  if (fread(shape, sizeof(int64_t), 2, f) != 2 || shape[0] < 0 || shape[1] < 0) goto bad;
  *rows = shape[0];
  *cols = shape[1];
  if (count < 0) count = shape[0] - r0;
  if (r0 < 0 || r0 + count > shape[0]) goto bad;
  buf = malloc((size_t)(count * shape[1] > 0 ? count * shape[1] : 1) * sizeof(double));
  if (!buf) goto bad;
  if (fseek(f, (long)(16 + r0 * shape[1] * 8), SEEK_SET) != 0) goto bad;
  if (fread(buf, sizeof(double), (size_t)(count * shape[1]), f) != (size_t)(count * shape[1]))
    goto bad;
  fclose(f);
  return buf;
bad:
  fprintf(stderr, "io_bin: cannot read rows %lld..%lld of %s\n", (long long)r0,
          (long long)(r0 + count), path);
  free(buf);
  fclose(f);
  return NULL;
}

/* The whole matrix. */
static inline double *bin_read(const char *path, int64_t *rows, int64_t *cols) {
  return bin_read_rows(path, 0, -1, rows, cols);
}

#endif
