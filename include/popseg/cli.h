/* cli.h - command line: commands, options, validation.
 *
 * popseg import IN.csv OUT.h5 [import options]
 * popseg info FILE.h5
 * popseg run IN(.h5|.csv) [-o results.h5] [--csv F] [--report F] [stage options]
 * popseg predict MODEL.h5 NEW(.h5|.csv) -o predictions.h5 [--csv F] [--report F]
 * Long options are grouped by stage and match the struct fields.
 */
#ifndef POPSEG_CLI_H
#define POPSEG_CLI_H

#include <stdint.h>

#include "popseg/csv.h"
#include "popseg/error.h"
#include "popseg/kmeans.h"
#include "popseg/pca.h"
#include "popseg/scale.h"

#define PS_MAX_RENAMES 64

typedef enum {
  PS_CMD_NONE = 0,
  PS_CMD_IMPORT,
  PS_CMD_INFO,
  PS_CMD_RUN,
  PS_CMD_PREDICT,
  PS_CMD_HELP,
  PS_CMD_VERSION
} ps_command_t;

typedef struct {
  ps_command_t command;
  const char *input;      /* import/info/run: the input; predict: new data */
  const char *model;      /* predict: the results file holding the model */
  const char *output;     /* import: OUT.h5; run/predict: -o */
  const char *csv_out;    /* --csv */
  const char *report_out; /* --report */
  int force, quiet, verbose, debug;
  double max_memory_gib; /* --max-memory (0 = automatic check) */
  /* import */
  ps_import_opts_t import;
  const char *renames[PS_MAX_RENAMES + 1]; /* NULL-terminated, import.rename points here */
  /* stages */
  ps_scale_kind_t scale;
  ps_pca_opts_t pca;
  ps_kmeans_opts_t kmeans;
  char command_line[8192]; /* the full command line, for the results file */
} ps_options_t;

/* Not collective (every rank parses the same argv). Fills opts; on a bad
 * option returns PS_ERR_ARG with a message naming it. Every bad option is
 * checked by one validate step after parsing. */
ps_err_t ps_cli_parse(int argc, char **argv, ps_options_t *opts);
/* The usage text (for --help and on a usage error). */
const char *ps_cli_usage(void);

#endif
