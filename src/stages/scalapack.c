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

/* A process's place on the grid and its local pieces. */
typedef struct {
  int ctx, in_grid;
  int nprow, npcol, myrow, mycol;
  int n, nb, mloc, nloc, lld;
  int desc_a[9], desc_z[9];
  double *a_loc, *z_loc; /* [lld][nloc] column-major */
} grid_t;

/* Not collective (BLACS calls aside). Local sizes and descriptors; the
 * buffers. */
static ps_err_t grid_alloc(grid_t *g, int64_t d) {
  ps_err_t err = PS_OK;
  int zero = 0, info = 0;
  if (g->in_grid) {
    g->mloc = numroc_(&g->n, &g->nb, &g->myrow, &zero, &g->nprow);
    g->nloc = numroc_(&g->n, &g->nb, &g->mycol, &zero, &g->npcol);
    g->lld = g->mloc > 1 ? g->mloc : 1;
  }
  size_t loc = (size_t)g->lld * (size_t)(g->nloc > 0 ? g->nloc : 1);
  g->a_loc = malloc(loc * sizeof *g->a_loc);
  g->z_loc = calloc(loc, sizeof *g->z_loc);
  PS_CHECK(g->a_loc && g->z_loc, PS_ERR_MEM,
           "out of memory for the ScaLAPACK eigen-solve of a %lld x %lld matrix", (long long)d,
           (long long)d);
  if (g->in_grid) {
    descinit_(g->desc_a, &g->n, &g->n, &g->nb, &g->nb, &zero, &zero, &g->ctx, &g->lld, &info);
    if (info == 0)
      descinit_(g->desc_z, &g->n, &g->n, &g->nb, &g->nb, &zero, &zero, &g->ctx, &g->lld, &info);
    PS_CHECK(info == 0, PS_ERR_LAPACK, "descinit failed: info = %d", info);
  }
cleanup:
  return err;
}

/* Not collective: copy this process's block-cyclic pieces of a [d][d]. */
static void scatter_local(const double *a, int64_t d, grid_t *g) {
  /* Local arrays are column-major: local (li, lj) lives at li + lj * lld. */
  for (int lj = 0; lj < g->nloc; lj++) {
    int64_t gj = local_to_global(lj, g->nb, g->mycol, g->npcol);
    for (int li = 0; li < g->mloc; li++) {
      int64_t gi = local_to_global(li, g->nb, g->myrow, g->nprow);
      g->a_loc[(size_t)li + (size_t)lj * (size_t)g->lld] = a[gi * d + gj];
    }
  }
}

/* Grid-collective. Query and allocate pdsyevd's workspace. */
static ps_err_t workspace(grid_t *g, int64_t d, double *w, double **work, int *lwork, int **iwork,
                          int *liwork) {
  ps_err_t err = PS_OK;
  double wq = 0.0;
  int iq = 0, query = -1, one = 1, info = 0, nb = g->nb;
  /* The argument checks inside communicate over the grid, so every grid
   * process makes the call. */
  pdsyevd_("V", "U", &g->n, g->a_loc, &one, &one, g->desc_a, w, g->z_loc, &one, &one, g->desc_z,
           &wq, &query, &iq, &query, &info, 1, 1);
  PS_CHECK(info == 0, PS_ERR_LAPACK, "pdsyevd workspace query failed: info = %d", info);
  /* pdsyevd's query ignores what its back-transformation (pdormtr) needs:
   * with nb close to n the reported size is too small, pdormtr rejects it
   * and pdsyevd still returns info = 0 with wrong vectors. So also size for
   * pdormtr's documented minimum, max(nb (nb - 1) / 2, (nqc0 + mpc0) nb) +
   * nb nb (a block of margin on each local count for the submatrix offsets),
   * behind the 2 n words pdsyevd keeps in front of it; plus 1% slack. */
  double ormtr = (double)(g->mloc + g->nloc + 2 * nb) * nb, tri = (double)nb * (nb - 1) / 2.0;
  ormtr = (ormtr > tri ? ormtr : tri) + (double)nb * nb + 2.0 * g->n;
  double need = (wq > ormtr ? wq : ormtr) * 1.01 + 1024.0;
  PS_CHECK(need <= (double)INT_MAX && iq <= INT_MAX - 1024, PS_ERR_MEM,
           "pdsyevd workspace for a %lld x %lld matrix exceeds 32-bit sizes", (long long)d,
           (long long)d);
  *lwork = (int)need;
  *liwork = iq + 1024;
  *work = malloc((size_t)*lwork * sizeof **work);
  *iwork = malloc((size_t)*liwork * sizeof **iwork);
  PS_CHECK(*work && *iwork, PS_ERR_MEM, "out of memory for the pdsyevd workspace (%d doubles)",
           *lwork);
cleanup:
  return err;
}

/* Collective. Eigenvectors back to every rank with one sum-reduction in which
 * each entry has a single non-zero contributor (so the sum is exact). */
