/* fuzz_h5table.c - libFuzzer target: the HDF5 table reader,
 * ps_table_read_h5, on MPI_COMM_SELF.
 *
 * Structure-aware: the input is not an HDF5 file but a list of choices from
 * which the harness writes one with the serial HDF5 API, then reads it back
 * with popseg. Mutating the raw bytes of HDF5 files would mostly exercise
 * libhdf5's own superblock, B-tree and heap decoders (its fuzzing, not
 * ours), and almost every mutant would stop at H5Fopen; decoding choices
 * keeps every input a well-formed file that is a good or a broken *table*,
 * which is what popseg's reader has to judge.
 *
 * Input bytes, in order (missing bytes read as 0, and 0 always means the
 * ordinary choice, so a short input is a valid table):
 *   H0  bit 0..3  omit /features, /feature_names, /rows/id, /rows/name
 *       bit 4     /rows is a dataset (then no /rows/id, /rows/name specs)
 *       bit 5     /features is a soft link to /data/features
 *       bit 6     a /kmeans group          bit 7  the latest file format
 *   H1  n = bits 0..2 rows, d = bits 3..5 features; bits 6..7
 *       POPSEG_IO_CHUNK_BYTES unset, "1", "24", "12x" (invalid)
 *   H2  bit 0..4  root attributes source, source_sha256, dropped_examples,
 *                 n_read, n_dropped; bit 5 popseg_file; bit 6 the soft
 *                 link dangles; bit 7 string attributes are ASCII
 *   then for each dataset present (features, feature_names, rows/id,
 *   rows/name), four spec bytes and its elements:
 *   S0  bits 0..2 shape: as expected, scalar, null, one more dimension, one
 *                 fewer, first extent + 1, first extent - 1 (+ 2 if 0),
 *                 from the next bytes (rank % 4, extents % 9)
 *       bits 3..4 contiguous, chunked, compact, chunked + shuffle + deflate
 *       bit 5     data not written      bit 6  a fill value (next bytes)
 *       bit 7     unlimited maximum extents (chunked)
 *   S1  element type, an index into the dataset's list (0: the expected
 *       one): float64, float32, int32, int64, uint8, big-endian float64 and
 *       int16, uint64, fixed and variable-length strings, enum, compound,
 *       array, opaque, bitfield
 *   S2  string width (0: the longest string + 1); a string's length byte
 *       is taken modulo width + 1 (33 for width 0)
 *   S3  bits 0..1 padding NUL-pad, NUL-terminate, space-pad, NUL-pad;
 *       bit 2 ASCII (else UTF-8); bit 3 a width of 0 means the longest
 *       string exactly (names that fill their width)
 *   elements: numbers as their native bytes; strings as a length byte and
 *   that many bytes (any bytes: invalid UTF-8, NULs); default values when
 *   the input runs out
 *   then each root attribute present: a kind byte (fixed string, variable
 *   string, variable string NULL, int64, float64, int8, int[2], null
 *   dataspace, uint64 max, float32; 0 is the expected kind) and its value.
 *
 * Checked besides the sanitizers, for every input: a refusal returns no
 * table, records a one-line message and is not PS_ERR_INTERNAL (a bug, by
 * error.h); no HDF5 object is left open. A table that the reader must take
 * (every choice ordinary or one the layout comment in table.h allows) is
 * taken. An accepted table has the file's shape, NUL-terminated names
 * within their widths, and the values, ids, names and attributes written
 * (ids 0..n-1 and names the ids, with a note, where /rows/id or /rows/name
 * is missing). Then ps_table_validate, the check every loaded table passes,
 * must agree with an independent reading of table.h: rows and features, and
 * feature names non-empty, distinct and valid UTF-8, row names valid UTF-8.
 *
 * FUZZ_H5_DESCRIBE=1 in the environment prints what each input decodes to
 * (on the regression driver: `FUZZ_H5_DESCRIBE=1 fuzz_h5table_regress F`).
 */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "popseg/error.h"
#include "popseg/table.h"

#define MAXEXT 8 /* extents from the bytes: 0..8 */
#define MAXELEM (9 * 9 * 9)

static void broken(const char *what, const char *detail) {
  fuzz_fail("fuzz_h5table", what, detail);
}

static int g_describe;

__attribute__((format(printf, 1, 2))) static void describe(const char *fmt, ...) {
  va_list ap;
  if (!g_describe) return;
  va_start(ap, fmt);
  vfprintf(fuzz_report_ ? fuzz_report_ : stderr, fmt, ap);
  va_end(ap);
  fflush(fuzz_report_ ? fuzz_report_ : stderr);
}

/* ------------------------------------------------------------ the bytes */

typedef struct {
  const uint8_t *p;
  size_t n, i;
} rd_t;

static unsigned u8(rd_t *r) {
  return r->i < r->n ? r->p[r->i++] : 0;
}
/* Copy k bytes into dst; 0 (and dst untouched) when fewer are left. */
static int take(rd_t *r, void *dst, size_t k) {
  if (r->n - r->i < k) {
    r->i = r->n;
    return 0;
  }
  memcpy(dst, r->p + r->i, k);
  r->i += k;
  return 1;
}

/* -------------------------------------------------------- element types */

