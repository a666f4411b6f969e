/* sha256.h - SHA-256 of files and buffers (which input a result came from). */
#ifndef POPSEG_SHA256_H
#define POPSEG_SHA256_H

#include <stddef.h>

#include "popseg/error.h"

/* Hex SHA-256 of a file (65 bytes with NUL). Not collective. */
ps_err_t ps_sha256_file(const char *path, char hex[65]);
/* Hex SHA-256 of a memory buffer. Not collective. */
void ps_sha256_hex(const void *data, size_t len, char hex[65]);

/* Whether the SHA extensions are used on this processor. */
int ps_sha256_accelerated(void);
/* Tests only: force the portable code (1) or allow the extensions (0). */
void ps_sha256_set_portable(int on);

#endif
