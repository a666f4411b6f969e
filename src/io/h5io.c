/* h5io.c - parallel HDF5 input and output: tables, results files, models.
 *
 * Every file is opened with the MPI-IO driver on the caller's communicator.
 * Row-distributed datasets are moved with collective hyperslab transfers:
 * each rank selects its own contiguous row block (or nothing) and every rank
 * makes the same number of H5Dread/H5Dwrite calls, because each transfer is
 * split into pieces of at most POPSEG_IO_CHUNK_BYTES (default 1 GiB, which
 * keeps MPI-IO byte counts below INT_MAX) and the piece count is agreed with
 * one reduction. Small replicated datasets are written by rank 0 alone inside
 * the same collective calls.
 *
 * Failure discipline: local checks (shapes, attributes, allocations) are
 * agreed with ps_err_agree before the next collective, so a rank never leaves
 * the others waiting; every function releases every HDF5 handle on every path
 * (the MPI-IO driver refuses to close a file with objects still open).
 * HDF5 metadata calls that are collective in parallel HDF5 (file create/open/
 * close, dataset/group/attribute creation) are made by all ranks with
 * identical arguments, and the local set-up they need (types, dataspaces,
 * property lists) is agreed on before the call. A collective call that fails
 * on some ranks only leaves HDF5's shared state split, which no collective
 * clean-up survives: ps_err_agree_or_abort removes the temporary file and
 * ends the job instead of hanging.
 */
#include "popseg/h5io.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "popseg/outfile.h"
#include "popseg/reduce.h"
#include "popseg/version.h"

#define NO_ID ((hid_t)-1)
#define DEFAULT_IO_CHUNK_BYTES ((int64_t)1 << 30)
#define FEATURE_CHUNK_BYTES ((int64_t)1 << 20)

/* Run expr only while no error has been recorded (a chain of local steps). */
#define STEP(expr)                                                                                 \
  do {                                                                                             \
    if (err == PS_OK) err = (expr);                                                                \
  } while (0)

static int g_debug;
static int g_configured;

static void h5_init(void) {
  if (g_configured) return;
  H5Eset_auto2(H5E_DEFAULT, g_debug ? (H5E_auto2_t)H5Eprint2 : NULL, NULL);
  g_configured = 1;
}

void ps_h5_set_debug(int debug) {
  g_debug = debug;
  g_configured = 0;
  h5_init();
}

/* The innermost description on HDF5's error stack (it usually carries the
 * system or MPI-IO reason), or "" if none. */
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
  if (n == 0 && e->desc) snprintf((char *)data, 256, "%s", e->desc);
  return 0;
}

static const char *h5_detail(void) {
  static char buf[256];
  buf[0] = '\0';
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
  if (!buf[0]) snprintf(buf, sizeof buf, "no detail from HDF5");
  return buf;
}

static void h5_close(hid_t *id) {
  if (*id < 0) return;
  switch (H5Iget_type(*id)) {
  case H5I_FILE:
    H5Fclose(*id);
    break;
  case H5I_GROUP:
    H5Gclose(*id);
    break;
  case H5I_DATASET:
    H5Dclose(*id);
    break;
  case H5I_ATTR:
    H5Aclose(*id);
    break;
  case H5I_DATASPACE:
    H5Sclose(*id);
    break;
  case H5I_DATATYPE:
    H5Tclose(*id);
    break;
  case H5I_GENPROP_LST:
    H5Pclose(*id);
    break;
  default:
    break;
  }
  *id = NO_ID;
}

/* Bytes per collective transfer piece: POPSEG_IO_CHUNK_BYTES if it is a valid
 * positive integer (capped at 1 GiB), else 1 GiB. */
static int64_t io_chunk_bytes(void) {
  const char *s = getenv("POPSEG_IO_CHUNK_BYTES");
  if (s && *s) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == 0 && end && *end == '\0' && v >= 1)
      return v < DEFAULT_IO_CHUNK_BYTES ? (int64_t)v : DEFAULT_IO_CHUNK_BYTES;
  }
  return DEFAULT_IO_CHUNK_BYTES;
}

int ps_h5_is_hdf5(const char *path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char b[8];
  int found = 0;
  FILE *f = path ? fopen(path, "rb") : NULL;
  if (!f) return 0;
  /* The superblock sits at 0 or, after a user block, at 512, 1024, 2048, ... */
  for (long off = 0; !found && off <= (1L << 40); off = off ? off * 2 : 512) {
    if (fseek(f, off, SEEK_SET) != 0 || fread(b, 1, sizeof b, f) != sizeof b) break;
    found = memcmp(b, sig, sizeof sig) == 0;
  }
  fclose(f);
  return found;
}

/* Collective. Rank 0 checks that path exists and is an HDF5 file; then every
 * other rank checks that it can read it too: a file that is not on a shared
 * file system (a node-local /tmp, another working directory) would otherwise
 * make the collective open fail on some ranks only. */
static ps_err_t check_input(const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    struct stat st;
    PS_CHECK(path && *path, PS_ERR_ARG, "empty input file name");
    PS_CHECK(stat(path, &st) == 0, PS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    PS_CHECK(!S_ISDIR(st.st_mode), PS_ERR_IO, "%s: is a directory, not an HDF5 file", path);
    PS_CHECK(access(path, R_OK) == 0, PS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    PS_CHECK(ps_h5_is_hdf5(path), PS_ERR_FORMAT, "%s: not an HDF5 file", path);
  }
cleanup:
  err = ps_err_agree(comm, err);
  if (err != PS_OK) return err;
  if (rank != 0 && access(path, R_OK) != 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__,
                   "%s: rank %d cannot read it (%s): is it on a file system every node shares?",
                   path, rank, strerror(errno));
  return ps_err_agree(comm, err);
}

/* Collective. Open (create = 0, read-only) or create (create = 1, truncate)
 * path with the MPI-IO driver. display names the file in messages. */
static ps_err_t open_mpio(const char *path, int create, const char *display, MPI_Comm comm,
                          hid_t *fid) {
  ps_err_t err = PS_OK;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  *fid = NO_ID;
  if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot set up the MPI-IO file driver (%s)",
                   display, h5_detail());
  /* H5Fcreate/H5Fopen are collective: a rank whose property list failed must
   * not skip them alone, so the set-up is agreed on first. */
  PS_AGREE(comm);
  if (create) {
    *fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (*fid < 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create HDF5 file %s (%s)", display,
                     path, h5_detail());
  } else {
    *fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (*fid < 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot open as an HDF5 file (%s)", display,
                     h5_detail());
  }
  /* Failed everywhere: an ordinary error. On some ranks only: the job ends. */
  err = ps_err_agree_or_abort(comm, err, create ? "H5Fcreate" : "H5Fopen");
cleanup:
  h5_close(&fapl);
  return err;
}

/* Collective. Close a file opened with open_mpio. The MPI-IO driver refuses
 * to close a file with objects still open, so a failure here is a handle bug;
 * it is reported (agreed) when nothing else failed. */
static ps_err_t close_file(hid_t *fid, ps_err_t err, const char *path, MPI_Comm comm) {
  ps_err_t close_err = PS_OK;
  if (*fid < 0) return err;
  if (H5Fclose(*fid) < 0)
    close_err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__, "%s: cannot close the file (%s)",
                         path, h5_detail());
  *fid = NO_ID;
  if (err == PS_OK) err = ps_err_agree(comm, close_err);
  return err;
}

/* ---------------------------------------------------------------- datasets */

static const char *class_name(H5T_class_t c) {
  switch (c) {
  case H5T_INTEGER:
    return "integers";
  case H5T_FLOAT:
    return "floating-point numbers";
  case H5T_STRING:
    return "strings";
  case H5T_COMPOUND:
    return "a compound type";
  case H5T_ENUM:
    return "an enum type";
  case H5T_ARRAY:
    return "an array type";
  case H5T_VLEN:
    return "variable-length sequences";
  case H5T_OPAQUE:
    return "opaque data";
  default:
    return "an unsupported type";
  }
}

/* "[p][34]": want[i] < 0 prints sym[i]. */
static void fmt_shape(char *buf, size_t cap, int nd, const int64_t *v, const char *const *sym) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < nd && len < cap; i++) {
    int w;
    if (v[i] < 0 && sym && sym[i])
      w = snprintf(buf + len, cap - len, "[%s]", sym[i]);
    else
      w = snprintf(buf + len, cap - len, "[%lld]", (long long)v[i]);
    if (w < 0) break;
    len += (size_t)w;
  }
}

/* Not collective. Open dataset dname and check its rank, type class and (where
 * want[i] >= 0) extents. dims receives the extents [nd]; for strings *width and
 * *cset describe the fixed-length type (may be NULL). */
