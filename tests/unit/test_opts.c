/* test_opts.c - the option tables drive the command line: walks every row of
 * every group and checks that the option is accepted by each command it
 * applies to (with a value derived from its row), refused by the others,
 * listed in that command's --help, range-checked with the generated message,
 * defaulted from its row, and that the stage's field key names its flag. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "popseg/cli.h"

static const ps_command_t cmds[] = {PS_CMD_IMPORT, PS_CMD_INFO, PS_CMD_RUN, PS_CMD_PREDICT,
                                    PS_CMD_SYNTH};
#define N_CMDS 5

/* Positional arguments a command needs (never opened: parsing only). */
static int positional(ps_command_t c, const char **argv) {
  switch (c) {
  case PS_CMD_IMPORT:
    argv[0] = "in.csv";
    argv[1] = "out.h5";
    return 2;
  case PS_CMD_PREDICT:
    argv[0] = "model.h5";
    argv[1] = "new.csv";
    return 2;
  case PS_CMD_SYNTH:
    return 0;
  default:
    argv[0] = "in.csv";
    return 1;
  }
}

/* A valid value for a row, as text ("" for a flag). */
static void good_value(const ps_opt_t *row, char *buf, size_t cap) {
  switch (row->kind) {
  case PS_OPT_FLAG:
    buf[0] = '\0';
    return;
  case PS_OPT_STRING:
    snprintf(buf, cap, "x.out");
    return;
  case PS_OPT_LIST:
    snprintf(buf, cap, "A=B");
    return;
  case PS_OPT_CHOICE:
    snprintf(buf, cap, "%s", row->choices[0].name);
    return;
  case PS_OPT_RANGE:
    snprintf(buf, cap, "%.0f..%.0f", row->min + 1, row->min + 2);
    return;
  default:
    break;
  }
  double v = row->min;
  if (row->flags & PS_OPT_MIN_OPEN)
    v = row->kind == PS_OPT_DOUBLE ? (row->min + fmin(row->max, row->min + 2)) / 2 : row->min + 1;
  if (row->kind == PS_OPT_DOUBLE)
    snprintf(buf, cap, "%.17g", v);
  else
    snprintf(buf, cap, "%.0f", v);
}

/* A value just out of the row's range (0 if it has none to test). */
static int bad_value(const ps_opt_t *row, char *buf, size_t cap) {
  if (row->kind == PS_OPT_CHOICE) {
    snprintf(buf, cap, "no-such-choice");
    return 1;
  }
  if (row->kind != PS_OPT_INT && row->kind != PS_OPT_I64 && row->kind != PS_OPT_DOUBLE &&
      row->kind != PS_OPT_U64)
    return 0;
  if (row->kind == PS_OPT_U64) {
    snprintf(buf, cap, "-1");
    return 1;
  }
  double v = (row->flags & PS_OPT_MIN_OPEN) ? row->min : row->min - 1;
  if (row->kind == PS_OPT_DOUBLE && !(row->flags & PS_OPT_MIN_OPEN)) v = row->min - 0.5;
  snprintf(buf, cap, row->kind == PS_OPT_DOUBLE ? "%.17g" : "%.0f", v);
  return 1;
}

static ps_err_t parse(ps_command_t c, const ps_opt_t *row, const char *value, ps_options_t *o) {
  const char *argv[12] = {"popseg", ps_cli_command_name(c)};
  int argc = 2;
  argc += positional(c, argv + argc);
  argv[argc++] = row->flag;
  if (row->kind != PS_OPT_FLAG) argv[argc++] = value;
  /* predict insists on an output */
  if (c == PS_CMD_PREDICT && strcmp(row->flag, "--output") && strcmp(row->flag, "--csv")) {
    argv[argc++] = "-o";
    argv[argc++] = "p.h5";
  }
  /* synth insists on -o and --rows */
  if (c == PS_CMD_SYNTH && strcmp(row->flag, "--output")) {
    argv[argc++] = "-o";
    argv[argc++] = "s.h5";
  }
  if (c == PS_CMD_SYNTH && strcmp(row->flag, "--rows")) {
    argv[argc++] = "--rows";
    argv[argc++] = "10";
  }
  ps_error_clear();
  return ps_cli_parse(argc, (char **)argv, o);
}

