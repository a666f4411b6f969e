/* json.c - the JSON escaper and number writer (see json.h). */
#include "popseg/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

void ps_json_strn(ps_sb_t *b, const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  ps_sb_put(b, "\"", 1);
  size_t i = 0, run = 0; /* s[i - run, i) is plain text not yet appended */
  while (i < n) {
    uint32_t cp = 0;
    size_t len = utf8_len(s + i, n - i, &cp);
    const char *esc = NULL;
    char buf[16];
    if (len == 0) {
      esc = "\\ufffd";
      len = 1;
    } else if (cp == '"') {
      esc = "\\\"";
    } else if (cp == '\\') {
      esc = "\\\\";
    } else if (cp == '\n') {
      esc = "\\n";
    } else if (cp == '\r') {
      esc = "\\r";
    } else if (cp == '\t') {
      esc = "\\t";
    } else if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029 ||
               cp == 0x7F) {
      snprintf(buf, sizeof buf, "\\u%04x", (unsigned)cp);
      esc = buf;
    }
    if (esc) {
      ps_sb_put(b, str + i - run, run);
      run = 0;
      ps_sb_puts(b, esc);
      i += len;
    } else {
      i += len;
      run += len;
    }
  }
  ps_sb_put(b, str + n - run, run);
  ps_sb_put(b, "\"", 1);
}

void ps_json_str(ps_sb_t *b, const char *s) {
  if (!s)
    ps_sb_puts(b, "null");
  else
    ps_json_strn(b, s, strlen(s));
}

void ps_json_numd(ps_sb_t *b, double v, int digits) {
  if (!isfinite(v)) {
    ps_sb_puts(b, "null");
    return;
  }
  if (v == 0) v = 0; /* no "-0" */
  if (v == floor(v) && fabs(v) < 9007199254740992.0) {
    ps_sb_printf(b, "%.0f", v);
    return;
  }
  ps_sb_printf(b, "%.*g", digits, v);
}

void ps_json_num(ps_sb_t *b, double v) {
  ps_json_numd(b, v, 17);
}

void ps_json_f64s(ps_sb_t *b, const double *a, int64_t n, int digits) {
  ps_sb_put(b, "[", 1);
  for (int64_t i = 0; i < n; i++) {
    if (i) ps_sb_put(b, ",", 1);
    ps_json_numd(b, a[i], digits);
  }
  ps_sb_put(b, "]", 1);
}

void ps_json_i64s(ps_sb_t *b, const int64_t *a, int64_t n) {
  ps_sb_put(b, "[", 1);
  for (int64_t i = 0; i < n; i++) ps_sb_printf(b, "%s%lld", i ? "," : "", (long long)a[i]);
  ps_sb_put(b, "]", 1);
}

void ps_json_i32s(ps_sb_t *b, const int32_t *a, int64_t n) {
  ps_sb_put(b, "[", 1);
  for (int64_t i = 0; i < n; i++) ps_sb_printf(b, "%s%d", i ? "," : "", (int)a[i]);
  ps_sb_put(b, "]", 1);
}

void ps_json_f64m(ps_sb_t *b, const double *a, int64_t rows, int64_t cols, int digits) {
  ps_sb_put(b, "[", 1);
  for (int64_t r = 0; r < rows; r++) {
    if (r) ps_sb_put(b, ",", 1);
    ps_json_f64s(b, a + r * cols, cols, digits);
  }
  ps_sb_put(b, "]", 1);
}

void ps_json_strs(ps_sb_t *b, const char *block, int64_t n, size_t width) {
  ps_sb_put(b, "[", 1);
  for (int64_t i = 0; i < n; i++) {
    if (i) ps_sb_put(b, ",", 1);
    const char *s = block + (size_t)i * width;
    ps_json_strn(b, s, strnlen(s, width));
  }
  ps_sb_put(b, "]", 1);
}
