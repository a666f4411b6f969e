/* stats.h - one pass over the rows for everything scaling and PCA need: the
 * minimum, maximum, mean and covariance of every feature, in original units.
 *
 * The scaled covariance follows from the raw one and the scaling (it is
 * affine): cov_s[i][j] = cov[i][j] f_i f_j. So the table is read once for the
 * statistics and once for the projection, and never rewritten in place. Sums
 * are taken of x - s, s a sample row (the first row of the table), which
 * keeps them small for data with large means (the shift of "shifted data"
 * variance algorithms); the centred cross-products follow as
 * S2 - S1 S1^T / n.
 *
 * Columns of extreme magnitude (a range above 2^400, whose squares overflow,
 * or below 2^-400, whose squares underflow) are summed in units of a power of
 * two near their range: a second pass, only for such tables. The variance and
 * covariance are then stored in those units (var[j] unit[j]^2 is the
 * variance), so that a scaled covariance, cov[i][j] (f_i unit_i)(f_j unit_j),
 * stays representable when the raw one is not.
 */
#ifndef POPSEG_STATS_H
#define POPSEG_STATS_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/matrix.h"

typedef struct ps_stats {
  int64_t n, d;
  double *min, *max; /* [d] */
  double *mean;      /* [d] */
  double *var;       /* [d] population variance (n divisor), in unit^2 */
  double *cov;       /* [d][d] covariance (n - 1 divisor) in unit_i unit_j, full; NULL unless
                        asked for */
  double *unit;      /* [d] powers of two: 1 unless a column's range is beyond 2^+-400 */
  int weighted;      /* row weights were given: mean, var and cov are weighted */
  double wsum;       /* the total weight (n unweighted) */
  double denom;      /* the covariance's divisor: n - 1, or weighted the total weight */
  int nonfinite;     /* 1: some value of x is a NaN or infinite (every rank agrees), and the
                        statistics mean nothing. The pass finds it for free, so the pipeline
                        names the value (ps_table_check_finite) only then, instead of a pass
                        of its own over every table */
} ps_stats_t;

/* Collective. The statistics of the rows of x over all ranks (ranks may hold
 * none; n >= 1). with_cov: also the covariance (ps_stats_crossprod per block
 * of rows;
 * otherwise only the diagonal). Every rank gets the same values. *out:
 * ps_stats_destroy. */
ps_err_t ps_stats_compute(const ps_matrix_t *x, int with_cov, MPI_Comm comm, ps_stats_t **out);
/* The same with row weights w [n_local] (finite, >= 0, a positive total;
 * NULL: unweighted): min and max over every row, the weighted mean, the
 * weighted population variance and the covariance sum w (x - mu)(x - mu)^T /
 * sum w. */
ps_err_t ps_stats_compute_w(const ps_matrix_t *x, const double *w, int with_cov, MPI_Comm comm,
                            ps_stats_t **out);

/* Not collective. The upper triangle of y^T y for the rows y [m][d]
 * (row-major) into cp [d][d]: cp[i * d + j] for j >= i, the lower triangle
 * is scratch. With AVX-512, or AVX2 and FMA, and d <= 64, each is the sum
 * over the rows in order of y[r][i] y[r][j], one fused multiply-add per row
 * (the bits of that loop with fma(), so the same on both instruction sets),
 * and 1 is returned; otherwise dsyrk (0).
 * POPSEG_STATS_BLAS=1 in the environment forces dsyrk. */
int ps_stats_crossprod(const double *y, int64_t m, int64_t d, double *cp);
/* Not collective. The rows x [m][d] of one block, in row order: their
 * extremes into mn/mx [d] (mn[j] = x < mn[j] ? x : mn[j], max alike, so a
 * NaN row value is skipped), y [m][d] = x * inv - sinv (a multiply, then a
 * subtraction), and, sum not NULL, y's column sums added to sum [d] and, sq
 * not NULL, its squares (a multiply, then an add) to sq [d]: the bits of
 * that loop, one row after another. *nonfinite is set to 1 if some value
 * of x is a NaN or infinite (left as it was otherwise). With AVX-512, or
 * AVX2 and FMA, and d <= 64 the columns sit in the lanes of registers (1 is
 * returned); otherwise the plain loop (0). */
int ps_stats_scale_rows(const double *x, int64_t m, int64_t d, const double *inv,
                        const double *sinv, double *mn, double *mx, double *y, double *sum,
                        double *sq, int *nonfinite);
void ps_stats_destroy(ps_stats_t **s);

#endif
