/* cli.c - command line parsing and the one validate step for all options. */
#include "popseg/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: popseg COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  import IN.csv OUT.h5          convert a census CSV to popseg's HDF5 layout\n"
    "  info FILE.h5                  shape, feature names, a few rows, per-column min/mean/max\n"
    "  run IN(.h5|.csv)              scale, PCA, k-means; write results\n"
    "  predict MODEL.h5 NEW(.h5|.csv) apply a fitted model (a results file) to new rows\n"
    "\n"
    "output:\n"
    "  -o, --output FILE.h5          results (run) or predictions (predict) file\n"
    "  --csv FILE.csv                one row per input row: id,name,segment,distance,pc1..pcK\n"
    "  --report FILE.md              the human report (a summary also goes to stdout)\n"
    "  --force                       overwrite existing output files\n"
    "  --quiet | --verbose | --debug progress on stdout: none | per rank | HDF5 error stacks\n"
    "  --max-memory GIB              memory per rank to plan for (default: what the node has)\n"
    "import (CSV input):\n"
    "  --id-column NAME              id column (default: the first, if all integers)\n"
    "  --label-columns A,B           columns joined with '-' into the row name\n"
    "                                (default: every non-numeric column)\n"
    "  --missing drop|error          rows with empty/NA/NaN values (default drop)\n"
    "  --rename OLD=NEW              rename a column before use (repeatable)\n"
    "scaling:\n"
    "  --scale minmax|standard|none  (default minmax)\n"
    "PCA:\n"
    "  --pca-components P            components to fit (default min(n, d))\n"
    "  --pca-keep K                  components to keep (default: by --pca-variance)\n"
    "  --pca-variance F              keep the fewest reaching this ratio, in (0, 1] (default "
    "0.80)\n"
    "  --pca-solver auto|lapack|scalapack  (default auto: scalapack when d >= 1000)\n"
    "  --pca-block-size NB           ScaLAPACK block size (default 64)\n"
    "k-means:\n"
    "  --k K                         segments (default 8)\n"
    "  --kmeans-init kmeans++|kmeans-parallel|random  (default kmeans++)\n"
    "  --kmeans-n-init R             restarts, best inertia kept (default 10)\n"
    "  --kmeans-max-iter N           (default 300)\n"
    "  --kmeans-tol T                relative tolerance (default 1e-4)\n"
    "  --kmeans-rounds N             k-means|| rounds (default 5)\n"
    "  --seed S                      every random choice (default 0)\n"
    "  -h, --help | --version\n";

const char *ps_cli_usage(void) {
  return usage;
}

typedef struct {
  char msg[2048];
  size_t len;
  int count;
} problems_t;

static void problem(problems_t *p, const char *fmt, const char *a, const char *b) {
  if (p->len < sizeof p->msg - 1)
    p->len += (size_t)snprintf(p->msg + p->len, sizeof p->msg - p->len, "%s", p->count ? "; " : "");
  if (p->len < sizeof p->msg - 1)
    p->len += (size_t)snprintf(p->msg + p->len, sizeof p->msg - p->len, fmt, a, b);
  if (p->len >= sizeof p->msg) p->len = sizeof p->msg - 1;
  p->count++;
}

static int parse_i64(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end != '\0') return 0;
  *out = (int64_t)v;
  return 1;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end != '\0' || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

static void set_defaults(ps_options_t *o) {
  memset(o, 0, sizeof *o);
  o->scale = PS_SCALE_MINMAX;
  ps_pca_opts_default(&o->pca);
  ps_kmeans_opts_default(&o->kmeans);
  o->import.missing = PS_MISSING_DROP;
  o->import.rename = o->renames;
}

/* Options that take a value. */
static const char *const valued[] = {"--output",
                                     "--csv",
                                     "--report",
                                     "--max-memory",
                                     "--id-column",
                                     "--label-columns",
                                     "--missing",
                                     "--rename",
                                     "--scale",
                                     "--pca-components",
                                     "--pca-keep",
                                     "--pca-variance",
                                     "--pca-solver",
                                     "--pca-block-size",
                                     "--pca-auto-threshold",
                                     "--k",
                                     "--kmeans-init",
                                     "--kmeans-n-init",
                                     "--kmeans-max-iter",
                                     "--kmeans-tol",
                                     "--kmeans-rounds",
                                     "--kmeans-oversample",
                                     "--seed",
                                     NULL};

static int is_valued(const char *name) {
  for (int i = 0; valued[i]; i++)
    if (strcmp(valued[i], name) == 0) return 1;
  return 0;
}

