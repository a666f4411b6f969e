/* scalapack.h - symmetric eigen-solve on a 2-D BLACS grid.
 *
 * The only module that declares BLACS/ScaLAPACK prototypes (Debian ships no
 * header for them).
 */
#ifndef POPSEG_SCALAPACK_H
#define POPSEG_SCALAPACK_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"

/* Choose a near-square grid rows x cols = size with rows <= cols
 * (1 -> 1x1, 2 -> 1x2, 3 -> 1x3, 4 -> 2x2, 6 -> 2x3). Not collective. */
void ps_scalapack_grid_shape(int size, int *rows, int *cols);

/* Collective. Solve a = z diag(w) z^T for a symmetric d x d matrix a that is
 * replicated on every rank of comm (row-major [d][d]). The matrix is laid out
 * block-cyclically (block nb) on a grid from ps_scalapack_grid_shape, solved
 * with pdsyevd, and the eigenvectors are gathered back to every rank.
 * w: [d] eigenvalues ascending; z: [d][d] row-major with ROW i = eigenvector
 * for w[i]. grid_rows/grid_cols (may be NULL) report the grid used. */
ps_err_t ps_scalapack_syevd(const double *a, int64_t d, int nb, MPI_Comm comm, double *w, double *z,
                            int *grid_rows, int *grid_cols);

#endif
