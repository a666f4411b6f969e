/* utf8.h - UTF-8 validity (RFC 3629: no overlong forms, no surrogates, at
 * most U+10FFFF), for names that land in datasets declared UTF-8. */
#ifndef POPSEG_UTF8_H
#define POPSEG_UTF8_H

#include <stddef.h>

/* Not collective. The offset of the first byte of s[0..n) that does not
 * start a valid UTF-8 sequence, or n if all of it is valid. */
size_t ps_utf8_invalid(const char *s, size_t n);
/* Not collective. Whether s[0..n) is all ASCII (every byte below 0x80; ASCII
 * is valid UTF-8): a word at a time, which the compiler vectorizes, so a
 * large block of names is checked in one pass before any decoding. */
int ps_utf8_ascii(const char *s, size_t n);

#endif
