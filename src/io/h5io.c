/* h5io.c - parallel HDF5: the collective writer of a described file, and the
 * collective readers of datasets and attributes (see h5io.h).
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
 * close, dataset/group/attribute creation, dimension scales, links) are made
 * by all ranks with identical arguments, and the local set-up they need
 * (types, dataspaces, property lists) is agreed on before the call. A
 * collective call that fails on some ranks only leaves HDF5's shared state
 * split, which no collective clean-up survives: ps_err_agree_or_abort removes
 * the temporary file and ends the job instead of hanging.
 */
#include "popseg/h5io.h"

#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <hdf5_hl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "popseg/mem.h"
#include "popseg/outfile.h"
#include "popseg/reduce.h"

#define NO_ID ((hid_t)-1)
#define DEFAULT_IO_CHUNK_BYTES ((int64_t)1 << 30)

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

/* h5io.h. */
int64_t ps_h5_io_chunk_bytes(void) {
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
  struct stat st;
  /* Only a regular file: opening a FIFO would wait for a writer. */
  if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  FILE *f = fopen(path, "rb");
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

static int class_ok(ps_h5type_t t, H5T_class_t c) {
  switch (t) {
  case PS_H5_F64:
    return c == H5T_FLOAT;
  case PS_H5_NUM:
    return c == H5T_FLOAT || c == H5T_INTEGER;
  case PS_H5_STR:
    return c == H5T_STRING;
  default:
    return c == H5T_INTEGER;
  }
}

static const char *type_noun(ps_h5type_t t) {
  switch (t) {
  case PS_H5_F64:
    return "floating-point numbers";
  case PS_H5_NUM:
    return "numbers";
  case PS_H5_STR:
    return "strings";
  default:
    return "integers";
  }
}

/* Not collective. Open dataset dname and check its rank, element class and
 * (where want[i] >= 0) extents. dims receives the extents [nd]; for strings
 * *width and *cset describe the fixed-length type (may be NULL). */
static ps_err_t need_dset(hid_t fid, const char *file, const char *dname, int nd, ps_h5type_t cls,
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
  PS_CHECK(class_ok(cls, c), PS_ERR_FORMAT, "%s: %s: expected %s, found %s", file, dname,
           type_noun(cls), class_name(c));
  if (cls == PS_H5_STR) {
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
  step = ps_h5_io_chunk_bytes() / (int64_t)row_bytes;
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

/* Collective metadata. Create dataset name in loc: [n0] (nd = 1) or [n0][n1],
 * contiguous. A table's features were stored in chunks of about 1 MiB of
 * whole rows until 2026-12-07: reading them collectively, HDF5 maps every
 * chunk a rank selects before any byte moves (the 4M-row read at 2 ranks:
 * 0.20-0.21 s chunked, 0.13-0.17 s contiguous), where a contiguous dataset is
 * one file range per rank. Such files still read. */
static ps_err_t create_dset(hid_t loc, const char *name, hid_t ftype, int nd, int64_t n0,
                            int64_t n1, const char *file, MPI_Comm comm, hid_t *out) {
  ps_err_t err = PS_OK;
  hid_t space = NO_ID, dcpl = NO_ID;
  hsize_t dims[2] = {(hsize_t)n0, (hsize_t)n1};
  *out = NO_ID;
  space = H5Screate_simple(nd, dims, NULL);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  /* Every element is written by us: skip writing fill values first. */
  /* No time stamps in object headers: a file's bytes depend on its content
   * only (the same for a seed whatever the rank count or the hour). */
  if (space < 0 || dcpl < 0 || H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
      H5Pset_obj_track_times(dcpl, 0) < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot prepare dataset %s (%s)", file, name,
                   h5_detail());
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
                        const char *file, const char *where, int *found_out) {
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
  if (found_out) *found_out = found;
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
 * Otherwise narrow all to the longest one's length plus its NUL.
 * collective: agree on the widening across comm (distributed names). */
static ps_err_t terminate_strings(char **buf, size_t *width, int64_t count, int collective,
                                  MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t full = 0, used = 1;
  size_t w = *width;
  char *wide = NULL;
  for (int64_t i = 0; i < count && !full; i++)
    if ((*buf)[(size_t)i * w + w - 1] != '\0') full = 1;
  if (collective) PS_TRY(ps_reduce_max_i64(&full, 1, comm));
  if (full) {
    wide = ps_rows_calloc((size_t)count, w + 1);
    PS_CHECK_ALLOC(wide);
    for (int64_t i = 0; i < count; i++) memcpy(wide + (size_t)i * (w + 1), *buf + (size_t)i * w, w);
    free(*buf);
    *buf = wide;
    wide = NULL;
    *width = w + 1;
    return PS_OK;
  }
  /* Narrow to the longest string (with its NUL) over all ranks: names are
   * held for every row, and files often declare a generous width. */
  for (int64_t i = 0; i < count; i++) {
    /* A NUL at used - 1 already bounds the string (the usual padding): one
     * byte read, not a strnlen call, for most rows (names are millions). */
    const char *row = *buf + (size_t)i * w;
    if (row[used - 1] == '\0') continue;
    const size_t l = strnlen(row, w) + 1;
    if ((int64_t)l > used) used = (int64_t)l;
  }
  if (collective) PS_TRY(ps_reduce_max_i64(&used, 1, comm));
  if ((size_t)used < w) {
    const size_t nw = (size_t)used;
    /* Forward in place: row i moves down from i w to i nw (nw < w). When
     * the rows shrink by 8 bytes or more, in whole 8-byte words: a word read
     * stays inside its row (nw rounded up to 8 is below w), and the bytes
     * written past i nw + nw are the next row's, written again by its own
     * copy, never a row not yet copied (its start, (i + 1) w, lies beyond).
     * A memmove per row cost 5 ns, 25 ms of the 10M-row read. */
    if (w - nw >= 8) {
      const size_t words = (nw + 7) / 8;
      for (int64_t i = 1; i < count; i++) {
        const char *src = *buf + (size_t)i * w;
        char *dst = *buf + (size_t)i * nw;
        for (size_t q = 0; q < words; q++) {
          uint64_t t;
          memcpy(&t, src + 8 * q, 8);
          memcpy(dst + 8 * q, &t, 8);
        }
      }
    } else {
      for (int64_t i = 1; i < count; i++) memmove(*buf + (size_t)i * nw, *buf + (size_t)i * w, nw);
    }
    char *shrunk = realloc(*buf, (size_t)(count > 0 ? count : 1) * nw);
    if (shrunk) *buf = shrunk;
    *width = nw;
  }
cleanup:
  free(wide);
  return err;
}

/* ----------------------------------------------------------- finishing */

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

static hid_t mem_type(ps_h5type_t t) {
  switch (t) {
  case PS_H5_I64:
    return H5T_NATIVE_INT64;
  case PS_H5_I32:
    return H5T_NATIVE_INT32;
  case PS_H5_U64:
    return H5T_NATIVE_UINT64;
  default:
    return H5T_NATIVE_DOUBLE;
  }
}

static hid_t file_type(ps_h5type_t t) {
  switch (t) {
  case PS_H5_I64:
    return H5T_STD_I64LE;
  case PS_H5_I32:
    return H5T_STD_I32LE;
  case PS_H5_U64:
    return H5T_STD_U64LE;
  default:
    return H5T_IEEE_F64LE;
  }
}

static size_t elem_size(ps_h5type_t t, size_t width) {
  switch (t) {
  case PS_H5_I32:
    return 4;
  case PS_H5_STR:
    return width > 0 ? width : 1;
  default:
    return 8;
  }
}

/* ================================================================ writer */

/* Room for a sweep of PS_SWEEP_MAX_K values of k (a group, a dimension, four
 * datasets and an attribute each) besides a results file's own. */
enum {
  MAX_DIMS = 24 + 100,
  MAX_SETS = 64 + 4 * 100,
  MAX_ATTRS = 96 + 100,
  MAX_GROUPS = 24 + 100,
  NAME_LEN = 96
};

typedef struct {
  char name[NAME_LEN]; /* "row", or "pca/component" inside a group */
  int64_t len;
  ps_h5type_t type;
  size_t width;
  const void *coord; /* NULL: the integers index_first, index_first + 1, ... */
  int index_first;
  ps_h5w_gen_fn gen; /* or generated piece by piece (then coord is unused) */
  void *gen_ctx;
  const char *description;
  hid_t did, ftype;
  int32_t *index_buf;
} wdim_t;

typedef struct {
  char path[NAME_LEN];
  ps_h5type_t type;
  size_t width;
  int nd;
  int dim[2]; /* indices into the dims */
  const void *buf;
  ps_h5w_gen_fn gen; /* or generated piece by piece (then buf is unused) */
  void *gen_ctx;
  const char *description;
  hid_t did, ftype;
} wset_t;

typedef struct {
  char obj[NAME_LEN];
  char name[64];
  ps_h5type_t type; /* I64, U64, F64 or STR */
  union {
    int64_t i;
    uint64_t u;
    double f;
  } v;
  const char *s;
} wattr_t;

struct ps_h5w {
  char err[256]; /* the first description error, "" if none */
  int ndims, nsets, nattrs;
  wdim_t dims[MAX_DIMS];
  wset_t sets[MAX_SETS];
  wattr_t attrs[MAX_ATTRS];
  int rows_dim; /* the distributed dimension, -1 if none */
  int64_t row_off, row_n;
};

__attribute__((format(printf, 2, 3))) static void wfail(ps_h5w_t *w, const char *fmt, ...) {
  if (w->err[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->err, sizeof w->err, fmt, ap);
  va_end(ap);
}

ps_err_t ps_h5w_create(ps_h5w_t **out) {
  ps_err_t err = PS_OK;
  *out = calloc(1, sizeof **out);
  PS_CHECK_ALLOC(*out);
  (*out)->rows_dim = -1;
  for (int i = 0; i < MAX_DIMS; i++) (*out)->dims[i].did = (*out)->dims[i].ftype = NO_ID;
  for (int i = 0; i < MAX_SETS; i++) (*out)->sets[i].did = (*out)->sets[i].ftype = NO_ID;
cleanup:
  return err;
}

void ps_h5w_destroy(ps_h5w_t **w) {
  if (!w || !*w) return;
  for (int i = 0; i < MAX_DIMS; i++) {
    h5_close(&(*w)->dims[i].did);
    h5_close(&(*w)->dims[i].ftype);
    free((*w)->dims[i].index_buf);
  }
  for (int i = 0; i < MAX_SETS; i++) {
    h5_close(&(*w)->sets[i].did);
    h5_close(&(*w)->sets[i].ftype);
  }
  free(*w);
  *w = NULL;
}

static int copy_name(ps_h5w_t *w, char *dst, const char *src) {
  if (!src || strlen(src) >= NAME_LEN) {
    wfail(w, "name too long: %s", src ? src : "(null)");
    return 0;
  }
  snprintf(dst, NAME_LEN, "%s", src);
  return 1;
}

static int find_dim(const ps_h5w_t *w, const char *name) {
  for (int i = 0; i < w->ndims; i++)
    if (!strcmp(w->dims[i].name, name)) return i;
  return -1;
}

void ps_h5w_dim(ps_h5w_t *w, const char *name, int64_t len, ps_h5type_t type, size_t width,
                const void *coord, const char *description) {
  if (w->ndims >= MAX_DIMS) {
    wfail(w, "too many dimensions (%d)", MAX_DIMS);
    return;
  }
  if (find_dim(w, name) >= 0) {
    wfail(w, "dimension %s declared twice", name);
    return;
  }
  wdim_t *d = &w->dims[w->ndims];
  if (!copy_name(w, d->name, name)) return;
  d->len = len;
  d->type = type;
  d->width = width;
  d->coord = coord;
  d->description = description;
  w->ndims++;
}

void ps_h5w_dim_index(ps_h5w_t *w, const char *name, int64_t len, int first,
                      const char *description) {
  ps_h5w_dim(w, name, len, PS_H5_I32, 0, NULL, description);
  if (w->ndims > 0 && !strcmp(w->dims[w->ndims - 1].name, name))
    w->dims[w->ndims - 1].index_first = first;
}

void ps_h5w_rows(ps_h5w_t *w, const char *dim, int64_t off, int64_t n_local) {
  w->rows_dim = find_dim(w, dim);
  if (w->rows_dim < 0) wfail(w, "unknown distributed dimension %s", dim);
  w->row_off = off;
  w->row_n = n_local;
}

/* The dimension a dataset at path means by name: in its group, then in each
 * parent up to the root (netCDF-4 scoping). */
static int resolve_dim(const ps_h5w_t *w, const char *path, const char *name) {
  char scope[NAME_LEN * 2];
  snprintf(scope, sizeof scope, "%s", path);
  for (;;) {
    char *slash = strrchr(scope, '/');
    if (!slash) break;
    *slash = '\0';
    char full[NAME_LEN * 3];
    snprintf(full, sizeof full, "%s/%s", scope, name);
    int i = find_dim(w, full);
    if (i >= 0) return i;
  }
  return find_dim(w, name);
}

void ps_h5w_data(ps_h5w_t *w, const char *path, ps_h5type_t type, size_t width, const char *dims,
                 const void *buf, const char *description) {
  if (w->nsets >= MAX_SETS) {
    wfail(w, "too many datasets (%d)", MAX_SETS);
    return;
  }
  wset_t *s = &w->sets[w->nsets];
  if (!copy_name(w, s->path, path)) return;
  s->type = type;
  s->width = width;
  s->buf = buf;
  s->description = description;
  s->nd = 0;
  char names[NAME_LEN];
  snprintf(names, sizeof names, "%s", dims);
  for (char *tok = strtok(names, ","); tok; tok = strtok(NULL, ",")) {
    int di = resolve_dim(w, path, tok);
    if (di < 0 || s->nd >= 2) {
      wfail(w, "%s: unknown dimension '%s' (or more than 2)", path, tok);
      return;
    }
    s->dim[s->nd++] = di;
  }
  if (s->nd == 0) {
    wfail(w, "%s: no dimensions", path);
    return;
  }
  w->nsets++;
}

void ps_h5w_data_gen(ps_h5w_t *w, const char *path, ps_h5type_t type, size_t width,
                     const char *dims, ps_h5w_gen_fn gen, void *ctx, const char *description) {
  int before = w->nsets;
  ps_h5w_data(w, path, type, width, dims, NULL, description);
  if (w->nsets == before) return;
  w->sets[w->nsets - 1].gen = gen;
  w->sets[w->nsets - 1].gen_ctx = ctx;
  if (w->sets[w->nsets - 1].dim[0] != w->rows_dim)
    wfail(w, "%s: a generated dataset must run along the distributed dimension", path);
}

void ps_h5w_dim_gen(ps_h5w_t *w, const char *name, int64_t len, ps_h5type_t type, size_t width,
                    ps_h5w_gen_fn gen, void *ctx, const char *description) {
  int before = w->ndims;
  ps_h5w_dim(w, name, len, type, width, NULL, description);
  if (w->ndims == before) return;
  w->dims[w->ndims - 1].gen = gen;
  w->dims[w->ndims - 1].gen_ctx = ctx;
}

static wattr_t *add_attr(ps_h5w_t *w, const char *obj, const char *name, ps_h5type_t type) {
  if (w->nattrs >= MAX_ATTRS) {
    wfail(w, "too many attributes (%d)", MAX_ATTRS);
    return NULL;
  }
  wattr_t *a = &w->attrs[w->nattrs];
  if (!copy_name(w, a->obj, obj) || strlen(name) >= sizeof a->name) return NULL;
  snprintf(a->name, sizeof a->name, "%s", name);
  a->type = type;
  w->nattrs++;
  return a;
}

void ps_h5w_attr_i64(ps_h5w_t *w, const char *obj, const char *name, int64_t v) {
  wattr_t *a = add_attr(w, obj, name, PS_H5_I64);
  if (a) a->v.i = v;
}
void ps_h5w_attr_u64(ps_h5w_t *w, const char *obj, const char *name, uint64_t v) {
  wattr_t *a = add_attr(w, obj, name, PS_H5_U64);
  if (a) a->v.u = v;
}
void ps_h5w_attr_f64(ps_h5w_t *w, const char *obj, const char *name, double v) {
  wattr_t *a = add_attr(w, obj, name, PS_H5_F64);
  if (a) a->v.f = v;
}
void ps_h5w_attr_str(ps_h5w_t *w, const char *obj, const char *name, const char *v) {
  wattr_t *a = add_attr(w, obj, name, PS_H5_STR);
  if (a) a->s = v ? v : "";
}

/* ------------------------------------------------------ writer: checks */

static int64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (int64_t)(h >> 1);
}

/* Rows this rank writes of a dataset or dimension whose first axis is dim
 * di: its block for the distributed dimension, all (rank 0) or none else. */
static void my_rows(const ps_h5w_t *w, int di, int rank, int64_t *off, int64_t *n) {
  if (di == w->rows_dim) {
    *off = w->row_off;
    *n = w->row_n;
  } else {
    *off = 0;
    *n = rank == 0 ? w->dims[di].len : 0;
  }
}

/* Collective. The description error (if any), then the shapes, names and
 * widths must be the same on every rank and the row blocks tile the rows. */
static ps_err_t check_description(const ps_h5w_t *w, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t v[4] = {w->ndims, w->nsets, w->nattrs, 0};
  int same = 0;
  if (w->err[0]) err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__, "%s: %s", path, w->err);
  PS_AGREE(comm);
  for (int i = 0; i < w->ndims; i++)
    v[3] += hash_str(w->dims[i].name) % 1000003 * (i + 1) +
            (i == w->rows_dim ? 0 : w->dims[i].len) * 7 + (int64_t)w->dims[i].width;
  for (int i = 0; i < w->nsets; i++)
    v[3] += hash_str(w->sets[i].path) % 1000003 + (int64_t)w->sets[i].width * 3 + w->sets[i].type;
  for (int i = 0; i < w->nattrs; i++) v[3] += hash_str(w->attrs[i].name) % 1000003;
  v[3] %= (int64_t)1 << 52;
  PS_TRY(same_on_all(v, 4, comm, &same));
  PS_CHECK(same, PS_ERR_INTERNAL, "%s: the file's description differs between ranks", path);
  if (w->rows_dim >= 0)
    return check_blocks(w->row_n, w->row_off, w->dims[w->rows_dim].len, comm, path,
                        w->dims[w->rows_dim].name);
cleanup:
  return ps_err_agree(comm, err);
}

/* Collective. Attribute values as rank 0 has them, so that the collective
 * attribute writes get identical arguments; strings point into *storage. */
static ps_err_t bcast_attrs(ps_h5w_t *w, char **storage, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t len[MAX_ATTRS + 1], total = 0;
  int rank;
  MPI_Comm_rank(comm, &rank);
  *storage = NULL;
  for (int i = 0; i < w->nattrs; i++)
    len[i] = w->attrs[i].type == PS_H5_STR ? (int64_t)strlen(w->attrs[i].s) : 0;
  PS_CALL_MPI(MPI_Bcast(len, w->nattrs, MPI_INT64_T, 0, comm));
  for (int i = 0; i < w->nattrs; i++) total += 8 + len[i] + 1;
  PS_CHECK(total < (int64_t)1 << 30, PS_ERR_ARG, "attribute values too long (%lld bytes)",
           (long long)total);
  *storage = calloc((size_t)total + 1, 1);
  PS_CHECK_ALLOC(*storage);
  if (rank == 0)
    for (int i = 0, pos = 0; i < w->nattrs; i++) {
      memcpy(*storage + pos, &w->attrs[i].v, 8);
      if (len[i]) memcpy(*storage + pos + 8, w->attrs[i].s, (size_t)len[i]);
      pos += 8 + (int)len[i] + 1;
    }
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK && MPI_Bcast(*storage, (int)total, MPI_BYTE, 0, comm) != MPI_SUCCESS)
    err = ps_err_agree(comm, ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast failed"));
  if (err != PS_OK) return err;
  for (int i = 0, pos = 0; i < w->nattrs; i++) {
    memcpy(&w->attrs[i].v, *storage + pos, 8);
    if (w->attrs[i].type == PS_H5_STR) w->attrs[i].s = *storage + pos + 8;
    pos += 8 + (int)len[i] + 1;
  }
  return PS_OK;
}

/* ----------------------------------------------------- writer: objects */

/* The groups the description needs, parents before children. */
static int collect_groups(const ps_h5w_t *w, char names[][NAME_LEN]) {
  int n = 0;
  const char *paths[MAX_DIMS + MAX_SETS + MAX_ATTRS];
  int np = 0;
  for (int i = 0; i < w->ndims; i++) paths[np++] = w->dims[i].name;
  for (int i = 0; i < w->nsets; i++) paths[np++] = w->sets[i].path;
  for (int depth = 1; depth < 8; depth++) {
    for (int p = 0; p < np; p++) {
      /* the prefix of paths[p] made of its first depth components, if it is a group */
      const char *s = paths[p];
      int seen = 0;
      size_t cut = 0;
      for (size_t j = 0; s[j]; j++)
        if (s[j] == '/' && ++seen == depth) {
          cut = j;
          break;
        }
      if (!cut) continue;
      int dup = 0;
      for (int g = 0; g < n && !dup; g++)
        dup = strlen(names[g]) == cut && !strncmp(names[g], s, cut);
      if (dup || n >= MAX_GROUPS) continue;
      memcpy(names[n], s, cut);
      names[n][cut] = '\0';
      n++;
    }
  }
  /* Groups that only carry attributes (none today) would be missing here:
   * an attribute's object must be a group of a dataset or the root. */
  return n;
}

/* Collective: create the groups. */
static ps_err_t make_groups(const ps_h5w_t *w, hid_t fid, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  char names[MAX_GROUPS][NAME_LEN];
  int n = collect_groups(w, names);
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  if (gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot set up the groups (%s)", path,
                   h5_detail());
  PS_AGREE(comm);
  for (int g = 0; g < n; g++) {
    hid_t id = H5Gcreate2(fid, names[g], H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (id < 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create group /%s (%s)", path,
                     names[g], h5_detail());
    h5_close(&id);
    PS_TRY(ps_err_agree_or_abort(comm, err, "H5Gcreate"));
  }
cleanup:
  h5_close(&gcpl);
  return err;
}

/* Local: the file type of a dimension or dataset (strings need their own). */
static ps_err_t make_type(ps_h5type_t t, size_t width, hid_t *out) {
  if (t == PS_H5_STR) return str_type(width, H5T_CSET_UTF8, out);
  *out = H5Tcopy(file_type(t));
  return *out >= 0 ? PS_OK : ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__, "H5Tcopy failed");
}

/* Collective: create the dimension scales' datasets, then the datasets. */
static ps_err_t make_datasets(ps_h5w_t *w, hid_t fid, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  for (int i = 0; i < w->ndims && err == PS_OK; i++)
    err = make_type(w->dims[i].type, w->dims[i].width, &w->dims[i].ftype);
  for (int i = 0; i < w->nsets && err == PS_OK; i++)
    err = make_type(w->sets[i].type, w->sets[i].width, &w->sets[i].ftype);
  PS_AGREE(comm); /* local types first: from here on every step agrees itself */
  for (int i = 0; i < w->ndims; i++) {
    wdim_t *d = &w->dims[i];
    PS_TRY(create_dset(fid, d->name, d->ftype, 1, d->len, 0, path, comm, &d->did));
  }
  for (int i = 0; i < w->nsets; i++) {
    wset_t *s = &w->sets[i];
    int64_t n1 = s->nd == 2 ? w->dims[s->dim[1]].len : 0;
    PS_TRY(create_dset(fid, s->path, s->ftype, s->nd, w->dims[s->dim[0]].len, n1, path, comm,
                       &s->did));
  }
cleanup:
  return err;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* Whether a dataset's own group is g ("" for the root). */
static int in_group(const char *path, const char *g) {
  const char *s = strrchr(path, '/');
  size_t len = s ? (size_t)(s - path) : 0;
  return strlen(g) == len && !strncmp(path, g, len);
}

/* Collective: mark the scales, attach them to the datasets' axes, and link
 * every root dimension a group's datasets use into that group. */
static ps_err_t make_scales(ps_h5w_t *w, hid_t fid, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  char groups[MAX_GROUPS][NAME_LEN];
  int ng = collect_groups(w, groups);
  for (int i = 0; i < w->ndims; i++) {
    if (H5DSset_scale(w->dims[i].did, base_name(w->dims[i].name)) < 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot make /%s a dimension scale (%s)",
                     path, w->dims[i].name, h5_detail());
    PS_TRY(ps_err_agree_or_abort(comm, err, "H5DSset_scale"));
  }
  for (int i = 0; i < w->nsets; i++)
    for (int a = 0; a < w->sets[i].nd; a++) {
      if (H5DSattach_scale(w->sets[i].did, w->dims[w->sets[i].dim[a]].did, (unsigned)a) < 0)
        err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot attach /%s to /%s (%s)", path,
                       w->dims[w->sets[i].dim[a]].name, w->sets[i].path, h5_detail());
      PS_TRY(ps_err_agree_or_abort(comm, err, "H5DSattach_scale"));
    }
  for (int g = 0; g < ng; g++) {
    int linked[MAX_DIMS] = {0};
    for (int i = 0; i < w->nsets; i++) {
      if (!in_group(w->sets[i].path, groups[g])) continue;
      for (int a = 0; a < w->sets[i].nd; a++) {
        int di = w->sets[i].dim[a];
        if (linked[di] || strchr(w->dims[di].name, '/')) continue; /* done, or the group's own */
        linked[di] = 1;
        char dst[2 * NAME_LEN + 2];
        snprintf(dst, sizeof dst, "%.95s/%.95s", groups[g], w->dims[di].name);
        if (H5Lcreate_hard(fid, w->dims[di].name, fid, dst, H5P_DEFAULT, H5P_DEFAULT) < 0)
          err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot link /%s (%s)", path, dst,
                         h5_detail());
        PS_TRY(ps_err_agree_or_abort(comm, err, "H5Lcreate_hard"));
      }
    }
  }
cleanup:
  return err;
}

/* Collective: the "description" attributes and the described attributes. */
static ps_err_t write_attrs(ps_h5w_t *w, hid_t fid, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  hid_t obj = NO_ID;
  for (int i = 0; i < w->ndims; i++)
    if (w->dims[i].description)
      PS_TRY(put_str(w->dims[i].did, "description", w->dims[i].description, path, comm));
  for (int i = 0; i < w->nsets; i++)
    if (w->sets[i].description)
      PS_TRY(put_str(w->sets[i].did, "description", w->sets[i].description, path, comm));
  for (int i = 0; i < w->nattrs; i++) {
    const wattr_t *a = &w->attrs[i];
    obj = H5Oopen(fid, a->obj[0] ? a->obj : "/", H5P_DEFAULT);
    if (obj < 0)
      err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__, "%s: no object /%s for attribute %s",
                     path, a->obj, a->name);
    PS_AGREE(comm);
    if (a->type == PS_H5_STR)
      err = put_str(obj, a->name, a->s, path, comm);
    else if (a->type == PS_H5_I64)
      err = put_i64(obj, a->name, a->v.i, path, comm);
    else if (a->type == PS_H5_U64)
      err = put_u64(obj, a->name, a->v.u, path, comm);
    else
      err = put_f64(obj, a->name, a->v.f, path, comm);
    h5_close(&obj);
    if (err != PS_OK) goto cleanup;
  }
cleanup:
  h5_close(&obj);
  return err;
}

/* Rows per piece of a generated dataset: about 8 MiB of them. */
static int64_t gen_rows(size_t row_bytes) {
  int64_t r = ((int64_t)8 << 20) / (int64_t)(row_bytes > 0 ? row_bytes : 1);
  return r > 0 ? r : 1;
}

/* Collective. A generated dataset, this rank's rows [off, off + n), piece by
 * piece through one buffer: the memory stays bounded whatever n is. Every
 * rank makes the same number of transfers (the most pieces any rank has). */
static ps_err_t write_generated(hid_t did, hid_t mt, size_t row_bytes, ps_h5w_gen_fn gen, void *ctx,
                                int64_t off, int64_t n, MPI_Comm comm, const char *file,
                                const char *dname) {
  ps_err_t err = PS_OK;
  const int64_t step = gen_rows(row_bytes);
  int64_t pieces = (n + step - 1) / step;
  char *buf = malloc((size_t)(step < n ? step : (n > 0 ? n : 1)) * row_bytes);
  PS_CHECK_ALL(comm, buf != NULL, PS_ERR_MEM, "%s: out of memory for a piece of %s", file, dname);
  PS_TRY(ps_reduce_max_i64(&pieces, 1, comm));
  for (int64_t p = 0; p < pieces; p++) {
    int64_t first = p * step, take = n - first < step ? n - first : step;
    if (take < 0) take = 0;
    if (take > 0) gen(ctx, off + first, take, buf);
    PS_TRY(xfer(did, mt, row_bytes, 1, buf, off + (take > 0 ? first : 0), take, comm, file, dname));
  }
cleanup:
  free(buf);
  return err;
}

/* Collective: the coordinates and the datasets' values. */
static ps_err_t write_data(ps_h5w_t *w, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  for (int i = 0; i < w->ndims; i++) {
    wdim_t *d = &w->dims[i];
    int64_t off, n;
    my_rows(w, i, rank, &off, &n);
    const void *buf = d->coord;
    if (d->gen) {
      hid_t mt = d->type == PS_H5_STR ? d->ftype : mem_type(d->type);
      PS_TRY(write_generated(d->did, mt, elem_size(d->type, d->width), d->gen, d->gen_ctx, off, n,
                             comm, path, d->name));
      continue;
    }
    if (!buf) {
      d->index_buf = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
      if (!d->index_buf) err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
      for (int64_t q = 0; d->index_buf && q < n; q++)
        d->index_buf[q] = (int32_t)(off + q + d->index_first);
      PS_AGREE(comm);
      buf = d->index_buf;
    }
    hid_t mt = d->type == PS_H5_STR ? d->ftype : mem_type(d->type);
    PS_TRY(xfer(d->did, mt, elem_size(d->type, d->width), 1, (void *)buf, off, n, comm, path,
                d->name));
  }
  for (int i = 0; i < w->nsets; i++) {
    wset_t *s = &w->sets[i];
    int64_t off, n, per = s->nd == 2 ? w->dims[s->dim[1]].len : 1;
    my_rows(w, s->dim[0], rank, &off, &n);
    hid_t mt = s->type == PS_H5_STR ? s->ftype : mem_type(s->type);
    if (s->gen) {
      PS_TRY(write_generated(s->did, mt, elem_size(s->type, s->width) * (size_t)per, s->gen,
                             s->gen_ctx, off, n, comm, path, s->path));
      continue;
    }
    PS_TRY(xfer(s->did, mt, elem_size(s->type, s->width) * (size_t)per, 1, (void *)s->buf, off, n,
                comm, path, s->path));
  }
cleanup:
  return err;
}

ps_err_t ps_h5w_write(ps_h5w_t *w, const char *path, int force, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_outfile_t of;
  hid_t fid = NO_ID;
  char *storage = NULL;
  memset(&of, 0, sizeof of);
  h5_init();
  PS_TRY(check_description(w, path, comm));
  PS_TRY(bcast_attrs(w, &storage, comm));
  PS_TRY(ps_outfile_begin(&of, path, force, comm));
  PS_TRY(open_mpio(of.tmp_path, 1, path, comm, &fid));
  PS_TRY(make_groups(w, fid, path, comm));
  PS_TRY(make_datasets(w, fid, path, comm));
  PS_TRY(make_scales(w, fid, path, comm));
  PS_TRY(write_attrs(w, fid, path, comm));
  PS_TRY(write_data(w, path, comm));
cleanup:
  /* Datasets close before the file (the MPI-IO driver insists). */
  for (int i = 0; i < MAX_DIMS; i++) h5_close(&w->dims[i].did);
  for (int i = 0; i < MAX_SETS; i++) h5_close(&w->sets[i].did);
  free(storage);
  return finish_write(&fid, &of, err, path, comm);
}

/* ================================================================ reader */

struct ps_h5r {
  hid_t fid;
  MPI_Comm comm;
  char path[4096];
};

const char *ps_h5r_path(const ps_h5r_t *r) {
  return r->path;
}

MPI_Comm ps_h5r_comm(const ps_h5r_t *r) {
  return r->comm;
}

ps_err_t ps_h5r_open(const char *path, MPI_Comm comm, ps_h5r_t **out) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  *out = NULL;
  h5_init();
  PS_TRY(check_input(path, comm));
  r = calloc(1, sizeof *r);
  if (!r || strlen(path) >= sizeof r->path)
    err = ps_error(r ? PS_ERR_ARG : PS_ERR_MEM, __FILE__, __LINE__, "%s: %s", path,
                   r ? "path too long" : "out of memory");
  PS_AGREE(comm);
  snprintf(r->path, sizeof r->path, "%s", path);
  r->comm = comm;
  r->fid = NO_ID;
  PS_TRY(open_mpio(path, 0, path, comm, &r->fid));
  *out = r;
  r = NULL;
cleanup:
  free(r);
  return err;
}