ps_err_t ps_cli_parse(int argc, char **argv, ps_options_t *o) {
  problems_t pb = {{0}, 0, 0};
  const char *pos[4] = {NULL, NULL, NULL, NULL};
  int npos = 0, nren = 0;
  set_defaults(o);
  {
    size_t len = 0;
    for (int i = 0; i < argc && len < sizeof o->command_line - 1; i++)
      len += (size_t)snprintf(o->command_line + len, sizeof o->command_line - len, "%s%s",
                              i ? " " : "", argv[i]);
  }
  if (argc < 2) {
    return ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                    "no command given (import, info, run, predict)");
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "import"))
    o->command = PS_CMD_IMPORT;
  else if (!strcmp(cmd, "info"))
    o->command = PS_CMD_INFO;
  else if (!strcmp(cmd, "run"))
    o->command = PS_CMD_RUN;
  else if (!strcmp(cmd, "predict"))
    o->command = PS_CMD_PREDICT;
  else if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
    o->command = PS_CMD_HELP;
    return PS_OK;
  } else if (!strcmp(cmd, "--version")) {
    o->command = PS_CMD_VERSION;
    return PS_OK;
  } else {
    return ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                    "unknown command '%s' (import, info, run, predict)", cmd);
  }

  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] == '\0') {
      if (npos < 4) pos[npos] = a;
      npos++;
      continue;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      o->command = PS_CMD_HELP;
      return PS_OK;
    }
    char name[64];
    const char *val = NULL;
    const char *eq = strchr(a, '=');
    if (!strcmp(a, "-o")) {
      snprintf(name, sizeof name, "--output");
    } else if (eq && a[1] == '-') {
      snprintf(name, sizeof name, "%.*s", (int)(eq - a) < 63 ? (int)(eq - a) : 63, a);
      val = eq + 1;
    } else {
      snprintf(name, sizeof name, "%s", a);
    }
    if (is_valued(name)) {
      if (!val) {
        if (i + 1 >= argc) {
          problem(&pb, "%s needs a value%s", name, "");
          continue;
        }
        val = argv[++i];
      }
    } else if (val) {
      problem(&pb, "%s takes no value (got '%s')", name, val);
      continue;
    }
    int64_t iv;
    double dv;
    if (!strcmp(name, "--output"))
      o->output = val;
    else if (!strcmp(name, "--csv"))
      o->csv_out = val;
    else if (!strcmp(name, "--report"))
      o->report_out = val;
    else if (!strcmp(name, "--force"))
      o->force = 1;
    else if (!strcmp(name, "--quiet"))
      o->quiet = 1;
    else if (!strcmp(name, "--verbose"))
      o->verbose = 1;
    else if (!strcmp(name, "--debug"))
      o->debug = 1;
    else if (!strcmp(name, "--max-memory")) {
      if (!parse_double(val, &o->max_memory_gib) || o->max_memory_gib <= 0)
        problem(&pb, "--max-memory '%s' is not a positive number of GiB%s", val, "");
    } else if (!strcmp(name, "--id-column"))
      o->import.id_column = val;
    else if (!strcmp(name, "--label-columns"))
      o->import.label_columns = val;
    else if (!strcmp(name, "--missing")) {
      if (!strcmp(val, "drop"))
        o->import.missing = PS_MISSING_DROP;
      else if (!strcmp(val, "error"))
        o->import.missing = PS_MISSING_ERROR;
      else
        problem(&pb, "--missing '%s' must be drop or error%s", val, "");
    } else if (!strcmp(name, "--rename")) {
      if (!strchr(val, '=') || val[0] == '=' || strchr(val, '=')[1] == '\0')
        problem(&pb, "--rename '%s' must be OLD=NEW%s", val, "");
      else if (nren >= PS_MAX_RENAMES)
        problem(&pb, "--rename given more than %s times%s", "64", "");
      else
        o->renames[nren++] = val;
    } else if (!strcmp(name, "--scale")) {
      if (ps_scale_kind_parse(val, &o->scale) != PS_OK)
        problem(&pb, "--scale '%s' must be minmax, standard or none%s", val, "");
    } else if (!strcmp(name, "--pca-components")) {
      if (!parse_i64(val, &iv) || iv < 1)
        problem(&pb, "--pca-components '%s' must be an integer >= 1%s", val, "");
      else
        o->pca.n_components = iv;
    } else if (!strcmp(name, "--pca-keep")) {
      if (!parse_i64(val, &iv) || iv < 1)
        problem(&pb, "--pca-keep '%s' must be an integer >= 1%s", val, "");
      else
        o->pca.keep = iv;
    } else if (!strcmp(name, "--pca-variance")) {
      if (!parse_double(val, &dv) || !(dv > 0.0 && dv <= 1.0))
        problem(&pb, "--pca-variance '%s' must be in (0, 1]%s", val, "");
      else
        o->pca.variance = dv;
    } else if (!strcmp(name, "--pca-solver")) {
      if (ps_pca_solver_parse(val, &o->pca.solver) != PS_OK)
        problem(&pb, "--pca-solver '%s' must be auto, lapack or scalapack%s", val, "");
    } else if (!strcmp(name, "--pca-block-size")) {
      if (!parse_i64(val, &iv) || iv < 1 || iv > 4096)
        problem(&pb, "--pca-block-size '%s' must be an integer in [1, 4096]%s", val, "");
      else
        o->pca.block_size = (int)iv;
    } else if (!strcmp(name, "--pca-auto-threshold")) {
      if (!parse_i64(val, &iv) || iv < 1)
        problem(&pb, "--pca-auto-threshold '%s' must be an integer >= 1%s", val, "");
      else
        o->pca.auto_threshold = iv;
    } else if (!strcmp(name, "--k")) {
      if (!parse_i64(val, &iv) || iv < 1)
        problem(&pb, "--k '%s' must be an integer >= 1%s", val, "");
      else
        o->kmeans.k = iv;
    } else if (!strcmp(name, "--kmeans-init")) {
      if (ps_kmeans_init_parse(val, &o->kmeans.init) != PS_OK)
        problem(&pb, "--kmeans-init '%s' must be kmeans++, kmeans-parallel or random%s", val, "");
    } else if (!strcmp(name, "--kmeans-n-init")) {
      if (!parse_i64(val, &iv) || iv < 1 || iv > 100000)
        problem(&pb, "--kmeans-n-init '%s' must be an integer in [1, 100000]%s", val, "");
      else
        o->kmeans.n_init = (int)iv;
    } else if (!strcmp(name, "--kmeans-max-iter")) {
      if (!parse_i64(val, &iv) || iv < 1 || iv > 100000000)
        problem(&pb, "--kmeans-max-iter '%s' must be an integer >= 1%s", val, "");
      else
        o->kmeans.max_iter = (int)iv;
    } else if (!strcmp(name, "--kmeans-tol")) {
      if (!parse_double(val, &dv) || dv < 0)
        problem(&pb, "--kmeans-tol '%s' must be a number >= 0%s", val, "");
      else
        o->kmeans.tol = dv;
    } else if (!strcmp(name, "--kmeans-rounds")) {
      if (!parse_i64(val, &iv) || iv < 1 || iv > 1000)
        problem(&pb, "--kmeans-rounds '%s' must be an integer in [1, 1000]%s", val, "");
      else
        o->kmeans.parallel_rounds = (int)iv;
    } else if (!strcmp(name, "--kmeans-oversample")) {
      if (!parse_double(val, &dv) || dv <= 0)
        problem(&pb, "--kmeans-oversample '%s' must be a number > 0%s", val, "");
      else
        o->kmeans.oversample = dv;
    } else if (!strcmp(name, "--seed")) {
      if (!parse_i64(val, &iv) || iv < 0)
        problem(&pb, "--seed '%s' must be an integer >= 0%s", val, "");
      else
        o->kmeans.seed = (uint64_t)iv;
    } else {
      problem(&pb, "unknown option '%s'%s", a, "");
    }
  }

  /* Positional arguments per command. */
  int want = o->command == PS_CMD_IMPORT || o->command == PS_CMD_PREDICT ? 2 : 1;
  if (npos != want) {
    static const char *const forms[] = {"", "import IN.csv OUT.h5", "info FILE.h5",
                                        "run IN(.h5|.csv) [-o results.h5]",
                                        "predict MODEL.h5 NEW(.h5|.csv) -o predictions.h5"};
    problem(&pb, "expected: popseg %s%s", forms[o->command], "");
  } else if (o->command == PS_CMD_IMPORT) {
    if (o->output) problem(&pb, "import takes OUT.h5 as its second argument, not -o%s%s", "", "");
    if (o->csv_out || o->report_out) problem(&pb, "import writes no --csv or --report%s%s", "", "");
    o->input = pos[0];
    o->output = pos[1];
  } else if (o->command == PS_CMD_PREDICT) {
    o->model = pos[0];
    o->input = pos[1];
  } else {
    o->input = pos[0];
    if (o->command == PS_CMD_INFO && (o->output || o->csv_out || o->report_out))
      problem(&pb, "info writes no files (-o, --csv, --report are for run and predict)%s%s", "",
              "");
  }
  if (o->command == PS_CMD_PREDICT && !o->output && !o->csv_out)
    problem(&pb, "predict needs -o predictions.h5 (or --csv FILE)%s%s", "", "");
  if (o->pca.keep > 0 && o->pca.n_components > 0 && o->pca.keep > o->pca.n_components) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%lld", (long long)o->pca.keep);
    snprintf(b, sizeof b, "%lld", (long long)o->pca.n_components);
    problem(&pb, "--pca-keep %s is larger than --pca-components %s", a, b);
  }
  if (o->quiet && o->verbose) problem(&pb, "--quiet and --verbose exclude each other%s%s", "", "");
  if (pb.count) {
    /* The kind parsers record their own message; the full list replaces it. */
    ps_error_clear();
    return ps_error(PS_ERR_ARG, __FILE__, __LINE__, "%s", pb.msg);
  }
  return PS_OK;
}