static ps_err_t need_dset(hid_t fid, const char *file, const char *dname, int nd, H5T_class_t cls,
                          const int64_t *want, const char *const *sym, hid_t *did, int64_t *dims,
                          size_t *width, H5T_cset_t *cset) {
  ps_err_t err = PS_OK;
  hid_t space = NO_ID, type = NO_ID;
  char part[256], e[128], f[128];
  hsize_t hd[H5S_MAX_RANK];
  int64_t got[H5S_MAX_RANK];
  int got_nd;
  size_t len = strlen(dname);
  *did = NO_ID;
  PS_CHECK(len < sizeof part, PS_ERR_INTERNAL, "dataset name too long: %s", dname);
  /* Check each link on the way: H5Lexists fails on a missing intermediate group. */
  for (size_t i = 1; i <= len; i++) {
    if (i == len || dname[i] == '/') {
      memcpy(part, dname, i);
      part[i] = '\0';
      PS_CHECK(H5Lexists(fid, part, H5P_DEFAULT) > 0, PS_ERR_FORMAT, "%s: %s: dataset not found",
               file, dname);
    }
  }
  *did = H5Dopen2(fid, dname, H5P_DEFAULT);
  PS_CHECK(*did >= 0, PS_ERR_FORMAT, "%s: %s: not a dataset", file, dname);
  space = H5Dget_space(*did);
  type = H5Dget_type(*did);
  PS_CHECK(space >= 0 && type >= 0, PS_ERR_FORMAT, "%s: %s: cannot read the dataset's shape (%s)",
           file, dname, h5_detail());
  got_nd = H5Sget_simple_extent_ndims(space);
  PS_CHECK(got_nd >= 0, PS_ERR_FORMAT, "%s: %s: cannot read the dataset's shape", file, dname);
  {
    int64_t any[2] = {-1, -1};
    fmt_shape(e, sizeof e, nd, want ? want : any, sym);
  }
  PS_CHECK(got_nd == nd, PS_ERR_FORMAT, "%s: %s: expected a %d-D dataset %s, found %d-D", file,
           dname, nd, e, got_nd);
  H5Sget_simple_extent_dims(space, hd, NULL);
  for (int i = 0; i < nd; i++) got[i] = (int64_t)hd[i];
  H5T_class_t c = H5Tget_class(type);
  PS_CHECK(c == cls, PS_ERR_FORMAT, "%s: %s: expected %s, found %s", file, dname, class_name(cls),
           class_name(c));
  if (cls == H5T_STRING) {
    PS_CHECK(H5Tis_variable_str(type) == 0, PS_ERR_FORMAT,
             "%s: %s: variable-length strings are not supported; store fixed-length strings "
             "(numpy dtype 'S')",
             file, dname);
    if (width) *width = H5Tget_size(type);
    if (cset) *cset = H5Tget_cset(type);
  }
  if (want) {
    for (int i = 0; i < nd; i++) {
      if (want[i] >= 0 && got[i] != want[i]) {
        fmt_shape(f, sizeof f, nd, got, NULL);
        PS_CHECK(0, PS_ERR_FORMAT, "%s: %s: expected %s, found %s", file, dname, e, f);
      }
    }
  }
  for (int i = 0; i < nd; i++) dims[i] = got[i];
cleanup:
  h5_close(&space);
  h5_close(&type);
  if (err != PS_OK) h5_close(did);
  return err;
}

/* A fixed-length, NUL-padded string type of width bytes. */
static ps_err_t str_type(size_t width, H5T_cset_t cset, hid_t *out) {
  ps_err_t err = PS_OK;
  *out = H5Tcopy(H5T_C_S1);
  PS_CHECK(*out >= 0 && H5Tset_size(*out, width > 0 ? width : 1) >= 0 &&
               H5Tset_strpad(*out, H5T_STR_NULLPAD) >= 0 && H5Tset_cset(*out, cset) >= 0,
           PS_ERR_INTERNAL, "cannot build an HDF5 string type of %zu bytes", width);
cleanup:
  if (err != PS_OK) h5_close(out);
  return err;
}

/* Collective. Move rows [row_off, row_off + n_rows) of a 1-D or 2-D dataset
 * between buf ([n_rows] x row_bytes in memory) and the file. Every rank makes
 * the same number of collective calls; a rank with fewer (or no) rows selects
 * nothing in the surplus calls. Overlapping reads (every rank reading the whole
 * dataset) are allowed. Returns the agreed result (agreed once: a second
 * agreement would make a rank without a message the "first failing" one). */
static ps_err_t xfer(hid_t did, hid_t memtype, size_t row_bytes, int writing, void *buf,
                     int64_t row_off, int64_t n_rows, MPI_Comm comm, const char *file,
                     const char *dname) {
  ps_err_t err = PS_OK;
  hid_t fspace = NO_ID, mspace = NO_ID, dxpl = NO_ID;
  hid_t empty_m = NO_ID, empty_f = NO_ID; /* empty selections for surplus calls */
  hsize_t dims[2] = {0, 0}, start[2] = {0, 0}, count[2] = {0, 0}, one = 1;
  int nd = 0;
  int64_t step, pieces;
  static double dummy[1];

  fspace = H5Dget_space(did);
  dxpl = H5Pcreate(H5P_DATASET_XFER);
  /* Built before the agreement: nothing unchecked stands between a rank and
   * its part in each collective call below. */
  empty_m = H5Screate_simple(1, &one, NULL);
  empty_f = fspace >= 0 ? H5Scopy(fspace) : NO_ID;
  if (fspace < 0 || dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0 || empty_m < 0 ||
      empty_f < 0 || H5Sselect_none(empty_m) < 0 || H5Sselect_none(empty_f) < 0 ||
      (nd = H5Sget_simple_extent_dims(fspace, dims, NULL)) < 1 || nd > 2)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: %s: cannot set up the transfer (%s)", file,
                   dname, h5_detail());
  else if (n_rows < 0 || row_off < 0 || (n_rows > 0 && (uint64_t)(row_off + n_rows) > dims[0]))
    err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__,
                   "%s: %s: rows %lld..%lld are outside the dataset's %llu rows", file, dname,
                   (long long)row_off, (long long)(row_off + n_rows), (unsigned long long)dims[0]);
  PS_AGREE(comm);
  if (row_bytes == 0) row_bytes = 1;
  step = io_chunk_bytes() / (int64_t)row_bytes;
  if (step < 1) step = 1;
  pieces = n_rows > 0 ? (n_rows + step - 1) / step : 0;
  PS_TRY(ps_reduce_max_i64(&pieces, 1, comm));
  count[1] = nd == 2 ? dims[1] : 1;

  for (int64_t p = 0; p < pieces; p++) {
    int64_t first = p * step;
    int64_t take = n_rows - first < step ? n_rows - first : step;
    int have = take > 0 && count[1] > 0 && err == PS_OK;
    void *ptr = dummy;
    hid_t ms = empty_m, fs = empty_f;
    herr_t rc;
    h5_close(&mspace);
    if (have) {
      start[0] = (hsize_t)(row_off + first);
      count[0] = (hsize_t)take;
      mspace = H5Screate_simple(nd, count, NULL);
      if (mspace < 0 || H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
        err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: %s: cannot select rows (%s)", file,
                       dname, h5_detail());
        have = 0;
        h5_close(&mspace);
      }
      ptr = (char *)buf + (size_t)first * row_bytes;
    }
    if (have) {
      ms = mspace;
      fs = fspace;
    } else {
      ptr = dummy; /* take part in the collective call with an empty selection */
    }
    if (writing)
      rc = H5Dwrite(did, memtype, ms, fs, dxpl, ptr);
    else
      rc = H5Dread(did, memtype, ms, fs, dxpl, ptr);
    if (rc < 0 && err == PS_OK)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: %s: cannot %s rows %lld..%lld (%s)", file,
                     dname, writing ? "write" : "read", (long long)(row_off + first),
                     (long long)(row_off + first + (take > 0 ? take : 0)), h5_detail());
  }
  err = ps_err_agree(comm, err);
cleanup:
  h5_close(&mspace);
  h5_close(&empty_m);
  h5_close(&empty_f);
  h5_close(&fspace);
  h5_close(&dxpl);
  return err;
}

/* Collective metadata. Create dataset name in loc: [n0] (nd = 1) or [n0][n1].
 * chunked: chunks of about 1 MiB of whole rows (contiguous if empty). */
