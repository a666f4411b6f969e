/* h5io.h - parallel HDF5 for the stages: small collective helpers to describe
 * and write a file, and to read datasets and attributes back. The only module
 * that includes hdf5.h.
 *
 * Writing: a file is first described (dimensions, datasets, attributes; local
 * and cheap, the same on every rank), then ps_h5w_write creates and fills it
 * in one collective pass: temporary name, groups, dimension scales, datasets,
 * "description" attributes, attributes, collective hyperslab writes, rename.
 * Each stage adds its own group to the description (ps_scale_write,
 * ps_pca_write, ps_kmeans_write, ps_profile_write, the table's rows).
 *
 * Dimensions are HDF5 dimension scales (netCDF-4 style), so that h5netcdf and
 * xarray name every axis: a dimension declared as "row" is the dataset /row,
 * one declared as "pca/component" is /pca/component and shadows a root
 * "component" inside /pca. A dataset's dimension names are looked up in its
 * own group first, then at the root; every group gets a hard link to each
 * root dimension it uses, so a group opened alone still has its coordinates.
 *
 * A dataset whose first dimension is the distributed one (ps_h5w_rows) takes
 * this rank's rows [off, off + n_local); any other is replicated: identical on
 * every rank, and rank 0's copy is written. Attribute values are taken from
 * rank 0 as well (they are broadcast before the write).
 *
 * Each rank's transfer is split into collective calls of at most
 * POPSEG_IO_CHUNK_BYTES bytes (environment; default and maximum 1 GiB), so
 * MPI-IO byte counts stay below INT_MAX; all ranks make the same number of
 * calls (ranks with fewer or no rows select nothing in the surplus ones).
 *
 * Reading: ps_h5r_* open a file with the MPI-IO driver and read a dataset's
 * shape, rows or all of it, and attributes. Every function is collective and
 * returns the same (agreed) code on all ranks; messages name the file and
 * dataset ("model.h5: /pca/components: expected [p][34], found [5][33]").
 * HDF5's own error printing is off unless debug.
 *
 * Strings are fixed-length, NUL-padded, UTF-8 (h5py reads them as bytes).
 * Integers are little-endian, floats IEEE float64 little-endian.
 */
#ifndef POPSEG_H5IO_H
#define POPSEG_H5IO_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"

typedef enum {
  PS_H5_F64, /* double; on read: any floating-point dataset, converted */
  PS_H5_I64, /* int64_t; on read: any integer dataset */
  PS_H5_I32, /* int32_t; on read: any integer dataset */
  PS_H5_U64, /* uint64_t */
  PS_H5_STR, /* fixed-length strings of a given width (bytes, NUL-padded) */
  PS_H5_NUM  /* read only: any integer or floating-point dataset, as double */
} ps_h5type_t;

/* Turn HDF5 error printing on (debug) or off (default). Not collective. */
void ps_h5_set_debug(int debug);
/* Non-zero if the file starts with the HDF5 signature. Not collective. */
int ps_h5_is_hdf5(const char *path);

/* ------------------------------------------------------------ writing */

typedef struct ps_h5w ps_h5w_t;

/* Not collective. An empty description; *out freed with ps_h5w_destroy. */
ps_err_t ps_h5w_create(ps_h5w_t **out);
void ps_h5w_destroy(ps_h5w_t **w);

/* A dimension of len entries whose coordinates are coord ([len] of type, or
 * this rank's [n_local] rows for the distributed dimension). A description
 * error (too many entries, an unknown dimension) is kept and reported by
 * ps_h5w_write, so these calls return nothing. */
void ps_h5w_dim(ps_h5w_t *w, const char *name, int64_t len, ps_h5type_t type, size_t width,
                const void *coord, const char *description);
/* A dimension whose coordinates are the integers first, first + 1, ... (int32). */
void ps_h5w_dim_index(ps_h5w_t *w, const char *name, int64_t len, int first,
                      const char *description);
/* The distributed dimension (declared with ps_h5w_dim): this rank holds its
 * entries [off, off + n_local). Ranks must hold consecutive blocks in rank order. */
void ps_h5w_rows(ps_h5w_t *w, const char *dim, int64_t off, int64_t n_local);
/* A dataset at path ("kmeans/labels") over dims ("row", "segment,feature").
 * width: string width in bytes (PS_H5_STR), else ignored. */
void ps_h5w_data(ps_h5w_t *w, const char *path, ps_h5type_t type, size_t width, const char *dims,
                 const void *buf, const char *description);
/* Fills rows [first, first + n) (global indices) of a generated dataset into
 * buf ([n] rows of its row size). Called piece by piece by ps_h5w_write. */
typedef void (*ps_h5w_gen_fn)(void *ctx, int64_t first, int64_t n, void *buf);
/* A dataset along the distributed dimension whose rows are generated when
 * written, in pieces of about 8 MiB: memory stays bounded (popseg synth). */