typedef enum {
  K_F64,
  K_F32,
  K_I32,
  K_I64,
  K_U8,
  K_F64BE,
  K_I16BE,
  K_U64,
  K_STR,
  K_VSTR,
  K_ENUM,
  K_COMPOUND,
  K_ARRAY,
  K_OPAQUE,
  K_BITFIELD
} kind_t;

static const kind_t feature_kinds[] = {K_F64,   K_F32,      K_I32,   K_I64,    K_U8,
                                       K_F64BE, K_I16BE,    K_U64,   K_STR,    K_VSTR,
                                       K_ENUM,  K_COMPOUND, K_ARRAY, K_OPAQUE, K_BITFIELD};
static const kind_t id_kinds[] = {K_I64, K_I32, K_U8,   K_U64,  K_I16BE,
                                  K_F64, K_STR, K_VSTR, K_ENUM, K_BITFIELD};
static const kind_t name_kinds[] = {K_STR, K_VSTR, K_F64, K_I32, K_ENUM, K_COMPOUND, K_OPAQUE};

static int is_string(kind_t k) {
  return k == K_STR || k == K_VSTR;
}
/* Numbers that /features may hold (any integer or float class). */
static int is_number(kind_t k) {
  return k <= K_U64;
}
static int is_integer(kind_t k) {
  return k == K_I32 || k == K_I64 || k == K_U8 || k == K_I16BE || k == K_U64;
}

/* Bytes of one element in memory. */
static size_t mem_size(kind_t k, size_t width) {
  switch (k) {
  case K_F32:
  case K_I32:
  case K_OPAQUE:
    return 4;
  case K_U8:
  case K_ENUM:
  case K_BITFIELD:
    return 1;
  case K_I16BE:
    return 2;
  case K_STR:
    return width;
  case K_VSTR:
    return sizeof(char *);
  case K_ARRAY:
    return 16;
  default:
    return 8;
  }
}

/* The file type and the memory type of kind k (fixed strings: both the
 * same, so that the bytes land in the file unconverted). */
static void make_types(kind_t k, size_t width, unsigned pad, int ascii, hid_t *ft, hid_t *mt) {
  static const H5T_str_t pads[4] = {H5T_STR_NULLPAD, H5T_STR_NULLTERM, H5T_STR_SPACEPAD,
                                    H5T_STR_NULLPAD};
  H5T_cset_t cset = ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8;
  hsize_t two = 2;
  switch (k) {
  case K_F64:
    *ft = H5Tcopy(H5T_IEEE_F64LE);
    *mt = H5Tcopy(H5T_NATIVE_DOUBLE);
    break;
  case K_F32:
    *ft = H5Tcopy(H5T_IEEE_F32LE);
    *mt = H5Tcopy(H5T_NATIVE_FLOAT);
    break;
  case K_I32:
    *ft = H5Tcopy(H5T_STD_I32LE);
    *mt = H5Tcopy(H5T_NATIVE_INT32);
    break;
  case K_I64:
    *ft = H5Tcopy(H5T_STD_I64LE);
    *mt = H5Tcopy(H5T_NATIVE_INT64);
    break;
  case K_U8:
    *ft = H5Tcopy(H5T_STD_U8LE);
    *mt = H5Tcopy(H5T_NATIVE_UINT8);
    break;
  case K_F64BE:
    *ft = H5Tcopy(H5T_IEEE_F64BE);
    *mt = H5Tcopy(H5T_NATIVE_DOUBLE);
    break;
  case K_I16BE:
    *ft = H5Tcopy(H5T_STD_I16BE);
    *mt = H5Tcopy(H5T_NATIVE_INT16);
    break;
  case K_U64:
    *ft = H5Tcopy(H5T_STD_U64LE);
    *mt = H5Tcopy(H5T_NATIVE_UINT64);
    break;
  case K_STR:
  case K_VSTR:
    *ft = H5Tcopy(H5T_C_S1);
    H5Tset_size(*ft, k == K_VSTR ? H5T_VARIABLE : width);
    H5Tset_strpad(*ft, pads[pad & 3]);
    H5Tset_cset(*ft, cset);
    *mt = H5Tcopy(*ft);
    break;
  case K_ENUM: {
    int8_t v;
    *ft = H5Tenum_create(H5T_NATIVE_INT8);
    v = 0, H5Tenum_insert(*ft, "low", &v);
    v = 1, H5Tenum_insert(*ft, "high", &v);
    *mt = H5Tcopy(*ft);
    break;
  }
  case K_COMPOUND:
    *ft = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(*ft, "x", 0, H5T_NATIVE_DOUBLE);
    *mt = H5Tcopy(*ft);
    break;
  case K_ARRAY:
    *ft = H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &two);
    *mt = H5Tcopy(*ft);
    break;
  case K_OPAQUE:
    *ft = H5Tcreate(H5T_OPAQUE, 4);
    H5Tset_tag(*ft, "popseg fuzz");
    *mt = H5Tcopy(*ft);
    break;
  case K_BITFIELD:
    *ft = H5Tcopy(H5T_STD_B8LE);
    *mt = H5Tcopy(H5T_NATIVE_B8);
    break;
  }
}

