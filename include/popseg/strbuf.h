/* strbuf.h - a growable byte string (reports, CSV rows, JSON).
 *
 * Appending never fails loudly: the first allocation failure sets oom and
 * every later append is a no-op, so a formatter checks once at the end.
 * The text stays NUL-terminated. Not collective.
 */
#ifndef POPSEG_STRBUF_H
#define POPSEG_STRBUF_H

#include <stddef.h>

typedef struct {
  char *s;    /* NUL-terminated text (NULL until the first append) */
  size_t len; /* bytes, without the NUL */
  size_t cap;
  int oom; /* an append failed: the text is incomplete */
} ps_sb_t;

/* Append n bytes / a C string / printf output. */
void ps_sb_put(ps_sb_t *b, const char *s, size_t n);
void ps_sb_puts(ps_sb_t *b, const char *s);
void ps_sb_printf(ps_sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text ("" when empty). */
const char *ps_sb_str(const ps_sb_t *b);
/* Free the buffer and reset *b to empty. */
void ps_sb_free(ps_sb_t *b);

/* "1 rank", "4 ranks": n and the noun, plural right; buf holds at least 48 bytes. */
const char *ps_plural_s(char *buf, long long n, const char *one, const char *many);

#endif
