/* strbuf.c - the growable string of strbuf.h. */
#include "popseg/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for more bytes plus the NUL; 0 (and oom set) when out of memory. */
static int reserve(ps_sb_t *b, size_t more) {
  if (b->oom) return 0;
  if (b->s && b->len + more + 1 <= b->cap) return 1;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1) {
    if (cap > SIZE_MAX / 2) {
      b->oom = 1;
      return 0;
    }
    cap *= 2;
  }
  char *s = realloc(b->s, cap);
  if (!s) {
    b->oom = 1;
    return 0;
  }
  b->s = s;
  b->cap = cap;
  return 1;
}

void ps_sb_put(ps_sb_t *b, const char *s, size_t n) {
  if (!reserve(b, n)) return;
  if (n) memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void ps_sb_puts(ps_sb_t *b, const char *s) {
  ps_sb_put(b, s, strlen(s));
}

void ps_sb_printf(ps_sb_t *b, const char *fmt, ...) {
  va_list ap;
  char small[256];
  va_start(ap, fmt);
  int need = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (need < 0) return;
  if ((size_t)need < sizeof small) {
    ps_sb_put(b, small, (size_t)need);
    return;
  }
  if (!reserve(b, (size_t)need)) return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)need;
}

const char *ps_sb_str(const ps_sb_t *b) {
  return b->s ? b->s : "";
}

void ps_sb_free(ps_sb_t *b) {
  free(b->s);
  memset(b, 0, sizeof *b);
}

const char *ps_plural_s(char *buf, long long n, const char *one, const char *many) {
  snprintf(buf, 48, "%lld %s", n, n == 1 ? one : many);
  return buf;
}
