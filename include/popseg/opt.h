/* opt.h - option tables: each option declared once, in its stage's table.
 *
 * A row names the flag, the argument kind, the range, the default (as text),
 * a help line and the field it fills (an offset into the stage's options
 * struct). From the tables come the defaults (ps_opt_defaults), the parser
 * and range check of a value (ps_opt_set), the validation of a filled struct
 * (ps_opt_validate: the same range check, for library callers), and the
 * help text (ps_opt_help). A stage's computing code never spells a flag: it
 * reports a bad value by field ("kmeans.k") with ps_error_opt, and the field
 * namer installed by the command line renders the flag from the table.
 * Not collective.
 */
#ifndef POPSEG_OPT_H
#define POPSEG_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/strbuf.h"

typedef enum {
  PS_OPT_FLAG,   /* no value: int field set to 1 */
  PS_OPT_INT,    /* int */
  PS_OPT_I64,    /* int64_t */
  PS_OPT_U64,    /* uint64_t */
  PS_OPT_DOUBLE, /* double (finite) */
  PS_OPT_STRING, /* const char * (points into argv) */
  PS_OPT_CHOICE, /* int (an enum value) named by one of choices */
  PS_OPT_LIST,   /* repeatable string: const char *[max_count + 1], NULL-terminated */
  PS_OPT_RANGE   /* "A..B" integers: int64_t[2] */
} ps_opt_kind_t;

/* Row flags. */
#define PS_OPT_AUTO 0x1u     /* also accepts "auto", stored as auto_value */
#define PS_OPT_MIN_OPEN 0x2u /* min itself is not allowed */
#define PS_OPT_MAX_OPEN 0x4u /* max itself is not allowed */
#define PS_OPT_HIDDEN 0x8u   /* accepted but left out of --help (none today) */

/* A name of a CHOICE value; the first row for a value is the one shown. */
typedef struct {
  const char *name;
  int value;
} ps_opt_choice_t;

typedef struct {
  const char *flag;  /* "--kmeans-n-init" (NULL ends a table) */
  const char *alias; /* a short spelling ("-o") or NULL */
  const char *field; /* "n_init": the stage's name for it, used in its messages */
  ps_opt_kind_t kind;
  size_t offset;                  /* offsetof(stage options struct, field) */
  double min, max;                /* numeric kinds: the allowed range (see the flags) */
  unsigned flags;                 /* PS_OPT_* */
  const char *def;                /* default as text ("" or NULL: none), set by ps_opt_defaults */
  const char *metavar;            /* "R", "FILE.h5" */
  const char *help;               /* one line */
  const ps_opt_choice_t *choices; /* CHOICE: terminated by a NULL name */
  double auto_value;              /* what "auto" stores (PS_OPT_AUTO) */
  int max_count;                  /* LIST: capacity of the array */
  unsigned commands;              /* commands it applies to (0: its group's) */
} ps_opt_t;

/* A stage's table inside a bigger options struct (the command line's). */
typedef struct {
  const char *stage; /* "kmeans": prefix of its fields in error keys */
  const char *title; /* "k-means": heading in --help and messages */
  const ps_opt_t *opts;
  size_t base;       /* offset of the stage's struct in the caller's struct */
  unsigned commands; /* bitmask of the commands that take these options */
} ps_opt_group_t;

/* Set every field of a table that has a default (the struct is not cleared). */
void ps_opt_defaults(const ps_opt_t *table, void *st);

/* Parse text for one row into st (a repeat appends to a LIST). On a bad value
 * returns 0 and writes "must be an integer in [1, 100000]" (or the like) into
 * why. text may be NULL for PS_OPT_FLAG. */
int ps_opt_set(const ps_opt_t *row, const char *text, void *st, char *why, size_t cap);

/* Collective-free check of a filled struct against its table: the first
 * numeric field out of range (or a CHOICE value not in the table) is recorded
 * with ps_error_opt as "<what>: <field> = <value> must be ..." and returns
 * PS_ERR_ARG. stage prefixes the field key ("kmeans" -> "kmeans.n_init"). */
ps_err_t ps_opt_validate(const ps_opt_t *table, const char *stage, const char *what,
                         const void *st);

/* "an integer in [1, 100000]", "a number in (0, 1]", "one of a, b or c". */
void ps_opt_describe(const ps_opt_t *row, char *buf, size_t cap);

/* The name shown for a CHOICE value ("?" if none). */
const char *ps_opt_choice_name(const ps_opt_t *row, int value);

/* The row of a table whose field is name (NULL if none). */
const ps_opt_t *ps_opt_find_field(const ps_opt_t *table, const char *name);

/* Help lines for the rows of a group that apply to command bit cmd. */
void ps_opt_help(const ps_opt_group_t *g, unsigned cmd, ps_sb_t *out);

/* One help entry: left column (flag) and text wrapped at 100 columns. */
void ps_opt_wrap(ps_sb_t *out, const char *left, const char *text);

/* Whether a row applies to command bit cmd within its group. */
int ps_opt_applies(const ps_opt_group_t *g, const ps_opt_t *row, unsigned cmd);

/* An on/off switch from the environment (the kernel and I/O switches that
 * README lists): unset or empty gives dflt, "0" gives 0, anything else 1.
 * Callers read it once and keep it, so a run sees one value throughout. */
int ps_env_flag(const char *name, int dflt);

#endif
