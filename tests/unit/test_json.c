/* test_json.c - the HTML report's JSON escaper and numbers: every case has the
 * exact text it must produce (checked by hand against RFC 8259 and the HTML
 * rules for <script> content), then a JSON parser's reading of the same
 * strings is checked by tests/t_html.sh end to end. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "popseg/json.h"

static int str_is(const char *in, size_t n, const char *want) {
  ps_sb_t b = {0};
  ps_json_strn(&b, in, n);
  int ok = !b.oom && strcmp(ps_sb_str(&b), want) == 0;
  if (!ok) printf("# got %s, want %s\n", ps_sb_str(&b), want);
  ps_sb_free(&b);
  return ok;
}

static int num_is(double v, int digits, const char *want) {
  ps_sb_t b = {0};
  ps_json_numd(&b, v, digits);
  int ok = strcmp(ps_sb_str(&b), want) == 0;
  if (!ok) printf("# got %s, want %s\n", ps_sb_str(&b), want);
  ps_sb_free(&b);
  return ok;
}

#define S(lit, want) str_is(lit, sizeof lit - 1, want)

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  T_INIT();
  T_CHECK(S("Alabama-Autauga", "\"Alabama-Autauga\""), "plain ASCII as is");
  T_CHECK(S("", "\"\""), "empty string");
  T_CHECK(S("O\"Brien \\ Co", "\"O\\\"Brien \\\\ Co\""), "quote and backslash escaped");
  T_CHECK(S("a\nb\rc\td", "\"a\\nb\\rc\\td\""), "newline, return, tab");
  T_CHECK(S("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""), "other control characters as \\u");
  T_CHECK(S("a\0b", "\"a\\u0000b\""), "an embedded NUL");
  T_CHECK(S("</script><!--x-->", "\"\\u003c/script\\u003e\\u003c!--x--\\u003e\""),
          "< and > escaped: no </script> nor <!-- inside a <script> element");
  T_CHECK(S("A&B", "\"A\\u0026B\""), "& escaped");
  T_CHECK(S("Do\xc3\xb1"
            "a Ana-Bayam\xc3\xb3n",
            "\"Do\xc3\xb1"
            "a Ana-Bayam\xc3\xb3n\""),
          "UTF-8 letters (Puerto Rico's municipios) kept as they are");
  T_CHECK(S("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\""), "U+2028 and U+2029 escaped");
  T_CHECK(S("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""), "4-byte UTF-8 kept");
  T_CHECK(S("Do\xf1"
            "a",
            "\"Do\\ufffda\""),
          "Latin-1 byte (invalid UTF-8) -> U+FFFD");
  T_CHECK(S("\xc0\xaf", "\"\\ufffd\\ufffd\""), "overlong encoding rejected");
  T_CHECK(S("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""), "UTF-16 surrogate rejected");
  T_CHECK(S("ab\xe2\x82", "\"ab\\ufffd\\ufffd\""), "truncated sequence at the end");
  ps_sb_t b = {0};
  ps_json_str(&b, NULL);
  T_CHECK(strcmp(ps_sb_str(&b), "null") == 0, "NULL string -> null");
  ps_sb_free(&b);
  T_CHECK(num_is(NAN, 17, "null") && num_is(INFINITY, 17, "null") && num_is(-INFINITY, 6, "null"),
          "NaN and infinities -> null");
  T_CHECK(num_is(-0.0, 17, "0") && num_is(42, 17, "42") && num_is(-3, 6, "-3"),
          "integers without a decimal point, no -0");
  T_CHECK(num_is(0.1, 17, "0.10000000000000001") && num_is(0.1, 4, "0.1"),
          "17 digits round-trip; fewer when asked");
  T_CHECK(num_is(1e300, 6, "1e+300") && num_is(-2.5e-7, 3, "-2.5e-07"), "exponents");
  int64_t ii[3] = {1, -2, 1099511627776LL};
  ps_json_i64s(&b, ii, 3);
  double dd[3] = {1.5, NAN, 2};
  ps_json_f64s(&b, dd, 3, 6);
  ps_json_strs(&b, "ab\0\0c\"\0\0", 2, 4);
  T_CHECK(strcmp(ps_sb_str(&b), "[1,-2,1099511627776][1.5,null,2][\"ab\",\"c\\\"\"]") == 0,
          "arrays of integers, numbers and fixed-width strings");
  ps_sb_free(&b);
  MPI_Finalize();
  return T_FINISH();
}
