/* h5io.h - all HDF5 input and output (the only module that includes hdf5.h).
 *
 * Files are opened with the MPI-IO driver; every rank reads and writes its
 * own contiguous row block with collective hyperslab transfers. HDF5's own
 * error stack printing is off (unless debug); failures become one line naming
 * the file and dataset ("model.h5: /pca/components: expected [p][34], found
 * [5][33]"). Every function returns the same (agreed) code on all ranks.
 *
 * Each rank's transfer is split into collective calls of at most
 * POPSEG_IO_CHUNK_BYTES bytes (environment; default and maximum 1 GiB), so
 * MPI-IO byte counts stay below INT_MAX; all ranks make the same number of
 * calls (ranks with fewer or no rows select nothing in the surplus ones).
 *
 * Strings are fixed-length, NUL-padded, UTF-8 (h5py reads them as bytes).
 * Integers are little-endian, floats IEEE float64 little-endian.
 *
 * Table layout (import output, run input):
 *   /features        float64 [n][d], chunked (about 1 MiB of whole rows)
 *   /feature_names   string [d]
 *   /rows/id         int64 [n]
 *   /rows/name       string [n]
 *   root attributes  source, source_sha256, popseg_version, dropped_examples
 *                    (strings), n_read, n_dropped (int64)
 * The reader also accepts other writers' tables: any float type for
 * /features, any integer type for /rows/id, fixed-length strings of any
 * width (a string filling its width comes back one byte wider, NUL-terminated),
 * string attributes of fixed or variable length; all attributes optional.
 * Variable-length string datasets are refused.
 *
 * Results layout (fit; n rows, d features, p components, K kept, k clusters):
 *   /rows/id int64 [n], /rows/name string [n], /feature_names string [d]
 *   /projection float64 [n][K]
 *   /scale      offset, factor float64 [d]; attr kind ("minmax" | "standard" | "none")
 *   /pca        mean [d], components [p][d], explained_variance,
 *               explained_variance_ratio, singular_values [p] (float64);
 *               attrs n_kept, n_samples (int64), solver (string), total_variance
 *   /kmeans     centroids [k][K], centroids_features [k][d], distance [n],
 *               run_inertia [n_runs] (float64), labels int32 [n], sizes int64 [k],
 *               run_iterations int32 [n_runs]; attrs inertia (float64),
 *               iterations, converged, n_init, best_run (int64), seed (uint64),
 *               init (string)
 *   root attrs  popseg_version, command_line, source, source_sha256 (strings),
 *               n_ranks, n_rows, n_read, n_dropped (int64), time_read_s,
 *               time_scale_s, time_pca_s, time_kmeans_s, time_write_s (float64)
 * Predictions layout (scale == NULL): /rows/id, /rows/name, /projection,
 * /kmeans/labels, /kmeans/distance; root attrs as above without n_read and
 * n_dropped, plus model (string: the model file used).
 * Attribute values and replicated datasets are taken from rank 0.
 */
#ifndef POPSEG_H5IO_H
#define POPSEG_H5IO_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/model.h"
#include "popseg/table.h"

/* Turn HDF5 error printing on (debug) or off (default). Not collective. */
void ps_h5_set_debug(int debug);

/* Non-zero if the file starts with the HDF5 signature. Not collective. */
int ps_h5_is_hdf5(const char *path);

/* Collective. Shape of /features without reading it (for the memory check). */
ps_err_t ps_h5_probe(const char *path, MPI_Comm comm, int64_t *n, int64_t *d);

/* Collective. Read the table, each rank its balanced row block (ps_block_range).
 * Errors: PS_ERR_IO (missing/unreadable file), PS_ERR_FORMAT (not HDF5, a
 * dataset missing or of the wrong rank, type or length). *out: free with
 * ps_table_destroy. */
ps_err_t ps_h5_read_table(const char *path, MPI_Comm comm, ps_table_t **out);

/* Collective. Write a distributed table (import output). Temporary name + rename;
 * refuses to overwrite unless force. Row blocks must tile [0, n) in rank order
 * (any sizes, zero allowed); widths and d must agree across ranks. */
ps_err_t ps_h5_write_table(const char *path, int force, const ps_table_t *t, MPI_Comm comm);

/* Collective. Write a results file (fit) or predictions file (scale == NULL).
 * r->table, r->projection and r->km->labels/distance hold the same row block;
 * a predictions km needs only labels and distance. Same force/temporary rules
 * as ps_h5_write_table. */
ps_err_t ps_h5_write_results(const char *path, int force, const ps_results_t *r, MPI_Comm comm);

/* Collective. Read the model stored in a results file (every rank gets all of it:
 * scale, pca with mean/components/variances and n_kept = K, centroids [k][K],
 * feature names). *out: free with ps_model_destroy. */
ps_err_t ps_h5_read_model(const char *path, MPI_Comm comm, ps_model_t **out);

/* Collective. Read labels [n_local] for this rank's block from a results file, with
 * the row ids, to compare a prediction against the fit (report of predict). Reads
 * /rows/id and /kmeans/labels whole on every rank: ids [n], labels [n], both
 * malloc'ed; the caller frees them with free(). */
ps_err_t ps_h5_read_fit_labels(const char *path, MPI_Comm comm, int64_t *n, int64_t **ids,
                               int32_t **labels);

#endif
