/* kmeans_io.h - the raw binary arrays the k-means oracle writes for the C tests.
 *
 * Format: int64 rows, int64 cols, then rows*cols float64 in row-major order,
 * all little-endian (what numpy's tobytes() gives on x86-64).
 */
#ifndef POPSEG_TEST_KMEANS_IO_H
#define POPSEG_TEST_KMEANS_IO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Shape of the array in path; 0 on success. */
static inline int kio_shape(const char *path, int64_t *rows, int64_t *cols) {
  FILE *fp = fopen(path, "rb");
  int64_t h[2];
  if (!fp) return -1;
  size_t got = fread(h, sizeof(int64_t), 2, fp);
  fclose(fp);
  if (got != 2 || h[0] < 0 || h[1] < 0) return -1;
  *rows = h[0];
  *cols = h[1];
  return 0;
}

/* Rows [off, off + cnt) of the array in path, malloc'd [cnt][cols] (at least
 * one element); NULL on failure. */
static inline double *kio_read_rows(const char *path, int64_t off, int64_t cnt, int64_t *cols) {
  int64_t rows, c;
  if (kio_shape(path, &rows, &c) != 0 || off < 0 || cnt < 0 || off + cnt > rows) return NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  double *buf = malloc((size_t)(cnt * c > 0 ? cnt * c : 1) * sizeof(double));
  int ok =
      buf &&
      fseek(fp, (long)(2 * sizeof(int64_t) + (size_t)(off * c) * sizeof(double)), SEEK_SET) == 0 &&
      fread(buf, sizeof(double), (size_t)(cnt * c), fp) == (size_t)(cnt * c);
  fclose(fp);
  if (!ok) {
    free(buf);
    return NULL;
  }
  *cols = c;
  return buf;
}

static inline double *kio_read_all(const char *path, int64_t *rows, int64_t *cols) {
  if (kio_shape(path, rows, cols) != 0) return NULL;
  return kio_read_rows(path, 0, *rows, cols);
}

/* Write a [rows][cols] array; 0 on success. */
static inline int kio_write(const char *path, const double *a, int64_t rows, int64_t cols) {
  FILE *fp = fopen(path, "wb");
  int64_t h[2] = {rows, cols};
  if (!fp) return -1;
  int ok = fwrite(h, sizeof(int64_t), 2, fp) == 2 &&
           fwrite(a, sizeof(double), (size_t)(rows * cols), fp) == (size_t)(rows * cols);
  return (fclose(fp) == 0 && ok) ? 0 : -1;
}

#endif