static ps_err_t create_dset(hid_t loc, const char *name, hid_t ftype, int nd, int64_t n0,
                            int64_t n1, int chunked, const char *file, MPI_Comm comm, hid_t *out) {
  ps_err_t err = PS_OK;
  hid_t space = NO_ID, dcpl = NO_ID;
  hsize_t dims[2] = {(hsize_t)n0, (hsize_t)n1};
  *out = NO_ID;
  space = H5Screate_simple(nd, dims, NULL);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  /* Every element is written by us: skip writing fill values first. */
  if (space < 0 || dcpl < 0 || H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot prepare dataset %s (%s)", file, name,
                   h5_detail());
  if (err == PS_OK && chunked && nd == 2 && n0 > 0 && n1 > 0) {
    int64_t row_bytes = n1 * (int64_t)sizeof(double);
    hsize_t chunk[2];
    int64_t rows = FEATURE_CHUNK_BYTES / row_bytes;
    if (rows < 1) rows = 1;
    if (rows > n0) rows = n0;
    chunk[0] = (hsize_t)rows;
    chunk[1] = (hsize_t)(n1 < FEATURE_CHUNK_BYTES / 8 ? n1 : FEATURE_CHUNK_BYTES / 8);
    if (H5Pset_chunk(dcpl, 2, chunk) < 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot set chunks of %s (%s)", file, name,
                     h5_detail());
  }
  if (err == PS_OK && ps_fault("h5-setup"))
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot prepare dataset %s (injected)", file,
                   name);
  PS_AGREE(comm); /* the local set-up, before the collective create */
  *out = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (*out >= 0 && ps_fault("h5-create"))
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create dataset %s (injected)", file,
                   name);
  else if (*out < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create dataset %s (%s)", file, name,
                   h5_detail());
  err = ps_err_agree_or_abort(comm, err, "H5Dcreate");
cleanup:
  h5_close(&space);
  h5_close(&dcpl);
  return err;
}

/* Collective metadata; returns the agreed result. */
static ps_err_t create_group(hid_t fid, const char *name, const char *file, MPI_Comm comm,
                             hid_t *out) {
  ps_err_t err = PS_OK;
  *out = H5Gcreate2(fid, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (*out < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create group %s (%s)", file, name,
                   h5_detail());
  return ps_err_agree_or_abort(comm, err, "H5Gcreate");
}

/* -------------------------------------------------------------- attributes */

/* Collective metadata: every rank passes the same value; returns the agreed
 * result. ps_err_t err is the caller's type check: a local failure before
 * (err != PS_OK) is agreed on too, so no rank skips the create alone. */
static ps_err_t put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *val,
                         const char *file, ps_err_t err, MPI_Comm comm) {
  hid_t space = err == PS_OK ? H5Screate(H5S_SCALAR) : NO_ID, a = NO_ID;
  if (err == PS_OK && space < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot write attribute %s", file, name);
  PS_AGREE(comm);
  a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, mtype, val) < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot write attribute %s (%s)", file, name,
                   h5_detail());
  err = ps_err_agree_or_abort(comm, err, "H5Acreate/H5Awrite");
cleanup:
  h5_close(&a);
  h5_close(&space);
  return err;
}

static ps_err_t put_str(hid_t loc, const char *name, const char *value, const char *file,
                        MPI_Comm comm) {
  hid_t type = NO_ID;
  const char *v = value ? value : "";
  size_t len = strlen(v);
  /* An empty string is stored as one NUL byte (HDF5 strings have size >= 1). */
  ps_err_t err = str_type(len > 0 ? len : 1, H5T_CSET_UTF8, &type);
  err = put_attr(loc, name, type, type, len > 0 ? v : "", file, err, comm);
  h5_close(&type);
  return err;
}

static ps_err_t put_i64(hid_t loc, const char *name, int64_t v, const char *file, MPI_Comm comm) {
  return put_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, file, PS_OK, comm);
}

static ps_err_t put_u64(hid_t loc, const char *name, uint64_t v, const char *file, MPI_Comm comm) {
  return put_attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v, file, PS_OK, comm);
}

static ps_err_t put_f64(hid_t loc, const char *name, double v, const char *file, MPI_Comm comm) {
  return put_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, file, PS_OK, comm);
}

/* Not collective. Open attribute name of loc (object path where, for messages).
 * *found = 0 and PS_OK if it is absent and not required. */
static ps_err_t open_attr(hid_t loc, const char *name, int required, const char *file,
                          const char *where, hid_t *a, int *found) {
  ps_err_t err = PS_OK;
  htri_t ex = H5Aexists(loc, name);
  *a = NO_ID;
  *found = 0;
  PS_CHECK(ex >= 0, PS_ERR_FORMAT, "%s: %s: cannot look up attribute '%s' (%s)", file, where, name,
           h5_detail());
  if (ex == 0) {
    PS_CHECK(!required, PS_ERR_FORMAT, "%s: %s: attribute '%s' not found", file, where, name);
    return PS_OK;
  }
  *a = H5Aopen(loc, name, H5P_DEFAULT);
  PS_CHECK(*a >= 0, PS_ERR_FORMAT, "%s: %s: cannot open attribute '%s' (%s)", file, where, name,
           h5_detail());
  *found = 1;
cleanup:
  return err;
}

/* Read a string attribute (fixed or variable length, one element) into out. */
static ps_err_t get_str(hid_t loc, const char *name, char *out, size_t cap, int required,
                        const char *file, const char *where, int *found_out) {
  ps_err_t err = PS_OK;
  hid_t a = NO_ID, type = NO_ID, space = NO_ID, mtype = NO_ID;
  char *vstr = NULL, *fixed = NULL;
  int found = 0;
  PS_TRY(open_attr(loc, name, required, file, where, &a, &found));
  if (!found) goto cleanup;
  type = H5Aget_type(a);
  space = H5Aget_space(a);
  PS_CHECK(type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING &&
               H5Sget_simple_extent_npoints(space) == 1,
           PS_ERR_FORMAT, "%s: %s: attribute '%s' should be one string", file, where, name);
  mtype = H5Tcopy(H5T_C_S1);
  PS_CHECK(mtype >= 0 && H5Tset_cset(mtype, H5Tget_cset(type)) >= 0, PS_ERR_INTERNAL,
           "cannot build an HDF5 string type");
  if (H5Tis_variable_str(type) > 0) {
    PS_CHECK(H5Tset_size(mtype, H5T_VARIABLE) >= 0 && H5Aread(a, mtype, &vstr) >= 0, PS_ERR_FORMAT,
             "%s: %s: cannot read attribute '%s' (%s)", file, where, name, h5_detail());
    snprintf(out, cap, "%s", vstr ? vstr : "");
  } else {
    size_t size = H5Tget_size(type);
    fixed = calloc(size + 1, 1);
    PS_CHECK_ALLOC(fixed);
    PS_CHECK(H5Tset_size(mtype, size) >= 0 && H5Tset_strpad(mtype, H5T_STR_NULLPAD) >= 0 &&
                 H5Aread(a, mtype, fixed) >= 0,
             PS_ERR_FORMAT, "%s: %s: cannot read attribute '%s' (%s)", file, where, name,
             h5_detail());
    snprintf(out, cap, "%s", fixed);
  }
cleanup:
  if (vstr) H5free_memory(vstr);
  free(fixed);
  h5_close(&mtype);
  h5_close(&space);
  h5_close(&type);
  h5_close(&a);
  if (found_out) *found_out = found;
  return err;
}

/* Read a numeric attribute (integer or float, one element) as mtype into out. */
static ps_err_t get_num(hid_t loc, const char *name, hid_t mtype, void *out, int required,
                        const char *file, const char *where) {
  ps_err_t err = PS_OK;
  hid_t a = NO_ID, type = NO_ID, space = NO_ID;
  int found = 0;
  H5T_class_t c;
  PS_TRY(open_attr(loc, name, required, file, where, &a, &found));
  if (!found) goto cleanup;
  type = H5Aget_type(a);
  space = H5Aget_space(a);
  c = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  PS_CHECK((c == H5T_INTEGER || c == H5T_FLOAT) && space >= 0 &&
               H5Sget_simple_extent_npoints(space) == 1,
           PS_ERR_FORMAT, "%s: %s: attribute '%s' should be one number", file, where, name);
  PS_CHECK(H5Aread(a, mtype, out) >= 0, PS_ERR_FORMAT, "%s: %s: cannot read attribute '%s' (%s)",
           file, where, name, h5_detail());
cleanup:
  h5_close(&space);
  h5_close(&type);
  h5_close(&a);
  return err;
}

/* ------------------------------------------------------------- helpers */

