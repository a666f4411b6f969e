/* opt.c - the option-table engine: defaults, value parsing and range checks,
 * validation of a filled struct, help lines. See opt.h. */
#include "popseg/opt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help columns: flags up to HELP_LEFT wide, lines up to HELP_WIDTH. */
#define HELP_LEFT 30
#define HELP_WIDTH 100

static void *field_ptr(const ps_opt_t *row, void *st) {
  return (char *)st + row->offset;
}

static int parse_i64(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end != '\0') return 0;
  *out = (int64_t)v;
  return 1;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (*s == '-' || *s == '+') return 0;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end != '\0') return 0;
  *out = (uint64_t)v;
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

static int is_integer_kind(ps_opt_kind_t k) {
  return k == PS_OPT_INT || k == PS_OPT_I64 || k == PS_OPT_U64 || k == PS_OPT_RANGE;
}

static int in_range(const ps_opt_t *row, double v) {
  if (row->flags & PS_OPT_MIN_OPEN ? !(v > row->min) : !(v >= row->min)) return 0;
  if (row->flags & PS_OPT_MAX_OPEN ? !(v < row->max) : !(v <= row->max)) return 0;
  return 1;
}

/* A bound as text: integers without a decimal point, others with %g. */
static void fmt_bound(char *buf, size_t cap, double v, int integer) {
  if (integer)
    snprintf(buf, cap, "%.0f", v);
  else
    snprintf(buf, cap, "%g", v);
}

void ps_opt_describe(const ps_opt_t *row, char *buf, size_t cap) {
  char lo[32], hi[32];
  int integer = is_integer_kind(row->kind);
  const char *noun = integer ? "an integer" : "a number";
  if (row->kind == PS_OPT_CHOICE) {
    size_t len = (size_t)snprintf(buf, cap, "one of ");
    int shown = 0;
    for (const ps_opt_choice_t *c = row->choices; c && c->name && len < cap; c++) {
      if (ps_opt_choice_name(row, c->value) != c->name) continue; /* an alias */
      len += (size_t)snprintf(buf + len, cap - len, "%s%s", shown ? ", " : "", c->name);
      shown++;
    }
    return;
  }
  if (row->kind == PS_OPT_RANGE) noun = "a range A..B of integers";
  if (!integer && row->kind != PS_OPT_DOUBLE) {
    snprintf(buf, cap, "a value");
    return;
  }
  fmt_bound(lo, sizeof lo, row->min, integer);
  fmt_bound(hi, sizeof hi, row->max, integer);
  int has_max = row->max < 1e300;
  if (has_max)
    snprintf(buf, cap, "%s in %s%s, %s%s%s", noun, row->flags & PS_OPT_MIN_OPEN ? "(" : "[", lo, hi,
             row->flags & PS_OPT_MAX_OPEN ? ")" : "]", row->flags & PS_OPT_AUTO ? ", or auto" : "");
  else
    snprintf(buf, cap, "%s %s %s%s", noun, row->flags & PS_OPT_MIN_OPEN ? ">" : ">=", lo,
             row->flags & PS_OPT_AUTO ? ", or auto" : "");
}

const char *ps_opt_choice_name(const ps_opt_t *row, int value) {
  for (const ps_opt_choice_t *c = row->choices; c && c->name; c++)
    if (c->value == value) return c->name;
  return "?";
}

static int set_choice(const ps_opt_t *row, const char *text, int *out) {
  for (const ps_opt_choice_t *c = row->choices; c && c->name; c++)
    if (!strcmp(c->name, text)) {
      *out = c->value;
      return 1;
    }
  return 0;
}

/* "A..B" with A <= B. */
static int parse_range(const char *text, int64_t out[2]) {
  const char *dots = strstr(text, "..");
  char a[64];
  if (!dots || (size_t)(dots - text) >= sizeof a) return 0;
  memcpy(a, text, (size_t)(dots - text));
  a[dots - text] = '\0';
  return parse_i64(a, &out[0]) && parse_i64(dots + 2, &out[1]) && out[0] <= out[1];
}

static int set_list(const ps_opt_t *row, const char *text, void *st) {
  const char **list = field_ptr(row, st);
  int n = 0;
  while (n < row->max_count && list[n]) n++;
  if (n >= row->max_count) return 0;
  list[n] = text;
  list[n + 1] = NULL;
  return 1;
}

static int set_number(const ps_opt_t *row, const char *text, void *p) {
  int64_t iv = 0;
  uint64_t uv = 0;
  double dv = 0;
  if ((row->flags & PS_OPT_AUTO) && !strcmp(text, "auto")) {
    dv = row->auto_value;
    iv = (int64_t)dv;
    uv = (uint64_t)(dv < 0 ? 0 : dv);
  } else if (row->kind == PS_OPT_U64) {
    if (!parse_u64(text, &uv) || !in_range(row, (double)uv)) return 0;
  } else if (row->kind == PS_OPT_DOUBLE) {
    if (!parse_double(text, &dv) || !in_range(row, dv)) return 0;
  } else {
    if (!parse_i64(text, &iv) || !in_range(row, (double)iv)) return 0;
  }
  switch (row->kind) {
  case PS_OPT_INT:
    *(int *)p = (int)iv;
    break;
  case PS_OPT_I64:
    *(int64_t *)p = iv;
    break;
  case PS_OPT_U64:
    *(uint64_t *)p = uv;
    break;
  default:
    *(double *)p = dv;
    break;
  }
  return 1;
}