ps_err_t ps_h5r_close(ps_h5r_t **r, ps_err_t err) {
  if (!r || !*r) return err;
  err = close_file(&(*r)->fid, err, (*r)->path, (*r)->comm);
  free(*r);
  *r = NULL;
  return err;
}

/* Not collective. Every link on the way exists (H5Lexists fails on a
 * missing intermediate group). */
static int path_exists(hid_t fid, const char *path) {
  char part[512];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof part) return len == 0;
  for (size_t i = 1; i <= len; i++)
    if (i == len || path[i] == '/') {
      memcpy(part, path, i);
      part[i] = '\0';
      if (H5Lexists(fid, part, H5P_DEFAULT) <= 0) return 0;
    }
  return 1;
}

int ps_h5r_has(ps_h5r_t *r, const char *path) {
  return path_exists(r->fid, path);
}

int ps_h5r_has_attr(ps_h5r_t *r, const char *obj, const char *name) {
  if (obj[0] && !path_exists(r->fid, obj)) return 0;
  hid_t o = H5Oopen(r->fid, obj[0] ? obj : "/", H5P_DEFAULT);
  int has = o >= 0 && H5Aexists(o, name) > 0;
  h5_close(&o);
  return has;
}

ps_err_t ps_h5r_shape(ps_h5r_t *r, const char *path, ps_h5type_t type, int nd, const int64_t *want,
                      const char *const *sym, int64_t *dims, size_t *width) {
  hid_t did = NO_ID;
  char full[512];
  snprintf(full, sizeof full, "/%s", path);
  ps_err_t err = need_dset(r->fid, r->path, full, nd, type, want, sym, &did, dims, width, NULL);
  h5_close(&did);
  return ps_err_agree(r->comm, err);
}