/* Collective. ok = 1 on every rank iff v[0..count) is the same on all ranks. */
static ps_err_t same_on_all(const int64_t *v, int count, MPI_Comm comm, int *ok) {
  ps_err_t err = PS_OK;
  int64_t buf[32];
  PS_CHECK(count <= 16, PS_ERR_INTERNAL, "same_on_all: too many values");
  for (int i = 0; i < count; i++) {
    buf[2 * i] = v[i];
    buf[2 * i + 1] = -v[i];
  }
  PS_TRY(ps_reduce_max_i64(buf, 2 * count, comm));
  *ok = 1;
  for (int i = 0; i < count; i++)
    if (buf[2 * i] != -buf[2 * i + 1]) *ok = 0;
cleanup:
  return err;
}

/* Collective. Check that each rank holds rows [row_offset, row_offset +
 * n_local) of one n_global-row layout, blocks in rank order. */
static ps_err_t check_blocks(int64_t n_local, int64_t row_offset, int64_t n_global, MPI_Comm comm,
                             const char *file, const char *what) {
  ps_err_t err = PS_OK;
  int64_t before = 0, total = n_local;
  int rank;
  MPI_Comm_rank(comm, &rank);
  PS_CALL_MPI(MPI_Exscan(&n_local, &before, 1, MPI_INT64_T, MPI_SUM, comm));
  if (rank == 0) before = 0;
  PS_TRY(ps_reduce_sum_i64(&total, 1, comm));
  PS_CHECK(total == n_global && before == row_offset, PS_ERR_INTERNAL,
           "%s: %s: row blocks do not form the %lld-row table (offset %lld, expected %lld; "
           "%lld rows in all)",
           file, what, (long long)n_global, (long long)row_offset, (long long)before,
           (long long)total);
cleanup:
  return ps_err_agree(comm, err);
}

/* Make every string in buf [count][*width] NUL-terminated: files from other
 * writers may fill a fixed-length string completely; then widen all by one.
 * collective: agree on the widening across comm (distributed names). */
static ps_err_t terminate_strings(char **buf, size_t *width, int64_t count, int collective,
                                  MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t full = 0;
  size_t w = *width;
  char *wide = NULL;
  for (int64_t i = 0; i < count && !full; i++)
    if ((*buf)[(size_t)i * w + w - 1] != '\0') full = 1;
  if (collective) PS_TRY(ps_reduce_max_i64(&full, 1, comm));
  if (!full) return PS_OK;
  wide = calloc((size_t)(count > 0 ? count : 1), w + 1);
  PS_CHECK_ALLOC(wide);
  for (int64_t i = 0; i < count; i++) memcpy(wide + (size_t)i * (w + 1), *buf + (size_t)i * w, w);
  free(*buf);
  *buf = wide;
  wide = NULL;
  *width = w + 1;
cleanup:
  free(wide);
  return err;
}

/* ------------------------------------------------------------------ table */

typedef struct {
  hid_t feat, ids, names, fnames;
  int64_t n, d;
  size_t name_w, fname_w;
  H5T_cset_t name_cset, fname_cset;
} tlayout_t;

static void tlayout_init(tlayout_t *L) {
  memset(L, 0, sizeof *L);
  L->feat = L->ids = L->names = L->fnames = NO_ID;
}

static void tlayout_close(tlayout_t *L) {
  h5_close(&L->feat);
  h5_close(&L->ids);
  h5_close(&L->names);
  h5_close(&L->fnames);
}

/* Not collective. Open and validate the four table datasets. */
static ps_err_t tlayout_open(hid_t fid, const char *file, tlayout_t *L) {
  ps_err_t err = PS_OK;
  int64_t dims[2];
  static const char *const feat_sym[2] = {"rows", "features"};
  static const char *const row_sym[1] = {"rows"};
  static const char *const fn_sym[1] = {"features"};
  PS_TRY(
      need_dset(fid, file, "/features", 2, H5T_FLOAT, NULL, feat_sym, &L->feat, dims, NULL, NULL));
  L->n = dims[0];
  L->d = dims[1];
  PS_TRY(
      need_dset(fid, file, "/rows/id", 1, H5T_INTEGER, NULL, row_sym, &L->ids, dims, NULL, NULL));
  PS_CHECK(dims[0] == L->n, PS_ERR_FORMAT,
           "%s: /rows/id: has %lld entries but /features has %lld rows", file, (long long)dims[0],
           (long long)L->n);
  PS_TRY(need_dset(fid, file, "/rows/name", 1, H5T_STRING, NULL, row_sym, &L->names, dims,
                   &L->name_w, &L->name_cset));
  PS_CHECK(dims[0] == L->n, PS_ERR_FORMAT,
           "%s: /rows/name: has %lld entries but /features has %lld rows", file, (long long)dims[0],
           (long long)L->n);
  PS_TRY(need_dset(fid, file, "/feature_names", 1, H5T_STRING, NULL, fn_sym, &L->fnames, dims,
                   &L->fname_w, &L->fname_cset));
  PS_CHECK(dims[0] == L->d, PS_ERR_FORMAT,
           "%s: /feature_names: has %lld entries but /features has %lld columns", file,
           (long long)dims[0], (long long)L->d);
cleanup:
  return err;
}

ps_err_t ps_h5_probe(const char *path, MPI_Comm comm, int64_t *n, int64_t *d) {
  ps_err_t err = PS_OK;
  tlayout_t L;
  hid_t fid = NO_ID, fapl = NO_ID;
  int64_t nd[2] = {0, 0};
  int rank;
  MPI_Comm_rank(comm, &rank);
  tlayout_init(&L);
  h5_init();
  err = check_input(path, comm);
  if (err != PS_OK) return err;
  if (rank == 0) {
    /* A serial open on one rank: the shape is all we need. */
    fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
    /* A read-only peek must not depend on flock() support of the file system. */
    if (fapl >= 0) H5Pset_file_locking(fapl, 0, 1);
#endif
    fid = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    PS_CHECK(fid >= 0, PS_ERR_IO, "%s: cannot open as an HDF5 file (%s)", path, h5_detail());
    PS_TRY(tlayout_open(fid, path, &L));
    nd[0] = L.n;
    nd[1] = L.d;
  }
cleanup:
  tlayout_close(&L);
  h5_close(&fapl);
  if (fid >= 0 && H5Fclose(fid) < 0 && err == PS_OK)
    err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__, "%s: cannot close the file (%s)", path,
                   h5_detail());
  err = ps_err_agree(comm, err);
  if (err == PS_OK && MPI_Bcast(nd, 2, MPI_INT64_T, 0, comm) != MPI_SUCCESS)
    err = ps_err_agree(comm, ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast failed"));
  *n = nd[0];
  *d = nd[1];
  return err;
}

static ps_err_t read_table_attrs(hid_t fid, const char *file, ps_table_t *t) {
  ps_err_t err = PS_OK;
  int found = 0;
  PS_TRY(get_str(fid, "source", t->source, sizeof t->source, 0, file, "/", &found));
  if (!found) snprintf(t->source, sizeof t->source, "%s", file);
  PS_TRY(
      get_str(fid, "source_sha256", t->source_sha256, sizeof t->source_sha256, 0, file, "/", NULL));
  PS_TRY(get_str(fid, "dropped_examples", t->dropped_examples, sizeof t->dropped_examples, 0, file,
                 "/", NULL));
  t->n_read = t->x->n_global;
  t->n_dropped = 0;
  PS_TRY(get_num(fid, "n_read", H5T_NATIVE_INT64, &t->n_read, 0, file, "/"));
  PS_TRY(get_num(fid, "n_dropped", H5T_NATIVE_INT64, &t->n_dropped, 0, file, "/"));
cleanup:
  return err;
}

ps_err_t ps_h5_read_table(const char *path, MPI_Comm comm, ps_table_t **out) {
  ps_err_t err = PS_OK;
  tlayout_t L;
  hid_t fid = NO_ID, ntype = NO_ID, fntype = NO_ID;
  ps_table_t *t = NULL;
  int rank, size;
  int64_t off = 0, cnt = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *out = NULL;
  tlayout_init(&L);
  h5_init();
  err = check_input(path, comm);
  if (err != PS_OK) return err;
  err = open_mpio(path, 0, path, comm, &fid);
  if (err != PS_OK) goto cleanup;
  err = tlayout_open(fid, path, &L);
  PS_AGREE(comm);
  ps_block_range(L.n, size, rank, &off, &cnt);
  STEP(ps_table_create(cnt, L.d, off, L.n, L.name_w, L.fname_w, &t));
  STEP(read_table_attrs(fid, path, t));
  STEP(str_type(L.name_w, L.name_cset, &ntype));
  STEP(str_type(L.fname_w, L.fname_cset, &fntype));
  PS_AGREE(comm);
  PS_TRY(xfer(L.feat, H5T_NATIVE_DOUBLE, (size_t)L.d * sizeof(double), 0, t->x->data, off, cnt,
              comm, path, "/features"));
  PS_TRY(
      xfer(L.ids, H5T_NATIVE_INT64, sizeof(int64_t), 0, t->ids, off, cnt, comm, path, "/rows/id"));
  PS_TRY(xfer(L.names, ntype, L.name_w, 0, t->names, off, cnt, comm, path, "/rows/name"));
  /* Every rank reads all feature names (the same small block). */
  PS_TRY(
      xfer(L.fnames, fntype, L.fname_w, 0, t->feature_names, 0, L.d, comm, path, "/feature_names"));
  err = terminate_strings(&t->names, &t->name_width, cnt, 1, comm);
  STEP(terminate_strings(&t->feature_names, &t->fname_width, L.d, 0, comm));
  PS_AGREE(comm);
cleanup:
  tlayout_close(&L);
  h5_close(&ntype);
  h5_close(&fntype);
  err = close_file(&fid, err, path, comm);
  if (err == PS_OK) {
    *out = t;
    t = NULL;
  }
  ps_table_destroy(&t);
  return err;
}

