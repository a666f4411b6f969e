/* h5io.h - all HDF5 input and output (the only module that includes hdf5.h).
 *
 * Files are opened with the MPI-IO driver; every rank reads and writes its
 * own contiguous row block with collective hyperslab transfers. HDF5's own
 * error stack printing is off (unless debug); failures become one line naming
 * the file and dataset.
 *
 * Table layout: /features float64 [n][d] (chunked), /feature_names [d]
 * fixed-length UTF-8, /rows/id int64 [n], /rows/name [n] fixed-length UTF-8,
 * root attributes source, source_sha256, popseg_version.
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

/* Collective. Read the table, each rank its balanced row block. */
ps_err_t ps_h5_read_table(const char *path, MPI_Comm comm, ps_table_t **out);

/* Collective. Write a distributed table (import output). Temporary name + rename;
 * refuses to overwrite unless force. */
ps_err_t ps_h5_write_table(const char *path, int force, const ps_table_t *t, MPI_Comm comm);

/* Collective. Write a results file (fit) or predictions file (scale == NULL). */
ps_err_t ps_h5_write_results(const char *path, int force, const ps_results_t *r, MPI_Comm comm);

/* Collective. Read the model stored in a results file (every rank gets all of it). */
ps_err_t ps_h5_read_model(const char *path, MPI_Comm comm, ps_model_t **out);

/* Collective. Read labels [n_local] for this rank's block from a results file, with
 * the row ids, to compare a prediction against the fit (report of predict). Reads
 * /rows/id and /kmeans/labels whole on every rank: ids [n], labels [n]. */
ps_err_t ps_h5_read_fit_labels(const char *path, MPI_Comm comm, int64_t *n, int64_t **ids,
                               int32_t **labels);

#endif
