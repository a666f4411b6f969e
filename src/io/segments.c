/* segments.c - the segments CSV (one row per input row: id, name, segment,
 * distance, component scores), written collectively with MPI-IO: each rank
 * formats its own rows, byte offsets come from an exclusive scan. */
#include "popseg/segments.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/outfile.h"
#include "popseg/strbuf.h"

#define PS_WRITE_CHUNK_DEFAULT ((size_t)1 << 30)
static size_t g_write_chunk = PS_WRITE_CHUNK_DEFAULT;

void ps_segments_set_write_chunk(size_t bytes) {
  g_write_chunk = bytes ? bytes : PS_WRITE_CHUNK_DEFAULT;
}

/* A field, quoted (quotes doubled) when it holds a comma, quote, CR or LF. */
static int sb_field(ps_sb_t *b, const char *s, size_t n) {
  size_t plain = 0;
  while (plain < n && s[plain] != ',' && s[plain] != '"' && s[plain] != '\r' && s[plain] != '\n')
    plain++;
  if (plain == n) {
    ps_sb_put(b, s, n);
    return !b->oom;
  }
  ps_sb_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') ps_sb_put(b, "\"", 1);
    ps_sb_put(b, s + i, 1);
  }
  ps_sb_put(b, "\"", 1);
  return !b->oom;
}

/* ",value" with the fewest significant digits (15 to 17) that read back as
 * exactly v: "%.17g" always round-trips, but prints 0.1 as 0.10000000000000001. */
static int sb_printf_double(ps_sb_t *b, double v) {
  char tmp[40];
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof tmp, ",%.*g", prec, v);
    if (prec == 17 || !isfinite(v) || strtod(tmp + 1, NULL) == v) break;
  }
  if (n <= 0 || (size_t)n >= sizeof tmp) return 0;
  ps_sb_put(b, tmp, (size_t)n);
  return !b->oom;
}

/* Formats this rank's rows (and the header on rank 0) into b. Local only:
 * no collective calls, so an early return cannot desynchronise the ranks. */
static ps_err_t format_segments(ps_sb_t *b, const char *path, const ps_table_t *t,
                                const int32_t *labels, const double *distance, const double *scores,
                                int64_t k, const char *codes, size_t code_w, const int32_t *sub,
                                int header) {
  ps_err_t err = PS_OK;
  const int64_t n_local = t->x->n_local;
  PS_CHECK(k >= 0, PS_ERR_INTERNAL, "negative number of components");
  PS_CHECK(n_local == 0 || (labels && distance && (k == 0 || scores)), PS_ERR_INTERNAL,
           "segments writer called without results");
  if (header) {
    ps_sb_puts(b, codes ? "id,name,segment,subsegment,distance" : "id,name,segment,distance");
    for (int64_t c = 0; c < k; c++) ps_sb_printf(b, ",pc%lld", (long long)c + 1);
    ps_sb_puts(b, "\n");
    PS_CHECK(!b->oom, PS_ERR_MEM, "%s: out of memory", path);
  }
  for (int64_t i = 0; i < n_local; i++) {
    char tmp[64];
    const char *name = ps_table_name(t, i);
    int ok, n = snprintf(tmp, sizeof tmp, "%lld,", (long long)t->ids[i]);
    ps_sb_put(b, tmp, (size_t)n);
    ok = sb_field(b, name, strnlen(name, t->name_width));
    n = snprintf(tmp, sizeof tmp, ",%ld", (long)labels[i]);
    ps_sb_put(b, tmp, (size_t)n);
    if (codes) {
      const char *code = codes + (size_t)sub[i] * code_w;
      ps_sb_put(b, ",", 1);
      ps_sb_put(b, code, strnlen(code, code_w));
    }
    ok = ok && sb_printf_double(b, distance[i]);
    for (int64_t c = 0; ok && c < k; c++) ok = sb_printf_double(b, scores[i * k + c]);
    ps_sb_put(b, "\n", 1);
    ok = ok && !b->oom;
    PS_CHECK(ok, PS_ERR_MEM, "%s: out of memory formatting %lld rows", path, (long long)n_local);
  }
cleanup:
  return err;
}

ps_err_t ps_segments_write(const char *path, int force, const ps_table_t *t, const int32_t *labels,
                           const double *distance, const double *scores, int64_t k, MPI_Comm comm) {
  return ps_segments_write_sub(path, force, t, labels, distance, scores, k, NULL, 0, NULL, comm);
}