void ps_h5w_data_gen(ps_h5w_t *w, const char *path, ps_h5type_t type, size_t width,
                     const char *dims, ps_h5w_gen_fn gen, void *ctx, const char *description);
/* A dimension whose coordinates are generated the same way. */
void ps_h5w_dim_gen(ps_h5w_t *w, const char *name, int64_t len, ps_h5type_t type, size_t width,
                    ps_h5w_gen_fn gen, void *ctx, const char *description);
/* Attributes of a group ("kmeans") or of the root (""); rank 0's values are written. */
void ps_h5w_attr_i64(ps_h5w_t *w, const char *obj, const char *name, int64_t v);
void ps_h5w_attr_u64(ps_h5w_t *w, const char *obj, const char *name, uint64_t v);
void ps_h5w_attr_f64(ps_h5w_t *w, const char *obj, const char *name, double v);
void ps_h5w_attr_str(ps_h5w_t *w, const char *obj, const char *name, const char *v);

/* Collective. Write the described file to path through a temporary name
 * (outfile.h: renamed when every rank succeeded; refuses an existing file
 * unless force). Returns the same code on every rank. */
ps_err_t ps_h5w_write(ps_h5w_t *w, const char *path, int force, MPI_Comm comm);

/* Bytes per collective transfer piece: POPSEG_IO_CHUNK_BYTES if it is a
 * valid positive integer (capped at 1 GiB), else 1 GiB. The tests shrink it
 * to force the piecewise paths. */
int64_t ps_h5_io_chunk_bytes(void);

/* ------------------------------------------------------------ reading */

typedef struct ps_h5r ps_h5r_t;

/* Collective. Open path read-only with the MPI-IO driver after checking that
 * it exists, is HDF5 and every rank can read it. *out: ps_h5r_close. */
ps_err_t ps_h5r_open(const char *path, MPI_Comm comm, ps_h5r_t **out);
/* Collective. Close; returns err, or the close's failure when err is PS_OK. */
ps_err_t ps_h5r_close(ps_h5r_t **r, ps_err_t err);
const char *ps_h5r_path(const ps_h5r_t *r);
MPI_Comm ps_h5r_comm(const ps_h5r_t *r);

/* Collective (the same answer everywhere). Whether a dataset or group at path exists. */
int ps_h5r_has(ps_h5r_t *r, const char *path);
/* Collective. Whether obj ("" for the root) has attribute name. */
int ps_h5r_has_attr(ps_h5r_t *r, const char *obj, const char *name);

/* Collective. Check dataset path: nd dimensions, element class of type, and
 * extents want[i] where want[i] >= 0 (sym[i], may be NULL, names a free
 * extent in messages: "[p][34]"). dims[nd] receives the extents; width (may
 * be NULL) the string width for PS_H5_STR. PS_ERR_FORMAT naming the file and
 * dataset otherwise. */
ps_err_t ps_h5r_shape(ps_h5r_t *r, const char *path, ps_h5type_t type, int nd, const int64_t *want,
                      const char *const *sym, int64_t *dims, size_t *width);
/* Collective. Read rows [off, off + n) of path into buf (n rows of the
 * dataset's row size, as type; width for strings). Ranks may read
 * overlapping rows (a replicated read: off 0, n = all on every rank). */
ps_err_t ps_h5r_read(ps_h5r_t *r, const char *path, ps_h5type_t type, size_t width, int64_t off,
                     int64_t n, void *buf);
/* Collective. Read rows [off, off + n) of a string dataset into a new buffer
 * *buf [n][*width] whose strings are all NUL-terminated: a file string that
 * fills its width makes *width one larger (agreed across ranks when
 * distributed, so every rank ends with the same width). free() *buf. */
ps_err_t ps_h5r_read_strings(ps_h5r_t *r, const char *path, int64_t off, int64_t n, int distributed,
                             char **buf, size_t *width);

/* Collective. Attributes of obj ("" for the root). A missing attribute is
 * PS_ERR_FORMAT when required, else *found = 0 (found may be NULL) and the
 * output is left as it was. Numbers may be stored as any integer or float. */
ps_err_t ps_h5r_attr_i64(ps_h5r_t *r, const char *obj, const char *name, int required, int64_t *v,
                         int *found);
ps_err_t ps_h5r_attr_f64(ps_h5r_t *r, const char *obj, const char *name, int required, double *v,
                         int *found);
ps_err_t ps_h5r_attr_u64(ps_h5r_t *r, const char *obj, const char *name, int required, uint64_t *v,
                         int *found);
/* A string attribute (fixed or variable length) into out[cap]. */
ps_err_t ps_h5r_attr_str(ps_h5r_t *r, const char *obj, const char *name, int required, char *out,
                         size_t cap, int *found);

#endif
