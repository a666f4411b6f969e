/* cli.c - commands, the option groups of every stage, parsing and help.
 *
 * Nothing here knows what an option means: each stage's table (its flag,
 * kind, range, default, help, field) drives the parser, the range checks and
 * the help text; this module adds the commands, the options that belong to
 * no stage (outputs, progress) and the checks that relate two options.
 */
#include "popseg/cli.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN PS_CMDBIT(PS_CMD_RUN)
#define PREDICT PS_CMDBIT(PS_CMD_PREDICT)
#define IMPORT PS_CMDBIT(PS_CMD_IMPORT)
#define INFO PS_CMDBIT(PS_CMD_INFO)
#define SYNTH PS_CMDBIT(PS_CMD_SYNTH)
#define SWEEP PS_CMDBIT(PS_CMD_SWEEP)
#define REPORT PS_CMDBIT(PS_CMD_REPORT)
#define ALL (RUN | PREDICT | IMPORT | INFO | SYNTH | SWEEP | REPORT)

#define OO(f) offsetof(ps_output_opts_t, f)
const ps_opt_t ps_output_options[] = {
    {.flag = "--output",
     .alias = "-o",
     .field = "output",
     .kind = PS_OPT_STRING,
     .offset = OO(output),
     .metavar = "FILE.h5",
     .commands = RUN | PREDICT | SYNTH | SWEEP | REPORT,
     .help = "the results (run, sweep), predictions (predict), table (synth) or HTML (report) "
             "file"},
    {.flag = "--csv",
     .field = "csv",
     .kind = PS_OPT_STRING,
     .offset = OO(csv),
     .metavar = "FILE.csv",
     .commands = RUN | PREDICT | SWEEP,
     .help = "one line per row: id,name,segment,distance,pc1..pcK (sweep: one line per k, "
             "the metrics)"},
    {.flag = "--report",
     .field = "report",
     .kind = PS_OPT_STRING,
     .offset = OO(report),
     .metavar = "FILE.md",
     .commands = RUN | PREDICT | SWEEP,
     .help = "the Markdown report (a summary also goes to stdout)"},
    {.flag = "--html",
     .field = "html",
     .kind = PS_OPT_STRING,
     .offset = OO(html),
     .metavar = "FILE.html",
     .commands = RUN | PREDICT | SWEEP,
     .help = "the HTML report: one self-contained file with the charts and the county map"},
    {.flag = "--force",
     .field = "force",
     .kind = PS_OPT_FLAG,
     .offset = OO(force),
     .commands = IMPORT | RUN | PREDICT | SYNTH | SWEEP | REPORT,
     .help = "overwrite existing output files"},
    {.flag = "--quiet",
     .field = "quiet",
     .kind = PS_OPT_FLAG,
     .offset = OO(quiet),
     .commands = ALL,
     .help = "nothing on stdout"},
    {.flag = "--verbose",
     .field = "verbose",
     .kind = PS_OPT_FLAG,
     .offset = OO(verbose),
     .commands = ALL,
     .help = "progress from every rank; every failing rank explains itself"},
    {.flag = "--debug",
     .field = "debug",
     .kind = PS_OPT_FLAG,
     .offset = OO(debug),
     .commands = ALL,
     .help = "HDF5 error stacks and source locations in messages"},
    {.flag = "--max-memory",
     .field = "max_memory_gib",
     .kind = PS_OPT_DOUBLE,
     .offset = OO(max_memory_gib),
     .min = 0,
     .max = 1e9,
     .flags = PS_OPT_MIN_OPEN,
     .metavar = "GIB",
     .commands = RUN | PREDICT | SWEEP,
     .help = "memory per rank to plan for (default: what the node or the job's cgroup allows)"},
    {0}};
#undef OO