/* Store the number v in a native element of kind k. */
static void put_num(kind_t k, void *dst, double v) {
  switch (k) {
  case K_F32: {
    float f = (float)v;
    memcpy(dst, &f, sizeof f);
    break;
  }
  case K_I32: {
    int32_t x = (int32_t)v;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case K_I64: {
    int64_t x = (int64_t)v;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case K_U64: {
    uint64_t x = (uint64_t)v;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case K_I16BE: {
    int16_t x = (int16_t)v;
    memcpy(dst, &x, sizeof x);
    break;
  }
  case K_U8:
  case K_BITFIELD:
    *(uint8_t *)dst = (uint8_t)((unsigned)v & 0xff);
    break;
  case K_ENUM:
    *(uint8_t *)dst = (uint8_t)((unsigned)v & 1);
    break;
  case K_ARRAY:
    memcpy(dst, &v, sizeof v);
    memcpy((char *)dst + 8, &v, sizeof v);
    break;
  case K_OPAQUE:
    memset(dst, (int)v & 0xff, 4);
    break;
  default:
    memcpy(dst, &v, sizeof v);
    break;
  }
}

/* The element as popseg should see it: a double (features) or an int64
 * (ids). *exact: the conversion is one we can predict (HDF5 clips and
 * rounds large integers its own way; those are not compared). */
static double get_double(kind_t k, const void *src) {
  switch (k) {
  case K_F32: {
    float f;
    memcpy(&f, src, sizeof f);
    return (double)f;
  }
  case K_I32: {
    int32_t x;
    memcpy(&x, src, sizeof x);
    return (double)x;
  }
  case K_I16BE: {
    int16_t x;
    memcpy(&x, src, sizeof x);
    return (double)x;
  }
  case K_U8:
    return (double)*(const uint8_t *)src;
  default: {
    double d;
    memcpy(&d, src, sizeof d);
    return d;
  }
  }
}

static int64_t get_i64(kind_t k, const void *src) {
  switch (k) {
  case K_I32: {
    int32_t x;
    memcpy(&x, src, sizeof x);
    return x;
  }
  case K_I16BE: {
    int16_t x;
    memcpy(&x, src, sizeof x);
    return x;
  }
  case K_U8:
    return *(const uint8_t *)src;
  case K_U64: {
    uint64_t x;
    memcpy(&x, src, sizeof x);
    return x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
  }
  default: {
    int64_t x;
    memcpy(&x, src, sizeof x);
    return x;
  }
  }
}

/* ------------------------------------------------------------- datasets */

enum { D_FEATURES, D_FNAMES, D_IDS, D_NAMES, N_DSETS };

typedef struct {
  int present;  /* the spec was decoded and a create was attempted */
  int created;  /* the dataset exists in the file */
  int ordinary; /* shape as expected, a type the reader takes, data known */
  kind_t kind;
  int rank;
  hsize_t ext[3];
  size_t n_elem, width;
  unsigned pad;
  int data_known;                  /* the values below are what a read returns */
  unsigned char *mem;              /* [n_elem] native elements */
  char strs[MAXELEM][256];         /* string contents as C strings (cut at a NUL) */
  unsigned char raw[MAXELEM][256]; /* the bytes written (NULs included) */
  size_t lens[MAXELEM];            /* ... and how many */
} dset_t;

typedef struct {
  const char *name;
  int present, kind;
  int is_numeric_attr;
  int ordinary;   /* a kind the reader takes */
  char str[6200]; /* the string read back (cut at a NUL) */
  int64_t i64;    /* the number read back (int kinds) */
  int i64_known;
} attr_t;

typedef struct {
  int n, d;
  unsigned h0, h2;
  int expect_ok;
  dset_t ds[N_DSETS];
  attr_t at[6];
} plan_t;

static const char *const dset_path[N_DSETS] = {"features", "feature_names", "rows/id", "rows/name"};

static herr_t close_id(hid_t id) {
  if (id < 0) return 0;
  switch (H5Iget_type(id)) {
  case H5I_FILE:
    return H5Fclose(id);
  case H5I_GROUP:
    return H5Gclose(id);
  case H5I_DATASET:
    return H5Dclose(id);
  case H5I_ATTR:
    return H5Aclose(id);
  case H5I_DATASPACE:
    return H5Sclose(id);
  case H5I_DATATYPE:
    return H5Tclose(id);
  case H5I_GENPROP_LST:
    return H5Pclose(id);
  default:
    return -1;
  }
}

/* Decode one dataset's spec and elements, and write it at path in the file. */
static void write_dset(rd_t *r, plan_t *pl, int which, hid_t fid, const char *path) {
  dset_t *ds = &pl->ds[which];
  unsigned s0 = u8(r), s1 = u8(r), s2 = u8(r), s3 = u8(r);
  unsigned shape = s0 & 7, layout = (s0 >> 3) & 3;
  int skip_data = (s0 >> 5) & 1, fill = (s0 >> 6) & 1, unlimited = (s0 >> 7) & 1;
  const kind_t *kinds = which == D_FEATURES ? feature_kinds
                        : which == D_IDS    ? id_kinds
                                            : name_kinds;
  size_t nk = which == D_FEATURES ? sizeof feature_kinds / sizeof *feature_kinds
              : which == D_IDS    ? sizeof id_kinds / sizeof *id_kinds
                                  : sizeof name_kinds / sizeof *name_kinds;
  int want_rank = which == D_FEATURES ? 2 : 1;
  hsize_t want[2] = {(hsize_t)(which == D_FNAMES ? pl->d : pl->n), (hsize_t)pl->d};
  hid_t space = -1, dcpl = -1, ft = -1, mt = -1, did = -1;
  ds->present = 1;
  ds->kind = kinds[s1 % nk];
  ds->pad = s3 & 3;
  ds->ordinary = shape == 0;
  switch (ds->kind) {
  case K_F64:
  case K_F32:
  case K_I32:
  case K_U8:
  case K_F64BE:
  case K_I16BE:
    ds->ordinary &= which == D_FEATURES || (which == D_IDS && is_integer(ds->kind));
    break;
  case K_I64:
  case K_U64:
    ds->ordinary &= which == D_FEATURES || which == D_IDS;
    break;
  case K_STR:
    ds->ordinary &= which == D_FNAMES || which == D_NAMES;
    break;
  default:
    ds->ordinary = 0;
  }

  /* The shape. */
  ds->rank = want_rank;
  ds->ext[0] = want[0];
  ds->ext[1] = want[1];
  ds->ext[2] = 0;
  switch (shape) {
  case 1:
    ds->rank = 0;
    break;
  case 2:
    ds->rank = -1; /* null dataspace */
    break;
  case 3:
    ds->ext[ds->rank] = 2;
    ds->rank++;
    break;
  case 4:
    ds->rank--;
    break;
  case 5:
    ds->ext[0]++;
    break;
  case 6:
    ds->ext[0] = ds->ext[0] ? ds->ext[0] - 1 : 2;
    break;
  case 7:
    ds->rank = (int)(u8(r) % 4);
    for (int i = 0; i < ds->rank; i++) ds->ext[i] = u8(r) % (MAXEXT + 1);
    break;
  default:
    break;
  }
  ds->n_elem = ds->rank < 0 ? 0 : 1;
  for (int i = 0; i < ds->rank; i++) ds->n_elem *= (size_t)ds->ext[i];

  /* The elements: strings first (the width may depend on them). */
  size_t longest = 0;
  if (is_string(ds->kind)) {
    for (size_t e = 0; e < ds->n_elem; e++) {
      unsigned char *raw = ds->raw[e];
      size_t len;
      if (r->i < r->n) {
        unsigned limit = s2 ? s2 : 32;
        len = u8(r) % (limit + 1);
        if (len > 255) len = 255;
        if (!take(r, raw, len)) len = 0;
      } else {
        len =
            (size_t)snprintf((char *)raw, 256, "%s%zu", which == D_FNAMES ? "feature " : "row ", e);
      }
      ds->lens[e] = len;
      if (len > longest) longest = len;
    }
  }
  ds->width = s2 ? s2 : longest + ((s3 >> 3) & 1 ? 0 : 1);
  if (ds->width == 0) ds->width = 1;
  size_t msz = mem_size(ds->kind, ds->width);
  ds->mem = calloc(ds->n_elem ? ds->n_elem : 1, msz);
  if (!ds->mem) abort();
  for (size_t e = 0; e < ds->n_elem; e++) {
    unsigned char *dst = ds->mem + e * msz;
    if (ds->kind == K_STR) {
      /* the bytes as they are in the file: the string, then padding */
      size_t len = ds->lens[e] < ds->width ? ds->lens[e] : ds->width;
      memcpy(dst, ds->raw[e], len);
      memset(dst + len, ds->pad == 2 ? ' ' : '\0', ds->width - len);
      memcpy(ds->strs[e], dst, len);
      ds->strs[e][len] = '\0';
    } else if (ds->kind == K_VSTR) {
      memcpy(ds->strs[e], ds->raw[e], ds->lens[e]);
      ds->strs[e][ds->lens[e]] = '\0';
      char *p = ds->strs[e];
      memcpy(dst, &p, sizeof p);
    } else if (!take(r, dst, msz)) {
      put_num(ds->kind, dst, which == D_IDS ? (double)(e + 1000) : (double)e * 0.5 + 1.0);
    }
  }

  /* The dataset. */
  make_types(ds->kind, ds->width, ds->pad, (s3 >> 2) & 1, &ft, &mt);
  if (ds->rank < 0) {
    space = H5Screate(H5S_NULL);
  } else if (ds->rank == 0) {
    space = H5Screate(H5S_SCALAR);
  } else {
    hsize_t maxd[3] = {H5S_UNLIMITED, H5S_UNLIMITED, H5S_UNLIMITED};
    space = H5Screate_simple(ds->rank, ds->ext, unlimited ? maxd : NULL);
  }
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (unlimited && layout != 3) layout = 1;
  if (layout == 1 || layout == 3) {
    hsize_t chunk[3];
    for (int i = 0; i < ds->rank; i++) chunk[i] = ds->ext[i] >= 2 ? 2 : 1;
    if (ds->rank > 0) H5Pset_chunk(dcpl, ds->rank, chunk);
    if (layout == 3) {
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, 1);
    }
  } else if (layout == 2) {
    H5Pset_layout(dcpl, H5D_COMPACT);
  }
  if (fill && ds->kind != K_VSTR) {
    unsigned char fv[256];
    memset(fv, 0, sizeof fv);
    if (!take(r, fv, msz)) put_num(ds->kind, fv, 7.0);
    H5Pset_fill_value(dcpl, mt, fv);
    if (skip_data && ds->kind != K_STR)
      for (size_t e = 0; e < ds->n_elem; e++) memcpy(ds->mem + e * msz, fv, msz);
  } else if (skip_data && ds->kind != K_VSTR) {
    memset(ds->mem, 0, (ds->n_elem ? ds->n_elem : 1) * msz);
  }
  ds->data_known = !(skip_data && ds->kind == K_STR);
  did = H5Dcreate2(fid, path, ft, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ds->created = did >= 0;
  /* Not created (an impossible combination: compact and too big, chunks of
   * a scalar, ...): the file lacks it, which only /rows/id and /rows/name
   * may (their rows get defaults). */
  if (!ds->created) ds->ordinary = which == D_IDS || which == D_NAMES;
  if (ds->created && !skip_data && ds->n_elem > 0 &&
      H5Dwrite(did, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->mem) < 0)
    ds->data_known = 0;
  close_id(did);
  close_id(dcpl);
  close_id(space);
  close_id(mt);
  close_id(ft);
  describe("  /%s: kind %d, rank %d [%llu][%llu][%llu], layout %u%s%s%s, width %zu pad %u: %s%s\n",
           path, (int)ds->kind, ds->rank, (unsigned long long)ds->ext[0],
           (unsigned long long)ds->ext[1], (unsigned long long)ds->ext[2], layout,
           unlimited ? " unlimited" : "", skip_data ? " unwritten" : "", fill ? " fill" : "",
           ds->width, ds->pad, ds->created ? "created" : "NOT created",
           ds->ordinary ? ", ordinary" : "");
}

/* ----------------------------------------------------------- attributes */

enum { A_FIXED, A_VSTR, A_VNULL, A_I64, A_F64, A_I8, A_ARRAY, A_NULLSPACE, A_U64MAX, A_F32 };

static void write_attr(rd_t *r, plan_t *pl, attr_t *a, hid_t fid, size_t max_len) {
  unsigned k = u8(r) % 10;
  hid_t space = -1, ft = -1, mt = -1, at = -1;
  char *buf = NULL;
  const void *val = NULL;
  int64_t i64 = 0;
  double f64 = 0;
  float f32 = 0;
  int8_t i8 = 0;
  int32_t arr[2] = {1, 2};
  uint64_t u64 = UINT64_MAX;
  char *vp = NULL;
  /* 0 is the expected kind: a string, or an int64 for the counts. */
  if (a->is_numeric_attr) k = k == 0 ? A_I64 : k == A_I64 ? A_FIXED : k;
  a->present = 1;
  a->kind = (int)k;
  if (k <= A_VNULL || k == A_NULLSPACE) {
    size_t len = (size_t)u8(r) * max_len / 255;
    buf = calloc(len + 1, 1);
    if (!buf) abort();
    if (!take(r, buf, len)) memset(buf, 'x', len);
    if (!strcmp(a->name, "popseg_file") && len == 0) {
      static const char *const kinds[] = {"table", "results", "predictions"};
      const char *v = kinds[u8(r) % 3];
      free(buf);
      len = strlen(v);
      buf = calloc(len + 1, 1);
      if (!buf) abort();
      memcpy(buf, v, len);
    }
    ft = H5Tcopy(H5T_C_S1);
    H5Tset_cset(ft, (pl->h2 >> 7) & 1 ? H5T_CSET_ASCII : H5T_CSET_UTF8);
    if (k == A_FIXED || k == A_NULLSPACE) {
      H5Tset_size(ft, len ? len : 1);
      H5Tset_strpad(ft, H5T_STR_NULLPAD);
      val = buf;
    } else {
      H5Tset_size(ft, H5T_VARIABLE);
      if (k == A_VNULL) buf[0] = '\0';
      vp = k == A_VNULL ? NULL : buf;
      val = &vp;
    }
    mt = H5Tcopy(ft);
    snprintf(a->str, sizeof a->str, "%s", buf);
    a->ordinary = !a->is_numeric_attr && k != A_NULLSPACE;
  } else {
    switch (k) {
    case A_I64:
      if (!take(r, &i64, sizeof i64)) i64 = 42;
      ft = H5Tcopy(H5T_STD_I64LE), mt = H5Tcopy(H5T_NATIVE_INT64), val = &i64;
      a->i64 = i64, a->i64_known = 1;
      break;
    case A_F64:
      if (!take(r, &f64, sizeof f64)) f64 = 3.5;
      ft = H5Tcopy(H5T_IEEE_F64LE), mt = H5Tcopy(H5T_NATIVE_DOUBLE), val = &f64;
      break;
    case A_I8:
      if (!take(r, &i8, sizeof i8)) i8 = -3;
      ft = H5Tcopy(H5T_STD_I8LE), mt = H5Tcopy(H5T_NATIVE_INT8), val = &i8;
      a->i64 = i8, a->i64_known = 1;
      break;
    case A_ARRAY:
      ft = H5Tcopy(H5T_STD_I32LE), mt = H5Tcopy(H5T_NATIVE_INT32), val = arr;
      break;
    case A_U64MAX:
      ft = H5Tcopy(H5T_STD_U64LE), mt = H5Tcopy(H5T_NATIVE_UINT64), val = &u64;
      a->i64 = INT64_MAX, a->i64_known = 1;
      break;
    default:
      if (!take(r, &f32, sizeof f32)) f32 = 1e30f;
      ft = H5Tcopy(H5T_IEEE_F32LE), mt = H5Tcopy(H5T_NATIVE_FLOAT), val = &f32;
      break;
    }
    a->ordinary = a->is_numeric_attr && (k == A_I64 || k == A_I8 || k == A_U64MAX);
  }
  if (k == A_NULLSPACE) {
    space = H5Screate(H5S_NULL);
  } else if (k == A_ARRAY) {
    hsize_t two = 2;
    space = H5Screate_simple(1, &two, NULL);
  } else {
    space = H5Screate(H5S_SCALAR);
  }
  at = H5Acreate2(fid, a->name, ft, space, H5P_DEFAULT, H5P_DEFAULT);
  if (at < 0 || (k != A_NULLSPACE && H5Awrite(at, mt, val) < 0)) a->ordinary = 0;
  if (at < 0) a->present = 0;
  close_id(at);
  close_id(space);
  close_id(mt);
  close_id(ft);
  free(buf);
  describe("  @%s: kind %u%s%s\n", a->name, k, a->present ? "" : " NOT created",
           a->ordinary ? ", ordinary" : "");
}

/* ------------------------------------------------------------ the file */

static void write_file(rd_t *r, plan_t *pl, const char *path) {
  static const char *const attr_names[6] = {"source", "source_sha256", "dropped_examples",
                                            "n_read", "n_dropped",     "popseg_file"};
  static const size_t attr_max[6] = {6000, 80, 700, 0, 0, 24};
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fid, g;
  unsigned h0 = u8(r), h1 = u8(r), h2 = u8(r);
  pl->h0 = h0;
  pl->h2 = h2;
  pl->n = (int)(h1 & 7);
  pl->d = (int)((h1 >> 3) & 7);
  switch (h1 >> 6) {
  case 1:
    setenv("POPSEG_IO_CHUNK_BYTES", "1", 1);
    break;
  case 2:
    setenv("POPSEG_IO_CHUNK_BYTES", "24", 1);
    break;
  case 3:
    setenv("POPSEG_IO_CHUNK_BYTES", "12x", 1);
    break;
  default:
    unsetenv("POPSEG_IO_CHUNK_BYTES");
  }
  if (h0 & 0x80) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  close_id(fapl);
  if (fid < 0) broken("cannot create the HDF5 file", path);
  describe("file: n %d, d %d, h0 0x%02x, h1 0x%02x, h2 0x%02x\n", pl->n, pl->d, h0, h1, h2);
  /* d = 0: HDF5 1.10 fails popseg's empty collective reads of a [n][0]
   * /features with "addr overflow" (its storage is never allocated); a table
   * without features is refused sooner or later anyway, so only a refusal
   * without a message would be wrong there. */
  pl->expect_ok = (h0 & 0x03) == 0 && !((h0 & 0x20) && (h2 & 0x40)) && pl->d > 0;
  if (h0 & 0x40) close_id(H5Gcreate2(fid, "kmeans", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (h0 & 0x10) {
    hsize_t n = (hsize_t)pl->n;
    hid_t s = H5Screate_simple(1, &n, NULL);
    close_id(H5Dcreate2(fid, "rows", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    close_id(s);
  } else if ((h0 & 0x0c) != 0x0c) {
    close_id(H5Gcreate2(fid, "rows", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  }
  for (int which = 0; which < N_DSETS; which++) {
    if (h0 & (1u << which)) continue;
    if ((h0 & 0x10) && which >= D_IDS) continue;
    const char *p = dset_path[which];
    if (which == D_FEATURES && (h0 & 0x20)) {
      g = H5Gcreate2(fid, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      close_id(g);
      H5Lcreate_soft((h2 & 0x40) ? "/data/nowhere" : "/data/features", fid, "features", H5P_DEFAULT,
                     H5P_DEFAULT);
      p = "data/features";
    }
    write_dset(r, pl, which, fid, p);
    if (!pl->ds[which].ordinary) pl->expect_ok = 0;
  }
  for (int i = 0; i < 6; i++) {
    attr_t *a = &pl->at[i];
    a->name = attr_names[i];
    a->is_numeric_attr = i == 3 || i == 4;
    if (!(h2 & (1u << i))) continue;
    write_attr(r, pl, a, fid, attr_max[i]);
    /* popseg_file is only read when /features is missing */
    if (!a->ordinary && i != 5) pl->expect_ok = 0;
  }
  if (H5Fclose(fid) < 0) broken("cannot close the HDF5 file", path);
}

/* ------------------------------------------------------------ the checks */

static const H5I_type_t id_types[] = {H5I_FILE,      H5I_GROUP,    H5I_DATASET,    H5I_ATTR,
                                      H5I_DATASPACE, H5I_DATATYPE, H5I_GENPROP_LST};
#define N_ID_TYPES (sizeof id_types / sizeof *id_types)

static void count_ids(hsize_t *out) {
  for (size_t i = 0; i < N_ID_TYPES; i++) {
    out[i] = 0;
    H5Inmembers(id_types[i], &out[i]);
  }
}

static int same_double(double a, double b) {
  return (isnan(a) && isnan(b)) || a == b;
}

static void check_table(const plan_t *pl, const ps_table_t *t, const char *path) {
  const dset_t *f = &pl->ds[D_FEATURES], *fn = &pl->ds[D_FNAMES], *id = &pl->ds[D_IDS],
               *nm = &pl->ds[D_NAMES];
  const ps_matrix_t *x = t->x;
  if (!f->created || f->rank != 2) broken("took a table without a 2-D /features", NULL);
  int64_t n = (int64_t)f->ext[0], d = (int64_t)f->ext[1];
  if (x->n_global != n || x->n_local != n || x->row_offset != 0 || x->n_cols != d)
    broken("the table's shape is not /features' shape", NULL);
  if (t->name_width < 1 || t->fname_width < 1) broken("a zero string width", NULL);
  for (int64_t i = 0; i < n; i++)
    if (!memchr(ps_table_name(t, i), '\0', t->name_width))
      broken("a row name fills its width", NULL);
  for (int64_t j = 0; j < d; j++)
    if (!memchr(ps_table_fname(t, j), '\0', t->fname_width))
      broken("a feature name fills its width", NULL);
  if (is_number(f->kind) && f->kind != K_I64 && f->kind != K_U64 && f->data_known) {
    size_t msz = mem_size(f->kind, 0);
    for (int64_t q = 0; q < n * d; q++)
      if (!same_double(x->data[q], get_double(f->kind, f->mem + (size_t)q * msz)))
        broken("a feature value differs from the file's", NULL);
  }
  if (!id->created) {
    for (int64_t i = 0; i < n; i++)
      if (t->ids[i] != i) broken("without /rows/id, the ids are not 0..n-1", NULL);
  } else if (is_integer(id->kind) && id->data_known) {
    size_t msz = mem_size(id->kind, 0);
    for (int64_t i = 0; i < n; i++)
      if (t->ids[i] != get_i64(id->kind, id->mem + (size_t)i * msz))
        broken("an id differs from the file's", NULL);
  }
  if (!nm->created) {
    char want[32];
    for (int64_t i = 0; i < n; i++) {
      snprintf(want, sizeof want, "%lld", (long long)t->ids[i]);
      if (strcmp(ps_table_name(t, i), want))
        broken("without /rows/name, a name is not the id", NULL);
    }
  }
  if (!memchr(t->note, '\0', sizeof t->note)) broken("the note is not NUL-terminated", NULL);
  if (!t->note[0] != (id->created && nm->created))
    broken(t->note[0] ? "a note, with /rows/id and /rows/name in the file"
                      : "no note, with /rows/id or /rows/name missing",
           t->note);
  const dset_t *sd[2] = {nm, fn};
  for (int s = 0; s < 2; s++) {
    const dset_t *ds = sd[s];
    if (!ds->created || ds->kind != K_STR || ds->pad != 0 || !ds->data_known) continue;
    /* The reader widens a full width by one (room for the NUL) or narrows it
     * to the longest string and its NUL. */
    int full = 0;
    size_t used = 1;
    for (size_t e = 0; e < ds->n_elem; e++) {
      const char *el = (const char *)ds->mem + e * ds->width;
      const size_t l = strnlen(el, ds->width) + 1;
      full |= el[ds->width - 1] != 0;
      if (l > used) used = l;
    }
    size_t w = s == 0 ? t->name_width : t->fname_width;
    if (w != (full ? ds->width + 1 : used))
      broken("a string width is not the file's + 1 (full) or the longest string's + 1", NULL);
    for (size_t e = 0; e < ds->n_elem; e++) {
      const char *got = s == 0 ? ps_table_name(t, (int64_t)e) : ps_table_fname(t, (int64_t)e);
      if (strcmp(got, ds->strs[e])) broken("a name differs from the file's", got);
    }
  }
  /* Attributes. */
  const attr_t *src = &pl->at[0];
  if (!memchr(t->source, '\0', sizeof t->source) ||
      !memchr(t->source_sha256, '\0', sizeof t->source_sha256) ||
      !memchr(t->dropped_examples, '\0', sizeof t->dropped_examples))
    broken("a string attribute is not NUL-terminated", NULL);
  if (!src->present && strcmp(t->source, path)) broken("source is not the path", t->source);
  if (src->present && strncmp(t->source, src->str, sizeof t->source - 1))
    broken("source is not the attribute's", t->source);
  if (pl->at[2].present &&
      strncmp(t->dropped_examples, pl->at[2].str, sizeof t->dropped_examples - 1))
    broken("dropped_examples is not the attribute's", t->dropped_examples);
  if (!pl->at[3].present && t->n_read != n) broken("n_read is not the row count", NULL);
  if (pl->at[3].present && pl->at[3].i64_known && t->n_read != pl->at[3].i64)
    broken("n_read is not the attribute's", NULL);
  if (!pl->at[4].present && t->n_dropped != 0) broken("n_dropped is not 0", NULL);
  if (pl->at[4].present && pl->at[4].i64_known && t->n_dropped != pl->at[4].i64)
    broken("n_dropped is not the attribute's", NULL);
  if (strcmp(t->input, path)) broken("input is not the path", t->input);
  if (strlen(t->input_digest) != 64) broken("no digest of the input", NULL);
}

/* UTF-8 by decoding (RFC 3629): shortest form, no surrogates, <= U+10FFFF. */
static int utf8_ok(const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  while (*s) {
    unsigned c = *s++, need, cp, min;
    if (c < 0x80) continue;
    if ((c & 0xE0) == 0xC0)
      need = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
      need = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
      need = 3, cp = c & 0x07, min = 0x10000;
    else
      return 0;
    for (unsigned k = 0; k < need; k++, s++) {
      if ((*s & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (*s & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  }
  return 1;
}

/* What ps_table_validate must say of t (table.h). */
static int valid_table(const ps_table_t *t) {
  int64_t n = t->x->n_global, d = t->x->n_cols;
  if (n < 1 || d < 1) return 0;
  for (int64_t j = 0; j < d; j++) {
    const char *f = ps_table_fname(t, j);
    if (!f[0] || !utf8_ok(f)) return 0;
    for (int64_t k = 0; k < j; k++)
      if (!strcmp(f, ps_table_fname(t, k))) return 0;
  }
  for (int64_t i = 0; i < t->x->n_local; i++)
    if (!utf8_ok(ps_table_name(t, i))) return 0;
  return 1;
}

static void check_error(ps_err_t err, const char *what) {
  const char *msg = ps_error_message();
  if (err == PS_ERR_INTERNAL) broken("PS_ERR_INTERNAL (a bug, by error.h)", msg);
  if (!msg[0]) broken("an error without a message", what);
  if (strchr(msg, '\n')) broken("a message of more than one line", msg);
}

static int run_one(const uint8_t *data, size_t size, int must_take) {
  plan_t *pl = calloc(1, sizeof *pl);
  ps_table_t *t = NULL;
  hsize_t before[N_ID_TYPES], after[N_ID_TYPES];
  const char *path = fuzz_tmp_path("table.h5");
  rd_t r = {data, size, 0};
  if (!pl) abort();
  write_file(&r, pl, path);
  count_ids(before);
  ps_error_clear();
  ps_err_t err = ps_table_read_h5(path, MPI_COMM_SELF, &t);
  count_ids(after);
  for (size_t i = 0; i < N_ID_TYPES; i++)
    if (after[i] != before[i]) broken("HDF5 objects left open by the reader", NULL);
  describe("read: %s%s\n", err == PS_OK ? "taken" : "refused: ", ps_error_message());
  if (err == PS_OK) {
    if (!t) broken("success without a table", NULL);
    /* The pipeline takes the input's digest before writing; so does this
     * harness (a file the reader accepted can be digested). */
    if (ps_table_digest(t, MPI_COMM_SELF) != PS_OK)
      broken("the input's digest failed", ps_error_message());
    check_table(pl, t, path);
    int want = valid_table(t);
    ps_error_clear();
    ps_err_t verr = ps_table_validate(t, MPI_COMM_SELF);
    describe("validate: %s%s\n", verr == PS_OK ? "valid" : "invalid: ", ps_error_message());
    if (verr != PS_OK) check_error(verr, "ps_table_validate");
    if ((verr == PS_OK) != want)
      broken(want ? "ps_table_validate refused a valid table"
                  : "ps_table_validate took an invalid table",
             ps_error_message());
  } else {
    if (t) broken("a failed read returned a table", NULL);
    check_error(err, "ps_table_read_h5");
    if (pl->expect_ok || must_take) broken("refused a table it must take", ps_error_message());
  }
  ps_table_destroy(&t);
  for (int i = 0; i < N_DSETS; i++) free(pl->ds[i].mem);
  free(pl);
  return err == PS_OK;
}

/* LeakSanitizer's interface, when linked in (weak: NULL otherwise). */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

/* At exit (before HDF5's own handler, registered earlier: atexit runs in
 * reverse order; parallel HDF5 closes itself inside MPI_Finalize). */
static void finalize(void) {
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  int inited = 0;
  fuzz_report_init();
  g_describe = getenv("FUZZ_H5_DESCRIBE") && getenv("FUZZ_H5_DESCRIBE")[0] == '1';
  /* Open MPI's handlers for SIGABRT, SIGSEGV, ... would keep libFuzzer's
   * out (libFuzzer does not replace a handler that is already there), and
   * a crash would end the run without a reproducer. */
  setenv("OMPI_MCA_opal_signal", "", 0);
  /* What MPI_Init and the first MPI-IO open keep for the life of the process
   * (components loaded, and unloaded so that no stack names them) is not a
   * leak of the input that happens to run the next leak check. */
  if (__lsan_disable) __lsan_disable();
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(NULL, NULL);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fuzz_tmp_init("h5table");
  /* A warm-up that must succeed: the harness writes a table popseg takes
   * (3 rows, 2 features, defaults), and HDF5's lazily made objects exist
   * before the first count of open objects. */
  static const uint8_t ordinary[] = {0x00, 0x13, 0x00};
  run_one(ordinary, sizeof ordinary, 1);
  if (__lsan_enable) __lsan_enable();
  atexit(finalize);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run_one(data, size, 0);
  return 0;
}