ps_err_t ps_h5r_read(ps_h5r_t *r, const char *path, ps_h5type_t type, size_t width, int64_t off,
                     int64_t n, void *buf) {
  ps_err_t err = PS_OK;
  hid_t did = NO_ID, mt = NO_ID;
  int64_t dims[2] = {0, 0};
  char full[512];
  snprintf(full, sizeof full, "/%s", path);
  did = H5Dopen2(r->fid, full, H5P_DEFAULT);
  hid_t space = did >= 0 ? H5Dget_space(did) : NO_ID;
  int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if (nd >= 1 && nd <= 2) {
    hsize_t hd[2] = {0, 1};
    H5Sget_simple_extent_dims(space, hd, NULL);
    dims[0] = (int64_t)hd[0];
    dims[1] = nd == 2 ? (int64_t)hd[1] : 1;
  }
  h5_close(&space);
  if (did < 0 || nd < 1 || nd > 2) {
    err = ps_error(PS_ERR_FORMAT, __FILE__, __LINE__, "%s: %s: cannot open the dataset (%s)",
                   r->path, full, h5_detail());
  } else if (type == PS_H5_STR) {
    /* HDF5 converts string widths but not character sets: read in the file's. */
    hid_t ft = H5Dget_type(did);
    H5T_cset_t cset = ft >= 0 ? H5Tget_cset(ft) : H5T_CSET_UTF8;
    h5_close(&ft);
    err = str_type(width, cset == H5T_CSET_ERROR ? H5T_CSET_UTF8 : cset, &mt);
  }
  PS_AGREE(r->comm);
  /* An empty dataset (a [n][0] table) has nothing to read, and HDF5 refuses
   * reads from its unallocated storage: the caller's checks name the shape. */
  if (dims[0] == 0 || dims[1] == 0) goto cleanup;
  PS_TRY(xfer(did, type == PS_H5_STR ? mt : mem_type(type),
              elem_size(type, width) * (size_t)dims[1], 0, buf, off, n, r->comm, r->path, full));
cleanup:
  h5_close(&mt);
  h5_close(&did);
  return err;
}

