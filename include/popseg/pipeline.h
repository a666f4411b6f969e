/* pipeline.h - the commands: import, info, run, predict, sweep, synth.
 *
 * Each command is collective over comm, agrees on errors after every stage
 * and returns the same code on every rank.
 */
#ifndef POPSEG_PIPELINE_H
#define POPSEG_PIPELINE_H

#include <mpi.h>

#include "popseg/cli.h"
#include "popseg/error.h"

ps_err_t ps_pipeline_import(const ps_options_t *o, MPI_Comm comm);
ps_err_t ps_pipeline_info(const ps_options_t *o, MPI_Comm comm);
ps_err_t ps_pipeline_run(const ps_options_t *o, MPI_Comm comm);
ps_err_t ps_pipeline_predict(const ps_options_t *o, MPI_Comm comm);
ps_err_t ps_pipeline_synth(const ps_options_t *o, MPI_Comm comm);
ps_err_t ps_pipeline_sweep(const ps_options_t *o, MPI_Comm comm);
/* popseg report FILE.h5 -o report.html: the HTML report of a results or
 * predictions file. */
ps_err_t ps_pipeline_report(const ps_options_t *o, MPI_Comm comm);

#endif
