/* cli.h - the command line: commands, the option tables of every stage, help.
 *
 * popseg import IN.csv OUT.h5 [import options]
 * popseg info FILE.h5
 * popseg run IN(.h5|.csv) [-o results.h5] [--csv F] [--report F] [stage options]
 * popseg predict MODEL.h5 NEW(.h5|.csv) -o predictions.h5 [--csv F] [--report F]
 * popseg sweep IN(.h5|.csv) --k A..B [-o sweep.h5] [--csv F] [--report F]
 *
 * Each stage declares its options in its own table (ps_import_options,
 * ps_scale_options, ps_pca_options, ps_kmeans_options, ps_profile_options;
 * the outputs'
 * ps_output_options here). The parser, the range checks and every --help
 * text are generated from those tables; this module is the only place that
 * turns a stage's field ("kmeans.k") back into the flag a user types.
 */
#ifndef POPSEG_CLI_H
#define POPSEG_CLI_H

#include <stdint.h>

#include "popseg/csv.h"
#include "popseg/error.h"
#include "popseg/kmeans.h"
#include "popseg/model.h"
#include "popseg/opt.h"
#include "popseg/pca.h"
#include "popseg/prep.h"
#include "popseg/profile.h"
#include "popseg/scale.h"
#include "popseg/subseg.h"
#include "popseg/sweep.h"
#include "popseg/synth.h"

typedef enum {
  PS_CMD_NONE = 0,
  PS_CMD_IMPORT,
  PS_CMD_INFO,
  PS_CMD_RUN,
  PS_CMD_PREDICT,
  PS_CMD_SYNTH,
  PS_CMD_SWEEP,
  PS_CMD_REPORT,
  PS_CMD_HELP,
  PS_CMD_VERSION
} ps_command_t;

/* Command bits for the tables' command masks. */
#define PS_CMDBIT(c) (1u << (c))

/* Outputs and progress: the options of no stage in particular. */
typedef struct {
  const char *output; /* -o: results (run) or predictions (predict) */
  const char *csv;    /* --csv */
  const char *report; /* --report */
  const char *html;   /* --html: the HTML report (report: -o) */
  int force, quiet, verbose, debug;
  double max_memory_gib; /* --max-memory (0 = what the node reports) */
} ps_output_opts_t;

extern const ps_opt_t ps_output_options[];

#define PS_MAX_GIVEN 128

typedef struct {
  ps_command_t command;
  ps_command_t help_for; /* PS_CMD_HELP: the command whose help to print (NONE: all) */
  const char *input;     /* import/info/run: the input; predict: new data */
  const char *model;     /* predict: the results file holding the model */
  ps_output_opts_t out;
  ps_import_opts_t import;
  ps_prep_opts_t prep;
  ps_scale_opts_t scale;
  ps_pca_opts_t pca;
  ps_kmeans_opts_t kmeans;
  ps_profile_opts_t profile;
  ps_subseg_opts_t subseg;
  ps_synth_opts_t synth;
  ps_sweep_opts_t sweep;
  ps_model_opts_t modelsel;            /* predict: which model of the file */
  const ps_opt_t *given[PS_MAX_GIVEN]; /* the rows set on the command line */
  int n_given;
  char notes[4][200]; /* options given that cannot take effect, said once at the start */
  int n_notes;
  char command_line[8192]; /* the full command line, for the results file */
} ps_options_t;

/* Not collective (every rank parses the same argv). Fills opts from the
 * tables' defaults and argv; every bad option is reported in one message
 * (PS_ERR_ARG). Installs the field namer (ps_error_set_namer). */
ps_err_t ps_cli_parse(int argc, char **argv, ps_options_t *opts);
/* Whether the option with this flag was given on the command line. */
int ps_cli_given(const ps_options_t *opts, const char *flag);
/* The flag that sets a stage field ("kmeans.k" -> "--k"); NULL if none. */
const char *ps_cli_flag_of(const char *key);
/* The same for a command (bit); 0: the first table's. */
const char *ps_cli_flag_of_cmd(const char *key, unsigned cmdbit);
/* Help text: the commands (PS_CMD_NONE) or one command's options, with an
 * example and the exit statuses. The caller frees *out with ps_sb_free. */
void ps_cli_help(ps_command_t command, ps_sb_t *out);

/* The option groups, for tests that walk every table. */
const ps_opt_group_t *ps_cli_groups(int *count);
/* The bit of a command name ("run") or 0; its name by bit. */
unsigned ps_cli_command_bit(const char *name);
const char *ps_cli_command_name(ps_command_t c);

#endif
