/* fuzz_number.c - libFuzzer target: the numeric field parser,
 * ps_csv_parse_number.
 *
 * The input (NUL-terminated copy; bytes after an embedded NUL are what a C
 * string never shows) is checked against an independent reading of csv.h's
 * contract: the parser accepts exactly the strings that are, after optional
 * blanks (space, tab), an optional sign, decimal digits with an optional
 * point (at least one digit), an optional exponent with digits, and optional
 * blanks, and whose value is finite; the value is strtod's. Anything else
 * (inf, nan, hex floats, "1,234", an overflow) is refused and leaves *v
 * alone. A disagreement aborts: that is a finding, not a crash of the
 * parser.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "popseg/csv.h"

static int blank(char c) {
  return c == ' ' || c == '\t';
}
static int digit(char c) {
  return c >= '0' && c <= '9';
}

/* The grammar above, without the finiteness; *start: the number's first byte. */
static int decimal_syntax(const char *s, const char **start) {
  const char *p = s;
  int digits = 0;
  while (blank(*p)) p++;
  *start = p;
  if (*p == '+' || *p == '-') p++;
  while (digit(*p)) p++, digits++;
  if (*p == '.') {
    p++;
    while (digit(*p)) p++, digits++;
  }
  if (!digits) return 0;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!digit(*p)) return 0;
    while (digit(*p)) p++;
  }
  while (blank(*p)) p++;
  return *p == '\0';
}

static void disagree(const char *s, const char *what) {
  fuzz_fail("fuzz_number", what, s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_report_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  const double sentinel = -12345.678;
  double v = sentinel, ref = 0.0;
  int got = ps_csv_parse_number(s, &v);
  const char *start = s;
  int want = decimal_syntax(s, &start);
  if (want) {
    ref = strtod(start, NULL);
    want = isfinite(ref) != 0;
  }
  if (got && !want) disagree(s, "accepted a string that is not a finite decimal number");
  if (!got && want) disagree(s, "refused a finite decimal number");
  if (got && !isfinite(v)) disagree(s, "returned a value that is not finite");
  if (got && memcmp(&v, &ref, sizeof v) != 0) disagree(s, "returned a value other than strtod's");
  if (!got && memcmp(&v, &sentinel, sizeof v) != 0) disagree(s, "refused but changed *v");
  free(s);
  return 0;
}