static const ps_opt_group_t groups[] = {
    {"output", "output", ps_output_options, offsetof(ps_options_t, out), ALL},
    {"import", "input (CSV)", ps_import_options, offsetof(ps_options_t, import), ALL},
    {"prep", "features (geodemographics)", ps_prep_options, offsetof(ps_options_t, prep),
     RUN | SWEEP},
    {"scale", "scaling", ps_scale_options, offsetof(ps_options_t, scale), RUN | SWEEP},
    {"pca", "PCA", ps_pca_options, offsetof(ps_options_t, pca), RUN | SWEEP},
    {"sweep", "k range", ps_sweep_k_options, offsetof(ps_options_t, sweep), SWEEP},
    {"kmeans", "k-means", ps_kmeans_options, offsetof(ps_options_t, kmeans), RUN},
    /* sweep takes every k-means option but --k (the first row: the range above). */
    {"kmeans", "k-means", ps_kmeans_options + 1, offsetof(ps_options_t, kmeans), SWEEP},
    {"sweep", "choosing k", ps_sweep_range_options, offsetof(ps_options_t, sweep), RUN},
    {"sweep", "choosing k", ps_sweep_options, offsetof(ps_options_t, sweep), RUN | SWEEP},
    {"subseg", "sub-segments", ps_subseg_options, offsetof(ps_options_t, subseg), RUN | SWEEP},
    {"profile", "segment profiles", ps_profile_options, offsetof(ps_options_t, profile),
     RUN | SWEEP},
    {"model", "model", ps_model_options, offsetof(ps_options_t, modelsel), PREDICT},
    {"synth", "synthetic table", ps_synth_options, offsetof(ps_options_t, synth), SYNTH},
};
#define N_GROUPS ((int)(sizeof groups / sizeof groups[0]))

typedef struct {
  ps_command_t cmd;
  const char *name;
  const char *usage;
  int npos;
  const char *summary;
  const char *example;
} command_t;