ps_err_t ps_h5r_read_strings(ps_h5r_t *r, const char *path, int64_t off, int64_t n, int distributed,
                             char **buf, size_t *width) {
  ps_err_t err = PS_OK;
  int64_t dims[1];
  size_t w = 0;
  *buf = NULL;
  PS_TRY(ps_h5r_shape(r, path, PS_H5_STR, 1, NULL, NULL, dims, &w));
  *buf = ps_rows_calloc((size_t)n, w);
  PS_CHECK_ALL(r->comm, *buf, PS_ERR_MEM, "%s: out of memory", r->path);
  PS_TRY(ps_h5r_read(r, path, PS_H5_STR, w, off, n, *buf));
  err = terminate_strings(buf, &w, n, distributed, r->comm);
  PS_AGREE(r->comm);
  *width = w;
cleanup:
  if (err != PS_OK) {
    free(*buf);
    *buf = NULL;
  }
  return err;
}

/* Not collective: open obj ("" root) for an attribute read. */
static ps_err_t open_obj(ps_h5r_t *r, const char *obj, hid_t *o) {
  *o = NO_ID;
  if (obj[0] && !path_exists(r->fid, obj))
    return ps_error(PS_ERR_FORMAT, __FILE__, __LINE__, "%s: /%s: group not found", r->path, obj);
  *o = H5Oopen(r->fid, obj[0] ? obj : "/", H5P_DEFAULT);
  if (*o < 0)
    return ps_error(PS_ERR_FORMAT, __FILE__, __LINE__, "%s: /%s: cannot open (%s)", r->path, obj,
                    h5_detail());
  return PS_OK;
}

