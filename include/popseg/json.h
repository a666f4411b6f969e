/* json.h - JSON text for the HTML report: the one escaper every string goes
 * through, and numbers that stay valid JSON (NaN and infinities become null).
 *
 * Strings are UTF-8. The escaper writes quotes, backslashes and control
 * characters as escapes, and also '<', '>', '&', U+2028 and U+2029, so that
 * the text can sit inside an HTML <script> element (no "</script>" nor
 * "<!--" can appear) and be read by any JSON parser and by JavaScript alike.
 * Bytes that are not valid UTF-8 (a Latin-1 county name) become U+FFFD.
 * Not collective; appends to a ps_sb_t (see strbuf.h for out-of-memory).
 */
#ifndef POPSEG_JSON_H
#define POPSEG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "popseg/strbuf.h"

/* "s" with the escapes above; s[n] (n bytes, may hold NUL, escaped \u0000). */
void ps_json_strn(ps_sb_t *b, const char *s, size_t n);
/* "s" for a NUL-terminated s; null for s == NULL. */
void ps_json_str(ps_sb_t *b, const char *s);
/* A number with 17 significant digits (round-trips a double); null if not finite. */
void ps_json_num(ps_sb_t *b, double v);
/* A number with `digits` significant digits (smaller files for chart data). */
void ps_json_numd(ps_sb_t *b, double v, int digits);
/* Arrays: [a0,a1,...] of n values. */
void ps_json_f64s(ps_sb_t *b, const double *a, int64_t n, int digits);
void ps_json_i64s(ps_sb_t *b, const int64_t *a, int64_t n);
void ps_json_i32s(ps_sb_t *b, const int32_t *a, int64_t n);
/* [[row 0],[row 1],...]: rows x cols of a row-major matrix. */
void ps_json_f64m(ps_sb_t *b, const double *a, int64_t rows, int64_t cols, int digits);
/* [s0,s1,...] of n strings of a fixed-width NUL-padded block [n][width]. */
void ps_json_strs(ps_sb_t *b, const char *block, int64_t n, size_t width);

#endif
