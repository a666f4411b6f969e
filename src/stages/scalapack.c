/* scalapack.c - symmetric eigen-solve with ScaLAPACK on a 2-D BLACS grid.
 *
 * The matrix arrives replicated on every rank; each grid process copies out
 * its block-cyclic pieces, pdsyevd solves, and the eigenvectors are gathered
 * back to every rank with one sum-reduction in which each entry has a single
 * non-zero contributor (so the sum is exact). This is the only module that
 * declares BLACS/ScaLAPACK prototypes: Debian ships no header for them.
 */
#include "popseg/scalapack.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/reduce.h"

/* BLACS C interface (libscalapack-openmpi). */
extern int Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_gridinit(int *ctx, const char *order, int nprow, int npcol);
extern void Cblacs_gridinfo(int ctx, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int ctx);

/* ScaLAPACK (Fortran interface: everything by reference; character arguments
 * carry gfortran's hidden length arguments at the end). */
extern int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc,
                   const int *nprocs);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
                      const int *irsrc, const int *icsrc, const int *ictxt, const int *lld,
                      int *info);
extern void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia,
                     const int *ja, const int *desca, double *w, double *z, const int *iz,
                     const int *jz, const int *descz, double *work, const int *lwork, int *iwork,
                     const int *liwork, int *info, size_t jobz_len, size_t uplo_len);

void ps_scalapack_grid_shape(int size, int *rows, int *cols) {
  int r = 1;
  if (size < 1) size = 1;
  /* The largest divisor not above sqrt(size): every rank is in the grid. */
  for (int i = 1; (long)i * i <= size; i++)
    if (size % i == 0) r = i;
  *rows = r;
  *cols = size / r;
}

/* Global index of local index l in a block-cyclic dimension whose first block
 * is on process 0. */
static int64_t local_to_global(int64_t l, int nb, int p, int nprocs) {
  return ((l / nb) * nprocs + p) * nb + l % nb;
}

/* max_k |(A z_i)_k - w_i z_ik| for the eigenpair i; a is row-major [d][d],
 * z holds eigenvectors in rows. */
static double max_residual(const double *a, int64_t d, const double *w, const double *z,
                           int64_t i) {
  const double *v = z + i * d;
  double worst = 0.0;
  for (int64_t k = 0; k < d; k++) {
    double s = -w[i] * v[k];
    for (int64_t j = 0; j < d; j++) s += a[k * d + j] * v[j];
    if (fabs(s) > worst) worst = fabs(s);
  }
  return worst;
}

