/* utf8.h - UTF-8 validity (RFC 3629: no overlong forms, no surrogates, at
 * most U+10FFFF), for names that land in datasets declared UTF-8. */
#ifndef POPSEG_UTF8_H
#define POPSEG_UTF8_H

#include <stddef.h>

/* Not collective. The offset of the first byte of s[0..n) that does not
 * start a valid UTF-8 sequence, or n if all of it is valid. */
size_t ps_utf8_invalid(const char *s, size_t n);

#endif