/* Collective. Validate a table for writing; returns the agreed result. */
static ps_err_t check_table(const ps_table_t *t, MPI_Comm comm, const char *path) {
  ps_err_t err = PS_OK;
  int same = 0;
  int64_t v[4] = {0, 0, 0, 0};
  if (!t || !t->x || !t->ids || !t->names || !t->feature_names || !t->x->data)
    err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__, "%s: incomplete table to write", path);
  else if (t->name_width < 1 || t->fname_width < 1 || t->x->n_cols < 0 || t->x->n_local < 0)
    err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__, "%s: bad table shape to write", path);
  PS_AGREE(comm);
  v[0] = t->x->n_cols;
  v[1] = (int64_t)t->name_width;
  v[2] = (int64_t)t->fname_width;
  v[3] = t->x->n_global;
  PS_TRY(same_on_all(v, 4, comm, &same));
  PS_CHECK(same, PS_ERR_INTERNAL,
           "%s: table shape (features, name widths, rows) differs between ranks", path);
  return check_blocks(t->x->n_local, t->x->row_offset, t->x->n_global, comm, path, "/features");
cleanup:
  /* Every path here has the same err on every rank; agreeing again prints
   * the "differs" message, which nothing had agreed on yet. */
  return ps_err_agree(comm, err);
}

/* ------------------------------------------------------------- writers */

/* One dataset to create and write: this rank's rows [row_off, row_off +
 * n_rows) come from buf ([n_rows] x row_bytes). */
typedef struct {
  hid_t loc;
  const char *name; /* inside loc */
  const char *full; /* path in the file, for messages */
  hid_t ftype, mtype;
  int nd, chunked;
  int64_t n0, n1;
  const void *buf;
  int64_t row_off, n_rows;
  size_t row_bytes;
  hid_t did;
} wspec_t;

enum { MAX_SPECS = 24 };

typedef struct {
  wspec_t s[MAX_SPECS];
  int n;
} wlist_t;

static void wlist_init(wlist_t *w) {
  memset(w, 0, sizeof *w);
  for (int i = 0; i < MAX_SPECS; i++) w->s[i].did = NO_ID;
}

/* Add a dataset [n0] (nd 1) or [n0][n1] whose rows this rank writes. */
static void wlist_add(wlist_t *w, hid_t loc, const char *name, const char *full, hid_t ftype,
                      hid_t mtype, int nd, int64_t n0, int64_t n1, const void *buf, int64_t row_off,
                      int64_t n_rows, size_t row_bytes) {
  wspec_t *s;
  if (w->n >= MAX_SPECS) return; /* checked by wlist_create */
  s = &w->s[w->n++];
  s->loc = loc;
  s->name = name;
  s->full = full;
  s->ftype = ftype;
  s->mtype = mtype;
  s->nd = nd;
  s->n0 = n0;
  s->n1 = n1;
  s->buf = buf;
  s->row_off = row_off;
  s->n_rows = n_rows;
  s->row_bytes = row_bytes;
}

/* A replicated dataset: identical on every rank, written by rank 0 alone. */
static void wlist_add_rep(wlist_t *w, int rank, hid_t loc, const char *name, const char *full,
                          hid_t ftype, hid_t mtype, int nd, int64_t n0, int64_t n1, const void *buf,
                          size_t row_bytes) {
  wlist_add(w, loc, name, full, ftype, mtype, nd, n0, n1, buf, 0, rank == 0 ? n0 : 0, row_bytes);
}

/* Collective metadata: create every dataset of the list; returns the agreed
 * result (MAX_SPECS is a compile-time bound, the same verdict everywhere). */
static ps_err_t wlist_create(wlist_t *w, const char *file, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  PS_CHECK(w->n < MAX_SPECS, PS_ERR_INTERNAL, "too many datasets for one file");
  for (int i = 0; i < w->n; i++) {
    wspec_t *s = &w->s[i];
    PS_TRY(create_dset(s->loc, s->name, s->ftype, s->nd, s->n0, s->n1, s->chunked, file, comm,
                       &s->did));
  }
  return PS_OK;
cleanup:
  return ps_err_agree(comm, err);
}

/* Collective: write every dataset of the list; returns the agreed result. */
static ps_err_t wlist_write(wlist_t *w, MPI_Comm comm, const char *file) {
  ps_err_t err = PS_OK;
  for (int i = 0; i < w->n; i++) {
    wspec_t *s = &w->s[i];
    PS_TRY(xfer(s->did, s->mtype, s->row_bytes, 1, (void *)s->buf, s->row_off, s->n_rows, comm,
                file, s->full));
  }
cleanup:
  return err;
}

static void wlist_close(wlist_t *w) {
  for (int i = 0; i < MAX_SPECS; i++) h5_close(&w->s[i].did);
}

/* Collective. Copies of n strings from rank 0 (one allocation, *storage; free
 * it), so that attribute values are identical on every rank as parallel HDF5
 * requires. Returns the agreed result. */
static ps_err_t bcast_strings(const char *const *in, int n, const char **out, char **storage,
                              MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t len[8], total = 0;
  int rank;
  MPI_Comm_rank(comm, &rank);
  *storage = NULL;
  for (int i = 0; i < n && i < 8; i++) len[i] = (int64_t)strlen(in[i] ? in[i] : "");
  PS_CHECK(n <= 8, PS_ERR_INTERNAL, "bcast_strings: too many strings");
  PS_CALL_MPI(MPI_Bcast(len, n, MPI_INT64_T, 0, comm));
  for (int i = 0; i < n; i++) total += len[i] + 1;
  PS_CHECK(total < (int64_t)1 << 30, PS_ERR_ARG, "attribute strings too long (%lld bytes)",
           (long long)total);
  *storage = calloc((size_t)total, 1);
  PS_CHECK_ALLOC(*storage);
  if (rank == 0) {
    int64_t pos = 0;
    for (int i = 0; i < n; i++) {
      memcpy(*storage + pos, in[i] ? in[i] : "", (size_t)len[i]);
      pos += len[i] + 1;
    }
  }
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK && MPI_Bcast(*storage, (int)total, MPI_CHAR, 0, comm) != MPI_SUCCESS)
    err = ps_err_agree(comm, ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast failed"));
  if (err == PS_OK) {
    int64_t pos = 0;
    for (int i = 0; i < n; i++) {
      out[i] = *storage + pos;
      pos += len[i] + 1;
    }
  } else {
    free(*storage);
    *storage = NULL;
  }
  return err;
}

/* Collective. Close the file of a writer and rename or remove the temporary.
 * err is already agreed; only the close is agreed here. */
static ps_err_t finish_write(hid_t *fid, ps_outfile_t *of, ps_err_t err, const char *path,
                             MPI_Comm comm) {
  ps_err_t close_err = PS_OK;
  if (*fid >= 0) {
    herr_t rc = H5Fclose(*fid);
    *fid = NO_ID;
    if (rc < 0)
      close_err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot finish writing the file (%s)",
                           path, h5_detail());
  }
  if (err == PS_OK) err = ps_err_agree(comm, close_err);
  return ps_outfile_end(of, err, comm);
}

