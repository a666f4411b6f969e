/* segments.h - the segments CSV: one line per input row, written in parallel. */
#ifndef POPSEG_SEGMENTS_H
#define POPSEG_SEGMENTS_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/table.h"

/* Collective. Write the segments CSV (header: id,name,segment,distance,pc1..pcK)
 * with MPI-IO: each rank formats its rows, offsets come from an exclusive scan,
 * rows stay in global order (ranks must hold consecutive row blocks in rank
 * order, as ps_block_range gives; zero-row ranks are fine). Names are quoted
 * per RFC 4180 when they hold a comma, quote, CR or LF; numbers are printed
 * with the fewest of 15-17 significant digits that read back exactly ("%.17g"
 * at worst); lines end with LF. labels/distance are [n_local].
 * Written to a temporary name and renamed (see outfile.h); an existing file is
 * an error unless force. Returns the same code on every rank. */
ps_err_t ps_segments_write(const char *path, int force, const ps_table_t *t, const int32_t *labels,
                           const double *distance, const double *scores /* [n_local][k] */,
                           int64_t k, MPI_Comm comm);
/* The same with a subsegment column after segment: the code (codes
 * [m][code_w]) of each row's sub-segment sub [n_local]; codes NULL: none. */
ps_err_t ps_segments_write_sub(const char *path, int force, const ps_table_t *t,
                               const int32_t *labels, const double *distance, const double *scores,
                               int64_t k, const char *codes, size_t code_w, const int32_t *sub,
                               MPI_Comm comm);
/* Tests only: the largest byte count of one MPI-IO write call (0 restores the
 * default of 1 GiB), so that chunking can be tested with small files. */
void ps_segments_set_write_chunk(size_t bytes);

#endif
