/* sha256.h - SHA-256 of files and buffers (which input a result came from). */
#ifndef POPSEG_SHA256_H
#define POPSEG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"

/* Hex SHA-256 of a file (65 bytes with NUL). Not collective. */
ps_err_t ps_sha256_file(const char *path, char hex[65]);

/* The input digest that results record: the SHA-256 of the lines, in file
 * order, each the lowercase hex SHA-256 of one 4 MiB block of the file and
 * a newline (the last block may be short; an empty file has no lines). Its
 * blocks are independent, so every rank hashes its share (table.h,
 * ps_table_digest) instead of one thread hashing the whole file; coreutils
 * give the same hex:
 *   split -b 4M --filter='sha256sum | cut -c1-64' FILE | sha256sum */
#define PS_DIGEST_BLOCK ((int64_t)4 << 20)
#define PS_DIGEST_LINE 65 /* a block's line: 64 hex digits and "\n" */
/* Not collective. A file's SHA-256 and its digest in one pass (hex, 65
 * bytes each; either may be NULL). */
ps_err_t ps_sha256_file_digest(const char *path, char sha[65], char digest[65]);
/* Not collective. A buffer's SHA-256 and its digest, as the two above would
 * give for a file of those bytes (either may be NULL). */
void ps_sha256_buffer_digest(const void *data, size_t len, char sha[65], char digest[65]);
/* Not collective. The lines of blocks [b0, b1) of a file of size bytes, into
 * lines[(b1 - b0) * PS_DIGEST_LINE] (no NUL). A file shorter than size is an
 * error naming it. */
ps_err_t ps_sha256_blocks(const char *path, int64_t size, int64_t b0, int64_t b1, char *lines);

/* Hex SHA-256 of a memory buffer. Not collective. */
void ps_sha256_hex(const void *data, size_t len, char hex[65]);

/* Whether the SHA extensions are used on this processor. */
int ps_sha256_accelerated(void);
/* Tests only: force the portable code (1) or allow the extensions (0). */
void ps_sha256_set_portable(int on);

#endif