ps_err_t ps_h5_write_table(const char *path, int force, const ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_outfile_t of;
  hid_t fid = NO_ID, grows = NO_ID, ntype = NO_ID, fntype = NO_ID;
  wlist_t w;
  const char *str_in[3], *str[3] = {"", "", ""};
  char *storage = NULL;
  int64_t counts[2] = {0, 0};
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(&of, 0, sizeof of);
  wlist_init(&w);
  h5_init();
  err = check_table(t, comm, path);
  if (err != PS_OK) return err;
  str_in[0] = t->source;
  str_in[1] = t->source_sha256;
  str_in[2] = t->dropped_examples;
  err = bcast_strings(str_in, 3, str, &storage, comm);
  if (err != PS_OK) return err;
  counts[0] = t->n_read;
  counts[1] = t->n_dropped;
  if (MPI_Bcast(counts, 2, MPI_INT64_T, 0, comm) != MPI_SUCCESS)
    err = ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast failed");
  err = ps_err_agree(comm, err);
  if (err == PS_OK) err = ps_outfile_begin(&of, path, force, comm);
  if (err != PS_OK) {
    free(storage);
    return err;
  }
  err = open_mpio(of.tmp_path, 1, path, comm, &fid);
  if (err != PS_OK) goto cleanup;

  const ps_matrix_t *x = t->x;
  int64_t n = x->n_global, d = x->n_cols;
  STEP(str_type(t->name_width, H5T_CSET_UTF8, &ntype));
  STEP(str_type(t->fname_width, H5T_CSET_UTF8, &fntype));
  PS_AGREE(comm); /* local types first: from here on every step agrees itself */
  STEP(create_group(fid, "rows", path, comm, &grows));
  PS_AGREE(comm);
  wlist_add(&w, fid, "features", "/features", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, n, d, x->data,
            x->row_offset, x->n_local, (size_t)d * sizeof(double));
  w.s[0].chunked = 1;
  wlist_add(&w, grows, "id", "/rows/id", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, n, 0, t->ids,
            x->row_offset, x->n_local, sizeof(int64_t));
  wlist_add(&w, grows, "name", "/rows/name", ntype, ntype, 1, n, 0, t->names, x->row_offset,
            x->n_local, t->name_width);
  wlist_add_rep(&w, rank, fid, "feature_names", "/feature_names", fntype, fntype, 1, d, 0,
                t->feature_names, t->fname_width);
  STEP(wlist_create(&w, path, comm));
  STEP(put_str(fid, "source", str[0], path, comm));
  STEP(put_str(fid, "source_sha256", str[1], path, comm));
  STEP(put_str(fid, "popseg_version", POPSEG_VERSION, path, comm));
  STEP(put_i64(fid, "n_read", counts[0], path, comm));
  STEP(put_i64(fid, "n_dropped", counts[1], path, comm));
  STEP(put_str(fid, "dropped_examples", str[2], path, comm));
  PS_AGREE(comm);
  PS_TRY(wlist_write(&w, comm, path));
cleanup:
  wlist_close(&w);
  h5_close(&grows);
  h5_close(&ntype);
  h5_close(&fntype);
  free(storage);
  return finish_write(&fid, &of, err, path, comm);
}

/* Not collective. Local checks of a results record; v receives the shapes
 * that must agree across ranks. */
static ps_err_t results_local(const ps_results_t *r, const char *path, int64_t *v) {
  ps_err_t err = PS_OK;
  const ps_table_t *t = r ? r->table : NULL;
  const ps_matrix_t *pr = r ? r->projection : NULL;
  const ps_kmeans_t *km = r ? r->km : NULL;
  int fit = r && r->scale;
  int64_t n_local, d, K;
  PS_CHECK(t && t->x && t->ids && t->names && pr && km, PS_ERR_INTERNAL,
           "%s: incomplete results to write", path);
  n_local = t->x->n_local;
  d = t->x->n_cols;
  K = pr->n_cols;
  PS_CHECK(pr->n_local == n_local && pr->row_offset == t->x->row_offset &&
               pr->n_global == t->x->n_global,
           PS_ERR_INTERNAL, "%s: /projection rows do not match the table's rows", path);
  PS_CHECK(n_local == 0 || (km->labels && km->distance && pr->data), PS_ERR_INTERNAL,
           "%s: missing labels, distances or projection", path);
  if (fit) {
    const ps_pca_t *pca = r->pca;
    PS_CHECK(pca && r->centroids_features && km->centroids && km->sizes && t->feature_names &&
                 r->scale->offset && r->scale->factor && pca->mean && pca->components &&
                 pca->explained_variance && pca->explained_variance_ratio && pca->singular_values &&
                 km->n_runs >= 0 && (km->n_runs == 0 || (km->run_inertia && km->run_iterations)),
             PS_ERR_INTERNAL, "%s: incomplete model to write", path);
    PS_CHECK(r->scale->d == d && pca->d == d, PS_ERR_INTERNAL,
             "%s: scaling/PCA have %lld/%lld features, the table %lld", path,
             (long long)r->scale->d, (long long)pca->d, (long long)d);
    PS_CHECK(pca->n_kept == K && km->dim == K && pca->p >= K && km->k >= 1, PS_ERR_INTERNAL,
             "%s: inconsistent dimensions (kept %lld, projection %lld, centroids %lld, p %lld)",
             path, (long long)pca->n_kept, (long long)K, (long long)km->dim, (long long)pca->p);
    v[4] = km->k;
    v[5] = pca->p;
    v[6] = km->n_runs;
  }
  v[0] = t->x->n_global;
  v[1] = d;
  v[2] = K;
  v[3] = fit;
  v[7] = (int64_t)t->name_width;
  v[8] = (int64_t)t->fname_width;
cleanup:
  return err;
}