static ps_err_t gather(const grid_t *g, int64_t d, double *w, double *z, double *buf,
                       MPI_Comm comm) {
  ps_err_t err = PS_OK;
  /* Global Z(gi, gj) is entry gi of eigenvector gj, i.e. z[gj][gi]. */
  if (g->in_grid) {
    for (int lj = 0; lj < g->nloc; lj++) {
      int64_t gj = local_to_global(lj, g->nb, g->mycol, g->npcol);
      for (int li = 0; li < g->mloc; li++) {
        int64_t gi = local_to_global(li, g->nb, g->myrow, g->nprow);
        buf[gj * d + gi] = g->z_loc[(size_t)li + (size_t)lj * (size_t)g->lld];
      }
    }
    /* Every grid process holds all eigenvalues; exactly one contributes them. */
    if (g->myrow == 0 && g->mycol == 0) memcpy(buf + d * d, w, (size_t)d * sizeof *w);
  }
  PS_TRY(ps_reduce_sum(buf, d * d + d, comm));
  memcpy(z, buf, (size_t)(d * d) * sizeof *z);
  memcpy(w, buf + d * d, (size_t)d * sizeof *w);
cleanup:
  return err;
}

/* Not collective. ScaLAPACK reports some internal failures only on stdout
 * (and info = 0), so check a sample of eigenpairs, the extreme ones included
 * (8 pairs spread over the spectrum, O(8 d^2)). */
static ps_err_t check_residual(const double *a, int64_t d, const double *w, const double *z,
                               const grid_t *g) {
  double scale = fabs(w[0]) > fabs(w[d - 1]) ? fabs(w[0]) : fabs(w[d - 1]);
  double res = 0.0;
  for (int64_t k = 0; k < 8; k++) {
    double r = max_residual(a, d, w, z, k * (d - 1) / 7);
    if (r > res) res = r;
  }
  if (res > 1e-8 * scale + 1e-300)
    return ps_error_opt(PS_ERR_LAPACK, __FILE__, __LINE__, "pca.block_size",
                        "pdsyevd returned inaccurate eigenvectors (residual %.3g for eigenvalues "
                        "up to %.3g) on a %dx%d grid with block size %d; try another block size",
                        res, scale, g->nprow, g->npcol, g->nb);
  return PS_OK;
}

ps_err_t ps_scalapack_syevd(const double *a, int64_t d, int nb, MPI_Comm comm, double *w, double *z,
                            int *grid_rows, int *grid_cols) {
  ps_err_t err = PS_OK;
  int size, handle = -1, one = 1, info = 0, lwork = 0, liwork = 0;
  grid_t g;
  double *work = NULL, *buf = NULL;
  int *iwork = NULL;
  MPI_Comm_size(comm, &size);
  memset(&g, 0, sizeof g);
  g.ctx = -1;
  g.lld = 1;
  /* Arguments are the same on every rank: the verdict needs no communication. */
  if (d < 1 || d > 46340) /* d * d must fit in an int for ScaLAPACK's indexing */
    err =
        ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                 "ScaLAPACK eigen-solve: matrix order %lld out of range [1, 46340]", (long long)d);
  else if (nb < 1)
    err = ps_error_opt(PS_ERR_ARG, __FILE__, __LINE__, "pca.block_size",
                       "ScaLAPACK eigen-solve: block size %d must be >= 1", nb);
  PS_AGREE(comm);
  g.n = (int)d;
  g.nb = nb > g.n ? g.n : nb; /* a block larger than the matrix only wastes the grid */
  ps_scalapack_grid_shape(size, &g.nprow, &g.npcol);
  /* The BLACS context gets its own duplicate of comm, so its traffic never
   * mixes with ours. */
  handle = Csys2blacs_handle(comm);
  g.ctx = handle;
  Cblacs_gridinit(&g.ctx, "Row-major", g.nprow, g.npcol);
  Cblacs_gridinfo(g.ctx, &g.nprow, &g.npcol, &g.myrow, &g.mycol);
  if (grid_rows) *grid_rows = g.nprow;
  if (grid_cols) *grid_cols = g.npcol;
  /* A rank outside the grid (myrow < 0) holds no pieces: it only joins the
   * agreements and the final gather, contributing zeros. */
  g.in_grid = g.ctx >= 0 && g.myrow >= 0 && g.mycol >= 0 && g.myrow < g.nprow && g.mycol < g.npcol;
  err = grid_alloc(&g, d);
  buf = calloc((size_t)d * (size_t)d + (size_t)d, sizeof *buf);
  PS_CHECK_ALL(comm, buf != NULL, PS_ERR_MEM, "out of memory for the eigenvectors");
  if (g.in_grid) {
    scatter_local(a, d, &g);
    err = workspace(&g, d, w, &work, &lwork, &iwork, &liwork);
  }
  PS_AGREE(comm);
  if (g.in_grid) {
    pdsyevd_("V", "U", &g.n, g.a_loc, &one, &one, g.desc_a, w, g.z_loc, &one, &one, g.desc_z, work,
             &lwork, iwork, &liwork, &info, 1, 1);
    if (info != 0)
      err = ps_error(PS_ERR_LAPACK, __FILE__, __LINE__,
                     "pdsyevd failed on a %lld x %lld matrix: info = %d (%s)", (long long)d,
                     (long long)d, info, info < 0 ? "bad argument" : "did not converge");
  }
  PS_AGREE(comm);
  PS_TRY(gather(&g, d, w, z, buf, comm));
  /* The gathered data are the same on every rank; the agreement covers a
   * verdict that rounds differently. */
  err = check_residual(a, d, w, z, &g);
  PS_AGREE(comm);
cleanup:
  if (g.in_grid) Cblacs_gridexit(g.ctx);
  if (handle >= 0) Cfree_blacs_system_handle(handle);
  free(g.a_loc);
  free(g.z_loc);
  free(work);
  free(iwork);
  free(buf);
  return err;
}
