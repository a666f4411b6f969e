/* html.h - the HTML report: one self-contained file (charts, the county map,
 * every byte it needs inlined) drawn from a results or predictions file.
 *
 * Two halves, as for the Markdown report: ps_html_load reads what the report
 * shows from the file (collective, like every HDF5 read); ps_html_build only
 * formats it (no MPI, no I/O): the data as one JSON object, the page's own
 * script and style, and, when the build found them (npm, see scripts/web.sh),
 * d3-geo, topojson-client and the us-atlas county shapes with their licences.
 * Without them the report says so where the map would be; every chart stays.
 */
#ifndef POPSEG_HTML_H
#define POPSEG_HTML_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/strbuf.h"

/* Rows drawn per-row (scatter, map) at most: a bigger file is sampled, every
 * stride-th row (deterministic, the same whatever the rank count). */
#define PS_HTML_MAX_POINTS 20000

typedef struct {
  int predictions; /* a predictions file (else results) */
  char source[4096], input[4096], model[4096], weights_name[256], mean_kind[300];
  char command_line[8192];
  int64_t n_rows; /* rows in the file */
  /* features */
  int64_t d;
  char *fnames; /* [d][fwidth], NUL-terminated */
  size_t fwidth;
  /* PCA (results): every fitted component's share, the kept ones' axes */
  int64_t p, K;
  double *evr;        /* [p] explained variance ratio */
  double *components; /* [K][d] */
  /* segments */
  int64_t k;
  double *centroids;    /* [k][K] (results) */
  int64_t *sizes;       /* [k] rows per segment (over every row of the file) */
  double *weight_sizes; /* [k] weight per segment, NULL when unweighted */
  double *index, *mean; /* [k][d] index scores and means (results with a profile) */
  double *overall_mean; /* [d] */
  int64_t n_examples;   /* E */
  char *example_names;  /* [k][E][ex_width] ("" past the segment's rows) */
  size_t ex_width;
  /* sub-segments (m = 0: none) */
  int64_t m;
  char *codes; /* [m][code_width] */
  size_t code_width;
  int32_t *parent;     /* [m] */
  int64_t *sub_sizes;  /* [m] */
  double *sub_weights; /* [m] */
  /* the rows drawn: rows 0, stride, 2 stride, ... of the file */
  int64_t n_drawn, stride;
  int64_t *ids; /* [n_drawn] */
  char *names;  /* [n_drawn][name_width] */
  size_t name_width;
  int32_t *labels;       /* [n_drawn] */
  int32_t *sub_labels;   /* [n_drawn] or NULL */
  int32_t *model_labels; /* [n_drawn] predictions: segment in the model's data (-1 new) */
  double *distance;      /* [n_drawn] */
  double *pc;            /* [n_drawn][2] the first two component scores (0 if K = 1) */
  double *weight;        /* [n_drawn] or NULL */
  int64_t n_key;         /* key figures per row (/rows/key), 0: none */
  char *key_names;       /* [n_key][key_width] */
  size_t key_width;
  double *key; /* [n_drawn][n_key] */
  /* sweep (n_k = 0: none) */
  int64_t n_k, suggested_k;
  int64_t *sweep_k;
  double *sweep_inertia, *sweep_silhouette; /* [n_k] */
  /* predictions */
  int64_t *transition; /* [k][k] or NULL */
  int64_t matched, changed, n_new;
} ps_html_t;

/* Collective. Read path (a results or predictions file) into *h (zeroed
 * first). PS_ERR_FORMAT naming the file and dataset when it is neither. */
ps_err_t ps_html_load(const char *path, MPI_Comm comm, ps_html_t *h);
void ps_html_free(ps_html_t *h);

/* Not collective. The page into out. */
void ps_html_build(const ps_html_t *h, ps_sb_t *out);

/* The report's embedded files (src/app/assets.c): the page's script and style
 * always; the map's libraries and atlas only when the build had them. */
typedef struct {
  const char *name; /* "d3-geo.min.js" */
  const char *data; /* its bytes, NUL-terminated */
  size_t len;
} ps_asset_t;
const ps_asset_t *ps_asset(const char *name); /* NULL when not embedded */
/* "d3-array 3.2.4, d3-geo 3.1.1, ..." of the map's assets, or "" */
const char *ps_assets_versions(void);
/* Why the map is missing ("npm was not found when popseg was built"), or NULL. */
const char *ps_assets_missing(void);

#endif