static const command_t commands[] = {
    {PS_CMD_IMPORT, "import", "import IN.csv OUT.h5 [options]", 2,
     "Convert a census CSV to popseg's HDF5 table (read in parallel by run and predict).",
     "popseg import data/acs2015_county_data.csv census2015.h5"},
    {PS_CMD_INFO, "info", "info FILE(.h5|.csv) [options]", 1,
     "Shape, feature names, the first rows and per-column min/mean/max of a table.",
     "popseg info census2015.h5"},
    {PS_CMD_RUN, "run", "run IN(.h5|.csv) [-o results.h5] [--csv F] [--report F] [options]", 1,
     "Scale, PCA and k-means on a table; explain the segments. Nothing is saved unless -o, "
     "--csv or --report names a file.",
     "mpirun -np 4 popseg run data/acs2015_county_data.csv -o results.h5 \\\n"
     "      --csv segments.csv --report report.md"},
    {PS_CMD_PREDICT, "predict",
     "predict MODEL.h5 NEW(.h5|.csv) -o predictions.h5 [--csv F] [--report F] [options]", 2,
     "Apply the model in a results file (scaling, PCA, centroids) to new rows.",
     "mpirun -np 4 popseg predict results.h5 data/acs2017_county_data.csv -o pred2017.h5 \\\n"
     "      --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen"},
    {PS_CMD_SWEEP, "sweep",
     "sweep IN(.h5|.csv) [--k A..B] [-o sweep.h5] [--csv F] [--report F] [options]", 1,
     "k-means for every k in a range on one scaling and PCA, with the silhouette, "
     "Calinski-Harabasz, Davies-Bouldin and stability (adjusted Rand index of two seeds) of "
     "each; suggests " PS_SWEEP_RULE ". The results file holds every k and the model of the "
     "suggested one.",
     "mpirun -np 4 popseg sweep data/acs2015_county_data.csv --k 2..16 -o sweep.h5 \\\n"
     "      --csv sweep.csv --report sweep.md"},
    {PS_CMD_REPORT, "report", "report FILE.h5 -o report.html [options]", 1,
     "The HTML report of a results or predictions file: one self-contained page (no network "
     "needed) with the scree, component makeup, centroid and index-score heatmaps, segment "
     "sizes and pen portraits, a county map and the first two components; the sweep's elbow and "
     "silhouette, or a prediction's transitions.",
     "popseg report results.h5 -o report.html"},
    {PS_CMD_SYNTH, "synth", "synth --rows N -o big.h5 [options]", 0,
     "Write a census-like synthetic table of N rows (the 34 census features, a mixture of "
     "overlapping segments), every rank its block, the same file whatever the rank count.",
     "mpirun -np 4 popseg synth --rows 10000000 -o synth10m.h5 --seed 1"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static const char exit_text[] =
    "exit status: 0 done; 1 bad option or argument; 2 a file cannot be read or written;\n"
    "  3 malformed input; 4 out of memory or too big for --max-memory; 5 numerical failure;\n"
    "  6 LAPACK/ScaLAPACK failure; 7 MPI failure; 9 internal error; 128 + the signal when\n"
    "  stopped (143 SIGTERM, 130 SIGINT; under mpirun and srun see README, \"Exit status\").\n";

const ps_opt_group_t *ps_cli_groups(int *count) {
  *count = N_GROUPS;
  return groups;
}

static const command_t *find_command(const char *name) {
  for (int i = 0; i < N_COMMANDS; i++)
    if (!strcmp(commands[i].name, name)) return &commands[i];
  return NULL;
}

unsigned ps_cli_command_bit(const char *name) {
  const command_t *c = find_command(name);
  return c ? PS_CMDBIT(c->cmd) : 0u;
}

const char *ps_cli_command_name(ps_command_t c) {
  for (int i = 0; i < N_COMMANDS; i++)
    if (commands[i].cmd == c) return commands[i].name;
  return "";
}

/* The command being parsed (or run): a field may have a different flag per
 * command (sweep.k_range: --k for sweep, --k-range for run). */
static unsigned g_cmdbit;

const char *ps_cli_flag_of_cmd(const char *key, unsigned cmdbit) {
  const char *dot = key ? strchr(key, '.') : NULL, *first = NULL;
  if (!dot) return NULL;
  for (int g = 0; g < N_GROUPS; g++) {
    if (strlen(groups[g].stage) != (size_t)(dot - key) ||
        strncmp(groups[g].stage, key, (size_t)(dot - key)) != 0)
      continue;
    const ps_opt_t *row = ps_opt_find_field(groups[g].opts, dot + 1);
    if (!row) continue;
    if (!cmdbit || ps_opt_applies(&groups[g], row, cmdbit)) return row->flag;
    if (!first) first = row->flag;
  }
  return first;
}

const char *ps_cli_flag_of(const char *key) {
  return ps_cli_flag_of_cmd(key, g_cmdbit);
}

int ps_cli_given(const ps_options_t *o, const char *flag) {
  for (int i = 0; i < o->n_given; i++)
    if (!strcmp(o->given[i]->flag, flag)) return 1;
  return 0;
}

/* text wrapped at 100 columns, then a blank line. */
static void paragraph(ps_sb_t *out, const char *text) {
  const char *s = text;
  while (*s) {
    size_t n = strlen(s);
    if (n > 100) {
      n = 100;
      while (n > 0 && s[n] != ' ') n--;
      if (n == 0) n = 100;
    }
    ps_sb_printf(out, "%.*s\n", (int)n, s);
    s += n;
    while (*s == ' ') s++;
  }
  ps_sb_puts(out, "\n");
}

void ps_cli_help(ps_command_t command, ps_sb_t *out) {
  if (command == PS_CMD_NONE) {
    ps_sb_puts(out, "usage: popseg COMMAND [options]   (under mpirun or srun for several ranks)\n"
                    "\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) ps_opt_wrap(out, commands[i].name, commands[i].summary);
    ps_sb_puts(out,
               "\n'popseg COMMAND --help' lists the options of a command. popseg --version.\n\n");
    ps_sb_puts(out, exit_text);
    return;
  }
  const command_t *c = NULL;
  for (int i = 0; i < N_COMMANDS; i++)
    if (commands[i].cmd == command) c = &commands[i];
  if (!c) return;
  unsigned bit = PS_CMDBIT(command);
  ps_sb_printf(out, "usage: popseg %s\n\n", c->usage);
  paragraph(out, c->summary);
  for (int g = 0; g < N_GROUPS; g++) ps_opt_help(&groups[g], bit, out);
  ps_sb_printf(out, "  %-30s %s\n\nexample:\n  %s\n\n", "-h, --help", "this text", c->example);
  ps_sb_puts(out, exit_text);
}

/* ------------------------------------------------------------ parsing */

typedef struct {
  char msg[2048];
  size_t len;
  int count;
} problems_t;

__attribute__((format(printf, 2, 3))) static void problem(problems_t *p, const char *fmt, ...) {
  va_list ap;
  if (p->len < sizeof p->msg - 1 && p->count)
    p->len += (size_t)snprintf(p->msg + p->len, sizeof p->msg - p->len, "; ");
  if (p->len < sizeof p->msg - 1) {
    va_start(ap, fmt);
    p->len += (size_t)vsnprintf(p->msg + p->len, sizeof p->msg - p->len, fmt, ap);
    va_end(ap);
  }
  if (p->len >= sizeof p->msg) p->len = sizeof p->msg - 1;
  p->count++;
}

/* The row for a flag and its group; applies = whether the command takes it. */
static const ps_opt_t *find_row(const char *flag, unsigned bit, const ps_opt_group_t **grp,
                                int *applies) {
  const ps_opt_t *other = NULL;
  const ps_opt_group_t *other_g = NULL;
  for (int g = 0; g < N_GROUPS; g++)
    for (const ps_opt_t *row = groups[g].opts; row->flag; row++) {
      if (strcmp(row->flag, flag) != 0 && !(row->alias && !strcmp(row->alias, flag))) continue;
      if (ps_opt_applies(&groups[g], row, bit)) {
        *grp = &groups[g];
        *applies = 1;
        return row;
      }
      other = row;
      other_g = &groups[g];
    }
  *grp = other_g;
  *applies = 0;
  return other;
}

static void set_defaults(ps_options_t *o) {
  memset(o, 0, sizeof *o);
  for (int g = 0; g < N_GROUPS; g++) ps_opt_defaults(groups[g].opts, (char *)o + groups[g].base);
}

static void keep_command_line(int argc, char **argv, ps_options_t *o) {
  size_t len = 0;
  for (int i = 0; i < argc && len < sizeof o->command_line - 1; i++)
    len += (size_t)snprintf(o->command_line + len, sizeof o->command_line - len, "%s%s",
                            i ? " " : "", argv[i]);
}

/* One option at argv[*i]: find its row, take its value, check and store it. */
static void parse_option(int argc, char **argv, int *i, const command_t *c, ps_options_t *o,
                         problems_t *pb) {
  const char *a = argv[*i], *val = NULL, *eq = strchr(a, '=');
  char name[64], why[320];
  const ps_opt_group_t *g = NULL;
  int applies = 0;
  if (eq && a[1] == '-')
    snprintf(name, sizeof name, "%.*s", (int)(eq - a) < 63 ? (int)(eq - a) : 63, a);
  else
    snprintf(name, sizeof name, "%s", a);
  if (eq && a[1] == '-') val = eq + 1;
  const ps_opt_t *row = find_row(name, PS_CMDBIT(c->cmd), &g, &applies);
  if (!row) {
    problem(pb, "unknown option '%s'", name);
    return;
  }
  if (row->kind == PS_OPT_FLAG) {
    if (val) {
      problem(pb, "%s takes no value (got '%s')", row->flag, val);
      return;
    }
  } else if (!val) {
    if (*i + 1 >= argc) {
      problem(pb, "%s needs a value", row->flag);
      return;
    }
    val = argv[++*i];
  }
  if (!applies) {
    problem(pb, "%s does not apply to %s", row->flag, c->name);
    return;
  }
  if (row->kind != PS_OPT_LIST && ps_cli_given(o, row->flag)) {
    problem(pb, "%s is given twice", row->flag);
    return;
  }
  if (o->n_given < PS_MAX_GIVEN) o->given[o->n_given++] = row;
  if (!ps_opt_set(row, val, (char *)o + g->base, why, sizeof why))
    problem(pb, "%s '%s' %s", row->flag, val ? val : "", why);
}

__attribute__((format(printf, 2, 3))) static void note(ps_options_t *o, const char *fmt, ...) {
  if (o->n_notes >= (int)(sizeof o->notes / sizeof o->notes[0])) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->notes[o->n_notes++], sizeof o->notes[0], fmt, ap);
  va_end(ap);
}

/* Options that contradict each other are an error naming both. */
static const struct {
  const char *a, *b, *why;
} contradictions[] = {
    {"--pca-keep", "--pca-variance",
     "keep K components, or the fewest reaching a variance ratio: give one of them"},
    {"--quiet", "--verbose", "they exclude each other"},
    {"--kmeans-init-from", "--kmeans-init",
     "start from a results file's centroids, or seed: give one of them"},
};

/* An option that only matters with another option's value gets a note when
 * that value is not chosen. */
static void notes(const command_t *c, ps_options_t *o) {
  static const char *const parallel_only[] = {"--kmeans-rounds", "--kmeans-oversample"};
  for (int i = 0; i < 2; i++)
    if (ps_cli_given(o, parallel_only[i]) && o->kmeans.init != PS_KM_INIT_PARALLEL)
      note(o, "%s has no effect without --kmeans-init kmeans-parallel", parallel_only[i]);
  if (ps_cli_given(o, "--kmeans-n-init") && o->kmeans.init_from)
    note(o, "--kmeans-n-init has no effect with --kmeans-init-from (one run from those centroids)");
  if (ps_cli_given(o, "--pca-block-size") && o->pca.solver == PS_PCA_LAPACK)
    note(o, "--pca-block-size has no effect with --pca-solver lapack");
  if (ps_cli_given(o, "--pca-auto-threshold") && o->pca.solver != PS_PCA_AUTO)
    note(o, "--pca-auto-threshold has no effect with --pca-solver %s",
         ps_pca_solver_name(o->pca.solver));
  if (ps_cli_given(o, "--k-range") && o->kmeans.k != 0)
    note(o, "--k-range has no effect without --k auto");
  if (ps_cli_given(o, "--force") && c->cmd == PS_CMD_RUN && !o->out.output && !o->out.csv &&
      !o->out.report && !o->out.html)
    note(o, "--force has no effect: no output file is named");
}

/* Checks that relate options to each other or to the command. */
static void cross_checks(const command_t *c, ps_options_t *o, problems_t *pb) {
  if (c->cmd == PS_CMD_PREDICT && !o->out.output && !o->out.csv)
    problem(pb, "predict needs -o predictions.h5 (or --csv FILE)");
  if (c->cmd == PS_CMD_SYNTH && !o->out.output) problem(pb, "synth needs -o FILE.h5");
  if (c->cmd == PS_CMD_REPORT && !o->out.output) problem(pb, "report needs -o report.html");
  if (c->cmd == PS_CMD_SYNTH && !ps_cli_given(o, "--rows")) problem(pb, "synth needs --rows N");
  if (c->cmd == PS_CMD_SWEEP && o->kmeans.init_from)
    problem(pb, "--kmeans-init-from does not apply to sweep: every k is seeded (a file gives one "
                "k's centroids)");
  if (c->cmd == PS_CMD_RUN && o->kmeans.k == 0 && o->kmeans.init_from)
    problem(pb, "--k auto and --kmeans-init-from contradict each other: a sweep seeds every k, "
                "the file gives one k's centroids");
  if (o->pca.keep > 0 && o->pca.n_components > 0 && o->pca.keep > o->pca.n_components)
    problem(pb, "--pca-keep %lld is larger than --pca-components %lld", (long long)o->pca.keep,
            (long long)o->pca.n_components);
  for (size_t i = 0; i < sizeof contradictions / sizeof contradictions[0]; i++)
    if (ps_cli_given(o, contradictions[i].a) && ps_cli_given(o, contradictions[i].b))
      problem(pb, "%s and %s contradict each other: %s", contradictions[i].a, contradictions[i].b,
              contradictions[i].why);
  notes(c, o);
}

ps_err_t ps_cli_parse(int argc, char **argv, ps_options_t *o) {
  problems_t pb = {{0}, 0, 0};
  const char *pos[4] = {NULL, NULL, NULL, NULL};
  int npos = 0;
  set_defaults(o);
  ps_error_set_namer(ps_cli_flag_of);
  keep_command_line(argc, argv, o);
  if (argc < 2)
    return ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                    "no command given (import, info, run, predict, sweep, report, synth)");
  const char *cmd = argv[1];
  if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
    o->command = PS_CMD_HELP;
    const command_t *c = argc > 2 ? find_command(argv[2]) : NULL;
    o->help_for = c ? c->cmd : PS_CMD_NONE;
    return PS_OK;
  }
  if (!strcmp(cmd, "--version")) {
    o->command = PS_CMD_VERSION;
    return PS_OK;
  }
  const command_t *c = find_command(cmd);
  if (!c)
    return ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                    "unknown command '%s' (import, info, run, predict, sweep, report, synth)", cmd);
  o->command = c->cmd;
  g_cmdbit = PS_CMDBIT(c->cmd);
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      o->command = PS_CMD_HELP;
      o->help_for = c->cmd;
      return PS_OK;
    }
    if (a[0] != '-' || a[1] == '\0') {
      if (npos < 4) pos[npos] = a;
      npos++;
      continue;
    }
    parse_option(argc, argv, &i, c, o, &pb);
  }
  if (npos != c->npos) {
    problem(&pb, "expected: popseg %s", c->usage);
  } else if (c->cmd == PS_CMD_IMPORT) {
    o->input = pos[0];
    o->out.output = pos[1];
  } else if (c->cmd == PS_CMD_PREDICT) {
    o->model = pos[0];
    o->input = pos[1];
  } else {
    o->input = pos[0];
  }
  cross_checks(c, o, &pb);
  if (pb.count) return ps_error(PS_ERR_ARG, __FILE__, __LINE__, "%s", pb.msg);
  return PS_OK;
}