static ps_options_t g_opts;

/* Another table's row with the same flag that this command takes (--seed is
 * both k-means' and synth's). */
static int other_row_applies(const ps_opt_group_t *self, const ps_opt_t *row, unsigned cmd) {
  int ng = 0;
  const ps_opt_group_t *groups = ps_cli_groups(&ng);
  for (int g = 0; g < ng; g++)
    for (const ps_opt_t *r = groups[g].opts; r->flag; r++)
      if ((r != row || &groups[g] != self) && !strcmp(r->flag, row->flag) &&
          ps_opt_applies(&groups[g], r, cmd))
        return 1;
  return 0;
}

/* The lowest command bit of a group (the messages' flag is per command). */
static unsigned first_cmd(const ps_opt_group_t *g) {
  for (int i = 0; i < 32; i++)
    if (g->commands & (1u << i)) return 1u << i;
  return 0;
}

static void check_row(const ps_opt_group_t *g, const ps_opt_t *row, ps_sb_t *help) {
  char good[64], bad[64];
  good_value(row, good, sizeof good);
  for (int i = 0; i < N_CMDS; i++) {
    ps_command_t c = cmds[i];
    int applies = ps_opt_applies(g, row, PS_CMDBIT(c));
    ps_err_t e = parse(c, row, good, &g_opts);
    if (applies) {
      T_CHECK(e == PS_OK && ps_cli_given(&g_opts, row->flag), "%s %s %s is accepted (%s)",
              ps_cli_command_name(c), row->flag, good, ps_error_message());
      char line[128];
      snprintf(line, sizeof line, "  %s%s%s", row->alias ? row->alias : "", row->alias ? ", " : "",
               row->flag);
      T_CHECK(strstr(ps_sb_str(&help[i]), line) != NULL, "%s --help lists %s",
              ps_cli_command_name(c), row->flag);
      if (bad_value(row, bad, sizeof bad)) {
        e = parse(c, row, bad, &g_opts);
        T_CHECK(e == PS_ERR_ARG && strstr(ps_error_message(), row->flag) &&
                    strstr(ps_error_message(), "must be"),
                "%s %s %s is refused naming the flag and the range (%s)", ps_cli_command_name(c),
                row->flag, bad, ps_error_message());
      }
    } else if (!other_row_applies(g, row, PS_CMDBIT(c))) {
      T_CHECK(e == PS_ERR_ARG && strstr(ps_error_message(), "does not apply"),
              "%s %s is refused: does not apply (%s)", ps_cli_command_name(c), row->flag,
              ps_error_message());
    }
  }
  char key[128];
  snprintf(key, sizeof key, "%s.%s", g->stage, row->field);
  const char *flag = ps_cli_flag_of_cmd(key, first_cmd(g));
  T_CHECK(flag && !strcmp(flag, row->flag), "field %s is named %s in messages", key, row->flag);
  T_CHECK(row->help && row->help[0] && strlen(row->help) < 200, "%s has a help line", row->flag);
}

/* The defaults in the parsed struct are the rows' defaults, parsed. */
static void check_defaults(const ps_opt_group_t *g) {
  const char *argv[4] = {"popseg", "run", "in.csv", NULL};
  ps_options_t o;
  ps_error_clear();
  ps_cli_parse(3, (char **)argv, &o);
  for (const ps_opt_t *row = g->opts; row->flag; row++) {
    if (!row->def || !row->def[0] || row->kind == PS_OPT_FLAG) continue;
    char why[256];
    char *st = calloc(1, row->offset + 64); /* a stand-in for the stage's struct */
    int ok = st && ps_opt_set(row, row->def, st, why, sizeof why);
    const char *got = (const char *)&o + g->base + row->offset;
    size_t sz = row->kind == PS_OPT_INT || row->kind == PS_OPT_CHOICE ? sizeof(int) : 8;
    T_CHECK(ok && memcmp(st + row->offset, got, sz) == 0, "%s defaults to %s", row->flag, row->def);
    free(st);
  }
}