ps_err_t ps_segments_write_sub(const char *path, int force, const ps_table_t *t,
                               const int32_t *labels, const double *distance, const double *scores,
                               int64_t k, const char *codes, size_t code_w, const int32_t *sub,
                               MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_outfile_t of;
  ps_sb_t b = {0};
  MPI_File fh = MPI_FILE_NULL;
  int rank, size, opened = 0;
  const int64_t n_local = t->x->n_local;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);

  err = ps_outfile_begin(&of, path, force, comm);
  if (err != PS_OK) return err;

  /* Formatting is local; its failure is agreed on below like any other, so a
   * rank that fails here makes the same collective calls as the others. */
  err = format_segments(&b, path, t, labels, distance, scores, k, codes, code_w, sub, rank == 0);
  err = ps_err_agree(comm, err);
  if (err != PS_OK) goto cleanup;

  {
    /* Byte offsets from an exclusive scan; the row count rides along to check
     * that the ranks hold consecutive row blocks in rank order. */
    int64_t mine[2] = {(int64_t)b.len, n_local}, before[2] = {0, 0}, total = 0, max_calls = 0;
    /* No jump out between collectives: failures are recorded and agreed on. */
    int rc = MPI_Exscan(mine, before, 2, MPI_INT64_T, MPI_SUM, comm);
    if (rank == 0) before[0] = before[1] = 0;
    if (rc != MPI_SUCCESS)
      err = ps_error(PS_ERR_MPI, __FILE__, __LINE__, "%s: MPI_Exscan of byte counts failed", path);
    else if (before[1] != t->x->row_offset)
      err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__,
                     "%s: rows are not in rank order (rank %d starts at row %lld, expected %lld)",
                     path, rank, (long long)t->x->row_offset, (long long)before[1]);
    int64_t calls = (int64_t)((b.len + g_write_chunk - 1) / g_write_chunk);
    int64_t pair[2] = {calls, before[0] + (int64_t)b.len}, maxes[2] = {0, 0};
    rc = MPI_Allreduce(pair, maxes, 2, MPI_INT64_T, MPI_MAX, comm);
    if (rc != MPI_SUCCESS && err == PS_OK)
      err =
          ps_error(PS_ERR_MPI, __FILE__, __LINE__, "%s: MPI_Allreduce of write sizes failed", path);
    max_calls = maxes[0];
    total = maxes[1];
    err = ps_err_agree(comm, err);
    if (err != PS_OK) goto cleanup;

    rc = MPI_File_open(comm, of.tmp_path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
    if (rc == MPI_SUCCESS && ps_fault("mpiio-open")) {
      opened = 1; /* opened, but this rank reports a failure: a split outcome */
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create %s (injected)", path,
                     of.tmp_path);
    } else if (rc == MPI_SUCCESS) {
      opened = 1;
    } else {
      char msg[MPI_MAX_ERROR_STRING];
      int len = 0;
      MPI_Error_string(rc, msg, &len);
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create %s: %s", path, of.tmp_path,
                     msg);
    }
    /* Opened on some ranks only: MPI_File_close would wait for the others. */
    err = ps_err_agree_or_abort(comm, err, "MPI_File_open");
    if (err != PS_OK) goto cleanup;

    /* Every rank makes the same number of collective calls; ranks with fewer
     * bytes write zero bytes in the extra rounds. A failure is remembered,
     * not acted on, until all rounds are done. */
    if (MPI_File_set_size(fh, (MPI_Offset)total) != MPI_SUCCESS)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot set the size of %s", path,
                     of.tmp_path);
    size_t done = 0;
    for (int64_t call = 0; call < max_calls; call++) {
      size_t n = b.len - done < g_write_chunk ? b.len - done : g_write_chunk;
      MPI_Status st;
      int written = 0;
      rc = MPI_File_write_at_all(fh, (MPI_Offset)(before[0] + (int64_t)done),
                                 b.s ? b.s + done : (void *)&written, (int)n, MPI_BYTE, &st);
      if (rc == MPI_SUCCESS) MPI_Get_count(&st, MPI_BYTE, &written);
      if (err == PS_OK && (rc != MPI_SUCCESS || (size_t)written != n))
        err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: write failed at byte %lld", path,
                       (long long)(before[0] + (int64_t)done));
      done += n;
    }
  }

cleanup:
  if (opened && MPI_File_close(&fh) != MPI_SUCCESS && err == PS_OK)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: closing %s failed", path, of.tmp_path);
  /* Agreed before the temporary file is renamed or removed. */
  err = ps_err_agree(comm, err);
  ps_sb_free(&b);
  return ps_outfile_end(&of, err, comm);
}