ps_err_t ps_scalapack_syevd(const double *a, int64_t d, int nb, MPI_Comm comm, double *w, double *z,
                            int *grid_rows, int *grid_cols) {
  ps_err_t err = PS_OK;
  int size, handle = -1, ctx = -1, in_grid = 0;
  int nprow = 1, npcol = 1, myrow = -1, mycol = -1;
  int n = 0, zero = 0, one = 1, info = 0, mloc = 0, nloc = 0, lld = 1, lwork = 0, liwork = 0;
  int desc_a[9], desc_z[9];
  double *a_loc = NULL, *z_loc = NULL, *work = NULL, *gather = NULL;
  int *iwork = NULL;
  MPI_Comm_size(comm, &size);

  /* Arguments are the same on every rank: the verdict needs no communication. */
  if (d < 1 || d > 46340) /* d * d must fit in an int for ScaLAPACK's indexing */
    err =
        ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                 "ScaLAPACK eigen-solve: matrix order %lld out of range [1, 46340]", (long long)d);
  else if (nb < 1)
    err = ps_error_opt(PS_ERR_ARG, __FILE__, __LINE__, "pca.block_size",
                       "ScaLAPACK eigen-solve: block size %d must be >= 1", nb);
  PS_AGREE(comm);

  n = (int)d;
  if (nb > n) nb = n; /* a block larger than the matrix only wastes the grid */
  ps_scalapack_grid_shape(size, &nprow, &npcol);
  /* The BLACS context gets its own duplicate of comm, so its traffic never
   * mixes with ours. */
  handle = Csys2blacs_handle(comm);
  ctx = handle;
  Cblacs_gridinit(&ctx, "Row-major", nprow, npcol);
  Cblacs_gridinfo(ctx, &nprow, &npcol, &myrow, &mycol);
  if (grid_rows) *grid_rows = nprow;
  if (grid_cols) *grid_cols = npcol;
  /* A rank outside the grid (myrow < 0) holds no pieces: it only joins the
   * agreements and the final gather, contributing zeros. */
  in_grid = ctx >= 0 && myrow >= 0 && mycol >= 0 && myrow < nprow && mycol < npcol;

  if (in_grid) {
    mloc = numroc_(&n, &nb, &myrow, &zero, &nprow);
    nloc = numroc_(&n, &nb, &mycol, &zero, &npcol);
    lld = mloc > 1 ? mloc : 1;
  }
  {
    size_t loc = (size_t)lld * (size_t)(nloc > 0 ? nloc : 1);
    a_loc = malloc(loc * sizeof *a_loc);
    z_loc = calloc(loc, sizeof *z_loc);
    gather = calloc((size_t)d * (size_t)d + (size_t)d, sizeof *gather);
  }
  if (!a_loc || !z_loc || !gather)
    err = ps_error(PS_ERR_MEM, __FILE__, __LINE__,
                   "out of memory for the ScaLAPACK eigen-solve of a %lld x %lld matrix",
                   (long long)d, (long long)d);
  if (err == PS_OK && in_grid) {
    descinit_(desc_a, &n, &n, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    if (info == 0) descinit_(desc_z, &n, &n, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    if (info != 0)
      err = ps_error(PS_ERR_LAPACK, __FILE__, __LINE__, "descinit failed: info = %d", info);
  }
  PS_AGREE(comm);

  if (in_grid) {
    /* Local arrays are column-major: local (li, lj) lives at li + lj * lld. */
    for (int lj = 0; lj < nloc; lj++) {
      int64_t gj = local_to_global(lj, nb, mycol, npcol);
      for (int li = 0; li < mloc; li++) {
        int64_t gi = local_to_global(li, nb, myrow, nprow);
        a_loc[(size_t)li + (size_t)lj * (size_t)lld] = a[gi * d + gj];
      }
    }
    /* Workspace query. The argument checks inside communicate over the grid,
     * so every grid process makes the call. */
    double wq = 0.0;
    int iq = 0, query = -1;
    pdsyevd_("V", "U", &n, a_loc, &one, &one, desc_a, w, z_loc, &one, &one, desc_z, &wq, &query,
             &iq, &query, &info, 1, 1);
    /* pdsyevd's query ignores what its back-transformation (pdormtr) needs:
     * with nb close to n the reported size is too small, pdormtr rejects it
     * and pdsyevd still returns info = 0 with wrong vectors. So also size for
     * pdormtr's documented minimum, max(nb (nb - 1) / 2, (nqc0 + mpc0) nb) +
     * nb nb (a block of margin on each local count for the submatrix offsets),
     * behind the 2 n words pdsyevd keeps in front of it; plus 1% slack. */
    double ormtr = (double)(mloc + nloc + 2 * nb) * nb, tri = (double)nb * (nb - 1) / 2.0;
    ormtr = (ormtr > tri ? ormtr : tri) + (double)nb * nb + 2.0 * n;
    double need = (wq > ormtr ? wq : ormtr) * 1.01 + 1024.0;
    if (info != 0) {
      err = ps_error(PS_ERR_LAPACK, __FILE__, __LINE__, "pdsyevd workspace query failed: info = %d",
                     info);
    } else if (need > (double)INT_MAX || iq > INT_MAX - 1024) {
      err = ps_error(PS_ERR_MEM, __FILE__, __LINE__,
                     "pdsyevd workspace for a %lld x %lld matrix exceeds 32-bit sizes",
                     (long long)d, (long long)d);
    } else {
      lwork = (int)need;
      liwork = iq + 1024;
      work = malloc((size_t)lwork * sizeof *work);
      iwork = malloc((size_t)liwork * sizeof *iwork);
      if (!work || !iwork)
        err = ps_error(PS_ERR_MEM, __FILE__, __LINE__,
                       "out of memory for the pdsyevd workspace (%d doubles)", lwork);
    }
  }
  PS_AGREE(comm);

  if (in_grid) {
    pdsyevd_("V", "U", &n, a_loc, &one, &one, desc_a, w, z_loc, &one, &one, desc_z, work, &lwork,
             iwork, &liwork, &info, 1, 1);
    if (info != 0)
      err = ps_error(PS_ERR_LAPACK, __FILE__, __LINE__,
                     "pdsyevd failed on a %lld x %lld matrix: info = %d (%s)", (long long)d,
                     (long long)d, info, info < 0 ? "bad argument" : "did not converge");
  }
  PS_AGREE(comm);

  /* Gather: global Z(gi, gj) is entry gi of eigenvector gj, i.e. z[gj][gi]. */
  if (in_grid) {
    for (int lj = 0; lj < nloc; lj++) {
      int64_t gj = local_to_global(lj, nb, mycol, npcol);
      for (int li = 0; li < mloc; li++) {
        int64_t gi = local_to_global(li, nb, myrow, nprow);
        gather[gj * d + gi] = z_loc[(size_t)li + (size_t)lj * (size_t)lld];
      }
    }
    /* Every grid process holds all eigenvalues; exactly one contributes them. */
    if (myrow == 0 && mycol == 0) memcpy(gather + d * d, w, (size_t)d * sizeof *w);
  }
  PS_TRY(ps_reduce_sum(gather, d * d + d, comm));
  memcpy(z, gather, (size_t)(d * d) * sizeof *z);
  memcpy(w, gather + d * d, (size_t)d * sizeof *w);

  /* ScaLAPACK reports some internal failures only on stdout (and info = 0),
   * so check a sample of eigenpairs, the extreme ones included. The gathered
   * data are the same on every rank; the agreement below covers a verdict
   * that rounds differently. */
  {
    double scale = fabs(w[0]) > fabs(w[d - 1]) ? fabs(w[0]) : fabs(w[d - 1]);
    double res = 0.0;
    for (int64_t k = 0; k < 8; k++) { /* 8 pairs spread over the spectrum, O(8 d^2) */
      double r = max_residual(a, d, w, z, k * (d - 1) / 7);
      if (r > res) res = r;
    }
    if (res > 1e-8 * scale + 1e-300)
      err = ps_error_opt(PS_ERR_LAPACK, __FILE__, __LINE__, "pca.block_size",
                         "pdsyevd returned inaccurate eigenvectors (residual %.3g for eigenvalues "
                         "up to %.3g) on a %dx%d grid with block size %d; try another block size",
                         res, scale, nprow, npcol, nb);
  }
  PS_AGREE(comm);

cleanup:
  if (in_grid) Cblacs_gridexit(ctx);
  if (handle >= 0) Cfree_blacs_system_handle(handle);
  free(a_loc);
  free(z_loc);
  free(work);
  free(iwork);
  free(gather);
  return err;
}