/* Collective. Validate a results record; returns the agreed result. */
static ps_err_t check_results(const ps_results_t *r, MPI_Comm comm, const char *path) {
  ps_err_t err = PS_OK;
  int same = 0;
  int64_t v[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  err = results_local(r, path, v);
  PS_AGREE(comm);
  PS_TRY(same_on_all(v, 9, comm, &same));
  PS_CHECK(same, PS_ERR_INTERNAL, "%s: results shapes differ between ranks", path);
  return check_blocks(r->table->x->n_local, r->table->x->row_offset, r->table->x->n_global, comm,
                      path, "/projection");
cleanup:
  return ps_err_agree(comm, err); /* as in check_table */
}

ps_err_t ps_h5_write_results(const char *path, int force, const ps_results_t *r, MPI_Comm comm) {
  static const char *const time_attr[PS_T_COUNT] = {"time_read_s", "time_scale_s", "time_pca_s",
                                                    "time_kmeans_s", "time_write_s"};
  ps_err_t err = PS_OK;
  ps_outfile_t of;
  hid_t fid = NO_ID, grows = NO_ID, gscale = NO_ID, gpca = NO_ID, gkm = NO_ID;
  hid_t ntype = NO_ID, fntype = NO_ID;
  wlist_t w;
  const char *str_in[5], *str[5] = {"", "", "", "", ""};
  char *storage = NULL;
  double times[PS_T_COUNT];
  int rank, fit;
  MPI_Comm_rank(comm, &rank);
  memset(&of, 0, sizeof of);
  wlist_init(&w);
  h5_init();
  err = check_results(r, comm, path);
  if (err != PS_OK) return err;
  fit = r->scale != NULL;
  /* Attribute values must be identical on all ranks: take rank 0's. */
  str_in[0] = r->command_line;
  str_in[1] = r->model_path;
  str_in[2] = r->init_name;
  str_in[3] = r->table->source;
  str_in[4] = r->table->source_sha256;
  err = bcast_strings(str_in, 5, str, &storage, comm);
  if (err != PS_OK) return err;
  memcpy(times, r->times, sizeof times);
  err = ps_err_agree(comm, ps_bcast_double(times, PS_T_COUNT, 0, comm));
  if (err == PS_OK) err = ps_outfile_begin(&of, path, force, comm);
  if (err != PS_OK) {
    free(storage);
    return err;
  }
  err = open_mpio(of.tmp_path, 1, path, comm, &fid);
  if (err != PS_OK) goto cleanup;

  const ps_table_t *t = r->table;
  const ps_matrix_t *x = t->x, *pr = r->projection;
  const ps_kmeans_t *km = r->km;
  int64_t n = x->n_global, d = x->n_cols, K = pr->n_cols, off = x->row_offset, nl = x->n_local;
  STEP(str_type(t->name_width, H5T_CSET_UTF8, &ntype));
  STEP(str_type(t->fname_width, H5T_CSET_UTF8, &fntype));
  PS_AGREE(comm); /* local types first: from here on every step agrees itself */
  STEP(create_group(fid, "rows", path, comm, &grows));
  if (fit) {
    STEP(create_group(fid, "scale", path, comm, &gscale));
    STEP(create_group(fid, "pca", path, comm, &gpca));
  }
  STEP(create_group(fid, "kmeans", path, comm, &gkm));
  PS_AGREE(comm);

  wlist_add(&w, grows, "id", "/rows/id", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, n, 0, t->ids, off, nl,
            sizeof(int64_t));
  wlist_add(&w, grows, "name", "/rows/name", ntype, ntype, 1, n, 0, t->names, off, nl,
            t->name_width);
  wlist_add(&w, fid, "projection", "/projection", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, n, K,
            pr->data, off, nl, (size_t)K * sizeof(double));
  wlist_add(&w, gkm, "labels", "/kmeans/labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, n, 0,
            km->labels, off, nl, sizeof(int32_t));
  wlist_add(&w, gkm, "distance", "/kmeans/distance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, n, 0,
            km->distance, off, nl, sizeof(double));
  if (fit) {
    const ps_scale_t *sc = r->scale;
    const ps_pca_t *pca = r->pca;
    int64_t p = pca->p, k = km->k, nr = km->n_runs;
    size_t drow = (size_t)d * sizeof(double), krow = (size_t)K * sizeof(double);
    wlist_add_rep(&w, rank, fid, "feature_names", "/feature_names", fntype, fntype, 1, d, 0,
                  t->feature_names, t->fname_width);
    wlist_add_rep(&w, rank, gscale, "offset", "/scale/offset", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                  d, 0, sc->offset, sizeof(double));
    wlist_add_rep(&w, rank, gscale, "factor", "/scale/factor", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                  d, 0, sc->factor, sizeof(double));
    wlist_add_rep(&w, rank, gpca, "mean", "/pca/mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, d, 0,
                  pca->mean, sizeof(double));
    wlist_add_rep(&w, rank, gpca, "components", "/pca/components", H5T_IEEE_F64LE,
                  H5T_NATIVE_DOUBLE, 2, p, d, pca->components, drow);
    wlist_add_rep(&w, rank, gpca, "explained_variance", "/pca/explained_variance", H5T_IEEE_F64LE,
                  H5T_NATIVE_DOUBLE, 1, p, 0, pca->explained_variance, sizeof(double));
    wlist_add_rep(&w, rank, gpca, "explained_variance_ratio", "/pca/explained_variance_ratio",
                  H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, p, 0, pca->explained_variance_ratio,
                  sizeof(double));
    wlist_add_rep(&w, rank, gpca, "singular_values", "/pca/singular_values", H5T_IEEE_F64LE,
                  H5T_NATIVE_DOUBLE, 1, p, 0, pca->singular_values, sizeof(double));
    wlist_add_rep(&w, rank, gkm, "centroids", "/kmeans/centroids", H5T_IEEE_F64LE,
                  H5T_NATIVE_DOUBLE, 2, k, K, km->centroids, krow);
    wlist_add_rep(&w, rank, gkm, "centroids_features", "/kmeans/centroids_features", H5T_IEEE_F64LE,
                  H5T_NATIVE_DOUBLE, 2, k, d, r->centroids_features, drow);
    wlist_add_rep(&w, rank, gkm, "sizes", "/kmeans/sizes", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, k, 0,
                  km->sizes, sizeof(int64_t));
    wlist_add_rep(&w, rank, gkm, "run_inertia", "/kmeans/run_inertia", H5T_IEEE_F64LE,
                  H5T_NATIVE_DOUBLE, 1, nr, 0, km->run_inertia, sizeof(double));
    wlist_add_rep(&w, rank, gkm, "run_iterations", "/kmeans/run_iterations", H5T_STD_I32LE,
                  H5T_NATIVE_INT, 1, nr, 0, km->run_iterations, sizeof(int));
  }
  STEP(wlist_create(&w, path, comm));

  STEP(put_str(fid, "popseg_version", POPSEG_VERSION, path, comm));
  STEP(put_str(fid, "command_line", str[0], path, comm));
  STEP(put_i64(fid, "n_ranks", (int64_t)r->n_ranks, path, comm));
  for (int i = 0; i < PS_T_COUNT; i++) STEP(put_f64(fid, time_attr[i], times[i], path, comm));
  STEP(put_str(fid, "source", str[3], path, comm));
  STEP(put_str(fid, "source_sha256", str[4], path, comm));
  STEP(put_i64(fid, "n_rows", n, path, comm));
  if (!fit) STEP(put_str(fid, "model", str[1], path, comm));
  if (fit) {
    const ps_pca_t *pca = r->pca;
    STEP(put_i64(fid, "n_read", t->n_read, path, comm));
    STEP(put_i64(fid, "n_dropped", t->n_dropped, path, comm));
    STEP(put_str(gscale, "kind", ps_scale_kind_name(r->scale->kind), path, comm));
    STEP(put_i64(gpca, "n_kept", pca->n_kept, path, comm));
    STEP(put_i64(gpca, "n_samples", pca->n_samples, path, comm));
    STEP(put_str(gpca, "solver", ps_pca_solver_name(pca->solver_used), path, comm));
    STEP(put_f64(gpca, "total_variance", pca->total_variance, path, comm));
    STEP(put_f64(gkm, "inertia", km->inertia, path, comm));
    STEP(put_i64(gkm, "iterations", km->iterations, path, comm));
    STEP(put_i64(gkm, "converged", km->converged, path, comm));
    STEP(put_u64(gkm, "seed", r->seed, path, comm));
    STEP(put_str(gkm, "init", str[2], path, comm));
    STEP(put_i64(gkm, "n_init", r->n_init, path, comm));
    STEP(put_i64(gkm, "best_run", km->best_run, path, comm));
  }
  PS_AGREE(comm);
  PS_TRY(wlist_write(&w, comm, path));
cleanup:
  wlist_close(&w);
  h5_close(&grows);
  h5_close(&gscale);
  h5_close(&gpca);
  h5_close(&gkm);
  h5_close(&ntype);
  h5_close(&fntype);
  free(storage);
  return finish_write(&fid, &of, err, path, comm);
}

/* ----------------------------------------------------------------- model */

enum { M_FNAMES, M_OFFSET, M_FACTOR, M_MEAN, M_COMP, M_EV, M_EVR, M_SV, M_CENT, M_COUNT };

/* Not collective. Validate the model part of a results file and allocate the
 * model it describes. ds[M_COUNT] receives the open datasets. */
static ps_err_t model_layout(hid_t fid, const char *file, hid_t *ds, H5T_cset_t *fname_cset,
                             ps_model_t **out) {
  ps_err_t err = PS_OK;
  hid_t gscale = NO_ID, gpca = NO_ID;
  ps_model_t *m = NULL;
  char kind_s[64] = "", solver_s[64] = "";
  int kind = -1;
  int64_t dims[2], d, p, K, k, n_samples = 0;
  double total_variance = 0.0;
  size_t fw = 1;
  static const char *const s_feat[1] = {"features"};
  static const char *const s_p[2] = {"p", NULL};
  static const char *const s_k[2] = {"k", NULL};
  htri_t pred;
  *out = NULL;

  pred = H5Aexists(fid, "model");
  PS_CHECK(pred >= 0, PS_ERR_FORMAT, "%s: /: cannot read the attributes (%s)", file, h5_detail());
  PS_CHECK(pred == 0, PS_ERR_FORMAT,
           "%s: is a predictions file, not a model (give the results file of a fit)", file);
  PS_TRY(need_dset(fid, file, "/feature_names", 1, H5T_STRING, NULL, s_feat, &ds[M_FNAMES], dims,
                   &fw, fname_cset));
  d = dims[0];
  PS_CHECK(d >= 1, PS_ERR_FORMAT, "%s: /feature_names: the model has no features", file);

  PS_CHECK(H5Lexists(fid, "/scale", H5P_DEFAULT) > 0, PS_ERR_FORMAT,
           "%s: /scale: group not found (not the results file of a fit?)", file);
  gscale = H5Gopen2(fid, "/scale", H5P_DEFAULT);
  PS_CHECK(gscale >= 0, PS_ERR_FORMAT, "%s: /scale: not a group", file);
  PS_TRY(get_str(gscale, "kind", kind_s, sizeof kind_s, 1, file, "/scale", NULL));
  for (int i = PS_SCALE_MINMAX; i <= PS_SCALE_NONE; i++)
    if (strcmp(ps_scale_kind_name((ps_scale_kind_t)i), kind_s) == 0) kind = i;
  PS_CHECK(kind >= 0, PS_ERR_FORMAT, "%s: /scale: unknown scaling kind '%s' in attribute 'kind'",
           file, kind_s);
  int64_t want_d[2] = {d, d};
  PS_TRY(need_dset(fid, file, "/scale/offset", 1, H5T_FLOAT, want_d, NULL, &ds[M_OFFSET], dims,
                   NULL, NULL));
  PS_TRY(need_dset(fid, file, "/scale/factor", 1, H5T_FLOAT, want_d, NULL, &ds[M_FACTOR], dims,
                   NULL, NULL));

  int64_t want_pd[2] = {-1, d};
  PS_TRY(need_dset(fid, file, "/pca/components", 2, H5T_FLOAT, want_pd, s_p, &ds[M_COMP], dims,
                   NULL, NULL));
  p = dims[0];
  PS_CHECK(p >= 1, PS_ERR_FORMAT, "%s: /pca/components: the model has no components", file);
  int64_t want_p[1] = {p};
  PS_TRY(
      need_dset(fid, file, "/pca/mean", 1, H5T_FLOAT, want_d, NULL, &ds[M_MEAN], dims, NULL, NULL));
  PS_TRY(need_dset(fid, file, "/pca/explained_variance", 1, H5T_FLOAT, want_p, NULL, &ds[M_EV],
                   dims, NULL, NULL));
  PS_TRY(need_dset(fid, file, "/pca/explained_variance_ratio", 1, H5T_FLOAT, want_p, NULL,
                   &ds[M_EVR], dims, NULL, NULL));
  PS_TRY(need_dset(fid, file, "/pca/singular_values", 1, H5T_FLOAT, want_p, NULL, &ds[M_SV], dims,
                   NULL, NULL));
  gpca = H5Gopen2(fid, "/pca", H5P_DEFAULT);
  PS_CHECK(gpca >= 0, PS_ERR_FORMAT, "%s: /pca: not a group", file);
  K = 0;
  PS_TRY(get_num(gpca, "n_kept", H5T_NATIVE_INT64, &K, 1, file, "/pca"));
  PS_CHECK(K >= 1 && K <= p, PS_ERR_FORMAT,
           "%s: /pca: attribute n_kept = %lld must be between 1 and %lld (the components)", file,
           (long long)K, (long long)p);
  PS_TRY(get_num(gpca, "n_samples", H5T_NATIVE_INT64, &n_samples, 0, file, "/pca"));
  PS_TRY(get_num(gpca, "total_variance", H5T_NATIVE_DOUBLE, &total_variance, 0, file, "/pca"));
  PS_TRY(get_str(gpca, "solver", solver_s, sizeof solver_s, 0, file, "/pca", NULL));

  int64_t want_kk[2] = {-1, K};
  PS_TRY(need_dset(fid, file, "/kmeans/centroids", 2, H5T_FLOAT, want_kk, s_k, &ds[M_CENT], dims,
                   NULL, NULL));
  k = dims[0];
  PS_CHECK(k >= 1, PS_ERR_FORMAT, "%s: /kmeans/centroids: the model has no clusters", file);

  m = calloc(1, sizeof *m);
  PS_CHECK_ALLOC(m);
  PS_TRY(ps_scale_create((ps_scale_kind_t)kind, d, &m->scale));
  PS_TRY(ps_pca_create(d, p, &m->pca));
  m->pca->n_kept = K;
  m->pca->n_samples = n_samples;
  m->pca->total_variance = total_variance;
  m->pca->solver_used = strcmp(solver_s, "scalapack") == 0 ? PS_PCA_SCALAPACK : PS_PCA_LAPACK;
  m->k = k;
  m->centroids = calloc((size_t)(k * K), sizeof(double));
  PS_CHECK_ALLOC(m->centroids);
  m->feature_names = calloc((size_t)d, fw);
  PS_CHECK_ALLOC(m->feature_names);
  m->fname_width = fw;
  *out = m;
  m = NULL;
cleanup:
  h5_close(&gscale);
  h5_close(&gpca);
  ps_model_destroy(&m);
  return err;
}

ps_err_t ps_h5_read_model(const char *path, MPI_Comm comm, ps_model_t **out) {
  ps_err_t err = PS_OK;
  hid_t fid = NO_ID, fntype = NO_ID, ds[M_COUNT];
  H5T_cset_t cset = H5T_CSET_UTF8;
  ps_model_t *m = NULL;
  *out = NULL;
  for (int i = 0; i < M_COUNT; i++) ds[i] = NO_ID;
  h5_init();
  err = check_input(path, comm);
  if (err != PS_OK) return err;
  err = open_mpio(path, 0, path, comm, &fid);
  if (err != PS_OK) goto cleanup;
  err = model_layout(fid, path, ds, &cset, &m);
  if (err == PS_OK) err = str_type(m->fname_width, cset, &fntype);
  PS_AGREE(comm);
  int64_t d = m->pca->d, p = m->pca->p, K = m->pca->n_kept;
  size_t b = sizeof(double);
  /* Every rank reads everything (small replicated datasets). */
  PS_TRY(xfer(ds[M_FNAMES], fntype, m->fname_width, 0, m->feature_names, 0, d, comm, path,
              "/feature_names"));
  PS_TRY(xfer(ds[M_OFFSET], H5T_NATIVE_DOUBLE, b, 0, m->scale->offset, 0, d, comm, path,
              "/scale/offset"));
  PS_TRY(xfer(ds[M_FACTOR], H5T_NATIVE_DOUBLE, b, 0, m->scale->factor, 0, d, comm, path,
              "/scale/factor"));
  PS_TRY(xfer(ds[M_MEAN], H5T_NATIVE_DOUBLE, b, 0, m->pca->mean, 0, d, comm, path, "/pca/mean"));
  PS_TRY(xfer(ds[M_COMP], H5T_NATIVE_DOUBLE, (size_t)d * b, 0, m->pca->components, 0, p, comm, path,
              "/pca/components"));
  PS_TRY(xfer(ds[M_EV], H5T_NATIVE_DOUBLE, b, 0, m->pca->explained_variance, 0, p, comm, path,
              "/pca/explained_variance"));
  PS_TRY(xfer(ds[M_EVR], H5T_NATIVE_DOUBLE, b, 0, m->pca->explained_variance_ratio, 0, p, comm,
              path, "/pca/explained_variance_ratio"));
  PS_TRY(xfer(ds[M_SV], H5T_NATIVE_DOUBLE, b, 0, m->pca->singular_values, 0, p, comm, path,
              "/pca/singular_values"));
  PS_TRY(xfer(ds[M_CENT], H5T_NATIVE_DOUBLE, (size_t)K * b, 0, m->centroids, 0, m->k, comm, path,
              "/kmeans/centroids"));
  err = terminate_strings(&m->feature_names, &m->fname_width, d, 0, comm);
  PS_AGREE(comm);
cleanup:
  for (int i = 0; i < M_COUNT; i++) h5_close(&ds[i]);
  h5_close(&fntype);
  err = close_file(&fid, err, path, comm);
  if (err == PS_OK) {
    *out = m;
    m = NULL;
  }
  ps_model_destroy(&m);
  return err;
}

ps_err_t ps_h5_read_fit_labels(const char *path, MPI_Comm comm, int64_t *n, int64_t **ids,
                               int32_t **labels) {
  ps_err_t err = PS_OK;
  hid_t fid = NO_ID, did = NO_ID, dlab = NO_ID;
  int64_t dims[1] = {0}, want[1] = {0}, nn = 0;
  int64_t *id_buf = NULL;
  int32_t *lab_buf = NULL;
  static const char *const s_rows[1] = {"rows"};
  *n = 0;
  *ids = NULL;
  *labels = NULL;
  h5_init();
  err = check_input(path, comm);
  if (err != PS_OK) return err;
  err = open_mpio(path, 0, path, comm, &fid);
  if (err != PS_OK) goto cleanup;
  STEP(need_dset(fid, path, "/rows/id", 1, H5T_INTEGER, NULL, s_rows, &did, dims, NULL, NULL));
  nn = want[0] = dims[0];
  STEP(need_dset(fid, path, "/kmeans/labels", 1, H5T_INTEGER, want, s_rows, &dlab, dims, NULL,
                 NULL));
  if (err == PS_OK) {
    id_buf = malloc((size_t)(nn > 0 ? nn : 1) * sizeof *id_buf);
    lab_buf = malloc((size_t)(nn > 0 ? nn : 1) * sizeof *lab_buf);
    if (!id_buf || !lab_buf)
      err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "%s: out of memory for %lld labels", path,
                     (long long)nn);
  }
  PS_AGREE(comm);
  PS_TRY(xfer(did, H5T_NATIVE_INT64, sizeof(int64_t), 0, id_buf, 0, nn, comm, path, "/rows/id"));
  PS_TRY(xfer(dlab, H5T_NATIVE_INT32, sizeof(int32_t), 0, lab_buf, 0, nn, comm, path,
              "/kmeans/labels"));
cleanup:
  h5_close(&did);
  h5_close(&dlab);
  err = close_file(&fid, err, path, comm);
  if (err == PS_OK) {
    *n = nn;
    *ids = id_buf;
    *labels = lab_buf;
  } else {
    free(id_buf);
    free(lab_buf);
  }
  return err;
}