int ps_opt_set(const ps_opt_t *row, const char *text, void *st, char *why, size_t cap) {
  void *p = field_ptr(row, st);
  int ok = 1;
  why[0] = '\0';
  switch (row->kind) {
  case PS_OPT_FLAG:
    *(int *)p = 1;
    return 1;
  case PS_OPT_STRING:
    *(const char **)p = text;
    return 1;
  case PS_OPT_LIST:
    if (!set_list(row, text, st)) {
      snprintf(why, cap, "can be given at most %d times", row->max_count);
      return 0;
    }
    return 1;
  case PS_OPT_CHOICE:
    ok = set_choice(row, text, (int *)p);
    break;
  case PS_OPT_RANGE: {
    int64_t r[2];
    ok = parse_range(text, r) && in_range(row, (double)r[0]) && in_range(row, (double)r[1]);
    if (ok) memcpy(p, r, sizeof r);
    break;
  }
  default:
    ok = set_number(row, text, p);
    break;
  }
  if (!ok) {
    char d[256];
    ps_opt_describe(row, d, sizeof d);
    snprintf(why, cap, "must be %s", d);
  }
  return ok;
}

void ps_opt_defaults(const ps_opt_t *table, void *st) {
  char why[256];
  for (const ps_opt_t *row = table; row->flag; row++) {
    if (row->kind == PS_OPT_LIST) {
      ((const char **)field_ptr(row, st))[0] = NULL;
      continue;
    }
    if (row->def && row->def[0] && row->kind != PS_OPT_FLAG)
      (void)ps_opt_set(row, row->def, st, why, sizeof why);
  }
}

/* The numeric value of a field as a double (for the range check). */
static double field_value(const ps_opt_t *row, const void *st) {
  const void *p = (const char *)st + row->offset;
  switch (row->kind) {
  case PS_OPT_INT:
    return *(const int *)p;
  case PS_OPT_I64:
    return (double)*(const int64_t *)p;
  case PS_OPT_U64:
    return (double)*(const uint64_t *)p;
  default:
    return *(const double *)p;
  }
}

ps_err_t ps_opt_validate(const ps_opt_t *table, const char *stage, const char *what,
                         const void *st) {
  char key[128], d[256];
  for (const ps_opt_t *row = table; row->flag; row++) {
    snprintf(key, sizeof key, "%s.%s", stage, row->field);
    if (row->kind == PS_OPT_CHOICE) {
      int v = *(const int *)((const char *)st + row->offset);
      if (strcmp(ps_opt_choice_name(row, v), "?") != 0) continue;
      ps_opt_describe(row, d, sizeof d);
      return ps_error_opt(PS_ERR_ARG, __FILE__, __LINE__, key, "%s: %s = %d must be %s", what,
                          row->field, v, d);
    }
    if (row->kind != PS_OPT_INT && row->kind != PS_OPT_I64 && row->kind != PS_OPT_U64 &&
        row->kind != PS_OPT_DOUBLE)
      continue;
    double v = field_value(row, st);
    if ((row->flags & PS_OPT_AUTO) && v == row->auto_value) continue;
    if (in_range(row, v)) continue;
    ps_opt_describe(row, d, sizeof d);
    return ps_error_opt(PS_ERR_ARG, __FILE__, __LINE__, key, "%s: %s = %.17g must be %s", what,
                        row->field, v, d);
  }
  return PS_OK;
}

const ps_opt_t *ps_opt_find_field(const ps_opt_t *table, const char *name) {
  for (const ps_opt_t *row = table; row->flag; row++)
    if (!strcmp(row->field, name)) return row;
  return NULL;
}

int ps_opt_applies(const ps_opt_group_t *g, const ps_opt_t *row, unsigned cmd) {
  return ((row->commands ? row->commands : g->commands) & cmd) != 0;
}

void ps_opt_help(const ps_opt_group_t *g, unsigned cmd, ps_sb_t *out) {
  int any = 0;
  for (const ps_opt_t *row = g->opts; row->flag; row++) {
    if (!ps_opt_applies(g, row, cmd) || (row->flags & PS_OPT_HIDDEN)) continue;
    if (!any) ps_sb_printf(out, "%s:\n", g->title);
    any = 1;
    char left[320], choices[256] = "";
    const char *mv = row->metavar ? row->metavar : "";
    if (row->kind == PS_OPT_CHOICE && !row->metavar) {
      ps_opt_describe(row, choices, sizeof choices);
      /* "one of a, b" -> "a|b" for the left column */
      char *s = choices + 7, *q = choices;
      for (; *s; s++) {
        if (s[0] == ',' && s[1] == ' ') {
          *q++ = '|';
          s++;
        } else {
          *q++ = *s;
        }
      }
      *q = '\0';
      mv = choices;
    }
    snprintf(left, sizeof left, "%s%s%s%s%s", row->alias ? row->alias : "", row->alias ? ", " : "",
             row->flag, mv[0] ? " " : "", mv);
    char text[640];
    if (row->def && row->def[0] && row->kind != PS_OPT_LIST)
      snprintf(text, sizeof text, "%s (default %s)", row->help, row->def);
    else
      snprintf(text, sizeof text, "%s", row->help);
    if (strlen(left) > HELP_LEFT) ps_sb_printf(out, "  %s\n", left);
    ps_opt_wrap(out, strlen(left) > HELP_LEFT ? "" : left, text);
  }
}

void ps_opt_wrap(ps_sb_t *out, const char *left, const char *text) {
  const char *s = text;
  int first = 1;
  while (*s) {
    size_t room = HELP_WIDTH - HELP_LEFT - 3, n = strlen(s);
    if (n > room) {
      n = room;
      while (n > 0 && s[n] != ' ') n--;
      if (n == 0) n = room;
    }
    ps_sb_printf(out, "  %-*s %.*s\n", HELP_LEFT, first ? left : "", (int)n, s);
    first = 0;
    s += n;
    while (*s == ' ') s++;
  }
}

int ps_env_flag(const char *name, int dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  return strcmp(v, "0") != 0;
}
