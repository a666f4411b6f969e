/* sha256.h - SHA-256 of files and buffers (which input a result came from). */
#ifndef POPSEG_SHA256_H
#define POPSEG_SHA256_H

#include <stddef.h>

#include "popseg/error.h"

/* Hex SHA-256 of a file (65 bytes with NUL). Not collective. */
ps_err_t ps_sha256_file(const char *path, char hex[65]);
/* A file hashed in a background thread, so that hashing a large input on
 * one rank overlaps the read and the stages after it instead of adding to
 * them (the thread blocks signals and makes no MPI or error-module calls). */
typedef struct ps_sha256_job ps_sha256_job_t;
/* Not collective. Start hashing path in a thread at the lowest priority;
 * cpus [n_cpus] (NULL or 0: the caller's) are the CPUs it may run on (Linux;
 * best effort: numbers beyond CPU_SETSIZE are left out). ps_sha256_job_finish hashes in the
 * caller's thread if the thread could not start. */
ps_err_t ps_sha256_job_start(const char *path, const int *cpus, int n_cpus, ps_sha256_job_t **job);
/* Not collective. Wait for the hash (hex, 65 bytes); frees *job. A read
 * error is reported here, naming the file. */
ps_err_t ps_sha256_job_finish(ps_sha256_job_t **job, char hex[65]);
/* Not collective. Stop the thread at its next block and free *job (NULL: no-op). */
void ps_sha256_job_cancel(ps_sha256_job_t **job);

/* Hex SHA-256 of a memory buffer. Not collective. */
void ps_sha256_hex(const void *data, size_t len, char hex[65]);

/* Whether the SHA extensions are used on this processor. */
int ps_sha256_accelerated(void);
/* Tests only: force the portable code (1) or allow the extensions (0). */
void ps_sha256_set_portable(int on);

#endif
