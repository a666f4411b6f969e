/* synth.h - a census-like synthetic table of any size (popseg synth).
 *
 * The 34 features of the ACS county table with realistic ranges: counts
 * (TotalPop log-normal, Men + Women = TotalPop, Citizen, Employed), shares in
 * percent that sum to 100 within their groups (race, occupation, commute, work
 * type), incomes and their margins of error, poverty rates. Each row belongs
 * to one of a mixture of segments whose profiles overlap (k-means needs tens
 * of iterations, not three). Every value is a pure function of (seed, global
 * row, feature), so the table is the same whatever the rank count, and rows
 * are generated piece by piece as they are written: memory stays bounded.
 */
#ifndef POPSEG_SYNTH_H
#define POPSEG_SYNTH_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/opt.h"

typedef struct {
  int64_t rows;     /* rows to generate (required) */
  int64_t features; /* default 34: the census features; fewer take the first ones, more add
                       x035, x036, ... */
  int64_t segments; /* default 8 */
  uint64_t seed;    /* default 0 */
} ps_synth_opts_t;

extern const ps_opt_t ps_synth_options[];
void ps_synth_opts_default(ps_synth_opts_t *o);

/* Not collective. The values of rows [first, first + n) into x [n][features],
 * their ids (first + 1, ...) into ids [n] and names ("synth-000000001") into
 * names [n][PS_SYNTH_NAME_WIDTH] (any of them may be NULL); segment [n] (may
 * be NULL) receives each row's true segment. */
#define PS_SYNTH_NAME_WIDTH 32
void ps_synth_rows(const ps_synth_opts_t *o, int64_t first, int64_t n, double *x, int64_t *ids,
                   char *names, int32_t *segment);
/* The name of feature j (0-based) into buf (at least 16 bytes). */
void ps_synth_feature_name(int64_t j, char *buf);

/* Collective. Write the table to path (a popseg table file, see table.h),
 * every rank its block of rows, generated as it is written. */
ps_err_t ps_synth_write(const ps_synth_opts_t *o, const char *path, int force, MPI_Comm comm);

#endif