/* --list-bad: "flag<TAB>value" for every option of `run` that has a range, with
 * a value just outside it, for the bad-input matrix (tests/t_badinput.sh). */
static int list_bad(void) {
  int ng = 0;
  const ps_opt_group_t *groups = ps_cli_groups(&ng);
  char bad[64];
  for (int g = 0; g < ng; g++)
    for (const ps_opt_t *row = groups[g].opts; row->flag; row++)
      if (ps_opt_applies(&groups[g], row, PS_CMDBIT(PS_CMD_RUN))) {
        if (bad_value(row, bad, sizeof bad)) printf("%s\t%s\n", row->flag, bad);
        /* and just above the top of a bounded range */
        if ((row->kind == PS_OPT_INT || row->kind == PS_OPT_DOUBLE) && row->max < 1e12)
          printf("%s\t%.17g\n", row->flag,
                 row->kind == PS_OPT_INT ? row->max + 1 : row->max * 1.5 + 0.5);
      }
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (argc > 1 && !strcmp(argv[1], "--list-bad")) {
    int rc = list_bad();
    MPI_Finalize();
    return rc;
  }
  T_INIT();
  int ng = 0;
  const ps_opt_group_t *groups = ps_cli_groups(&ng);
  ps_sb_t help[N_CMDS];
  memset(help, 0, sizeof help);
  for (int i = 0; i < N_CMDS; i++) ps_cli_help(cmds[i], &help[i]);
  int rows = 0;
  for (int g = 0; g < ng; g++) {
    for (const ps_opt_t *row = groups[g].opts; row->flag; row++, rows++)
      check_row(&groups[g], row, help);
    check_defaults(&groups[g]);
  }
  T_CHECK(rows >= 20 && ng >= 6, "the walk saw %d options in %d tables", rows, ng);
  for (int i = 0; i < N_CMDS; i++) {
    T_CHECK(strstr(ps_sb_str(&help[i]), "example:") && strstr(ps_sb_str(&help[i]), "exit status"),
            "%s --help has an example and the exit statuses", ps_cli_command_name(cmds[i]));
    ps_sb_free(&help[i]);
  }
  /* Every option given twice is refused, naming it (lists excepted). */
  {
    const char *a[] = {"popseg", "run", "in.csv", "--k", "3", "--k", "4"};
    ps_error_clear();
    T_CHECK(ps_cli_parse(7, (char **)a, &g_opts) == PS_ERR_ARG &&
                strstr(ps_error_message(), "--k is given twice"),
            "a repeated option is refused (%s)", ps_error_message());
    const char *b[] = {"popseg", "run", "in.csv", "--rename", "a=b", "--rename", "c=d"};
    ps_error_clear();
    T_CHECK(ps_cli_parse(7, (char **)b, &g_opts) == PS_OK && g_opts.import.rename[1] &&
                !strcmp(g_opts.import.rename[1], "c=d"),
            "--rename may be repeated");
  }
  /* The environment switches: unset or empty gives the default, "0" off,
   * any other value on. */
  {
    static const struct {
      const char *value;
      int dflt, want;
    } cases[] = {{NULL, 0, 0}, {NULL, 1, 1}, {"", 0, 0},    {"", 1, 1},   {"0", 1, 0},
                 {"0", 0, 0},  {"1", 0, 1},  {"yes", 0, 1}, {"00", 0, 1}, {"1", 1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      if (cases[i].value)
        setenv("POPSEG_TEST_SWITCH", cases[i].value, 1);
      else
        unsetenv("POPSEG_TEST_SWITCH");
      T_CHECK(ps_env_flag("POPSEG_TEST_SWITCH", cases[i].dflt) == cases[i].want,
              "ps_env_flag(%s%s%s, default %d) is %d", cases[i].value ? "\"" : "",
              cases[i].value ? cases[i].value : "unset", cases[i].value ? "\"" : "", cases[i].dflt,
              cases[i].want);
    }
    unsetenv("POPSEG_TEST_SWITCH");
  }
  MPI_Finalize();
  return T_FINISH();
}