static ps_err_t attr_num(ps_h5r_t *r, const char *obj, const char *name, int required, hid_t mt,
                         void *v, int *found) {
  hid_t o = NO_ID;
  char where[128];
  int f = 0;
  snprintf(where, sizeof where, "/%s", obj);
  ps_err_t err = open_obj(r, obj, &o);
  if (err == PS_OK) err = get_num(o, name, mt, v, required, r->path, where, &f);
  h5_close(&o);
  if (found) *found = f;
  return ps_err_agree(r->comm, err);
}

ps_err_t ps_h5r_attr_i64(ps_h5r_t *r, const char *obj, const char *name, int required, int64_t *v,
                         int *found) {
  return attr_num(r, obj, name, required, H5T_NATIVE_INT64, v, found);
}
ps_err_t ps_h5r_attr_f64(ps_h5r_t *r, const char *obj, const char *name, int required, double *v,
                         int *found) {
  return attr_num(r, obj, name, required, H5T_NATIVE_DOUBLE, v, found);
}
ps_err_t ps_h5r_attr_u64(ps_h5r_t *r, const char *obj, const char *name, int required, uint64_t *v,
                         int *found) {
  return attr_num(r, obj, name, required, H5T_NATIVE_UINT64, v, found);
}

ps_err_t ps_h5r_attr_str(ps_h5r_t *r, const char *obj, const char *name, int required, char *out,
                         size_t cap, int *found) {
  hid_t o = NO_ID;
  char where[128];
  int f = 0;
  snprintf(where, sizeof where, "/%s", obj);
  ps_err_t err = open_obj(r, obj, &o);
  if (err == PS_OK) err = get_str(o, name, out, cap, required, r->path, where, &f);
  h5_close(&o);
  if (found) *found = f;
  return ps_err_agree(r->comm, err);
}
