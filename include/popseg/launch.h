/* launch.h - what popseg sets in its own environment before MPI_Init.
 *
 * Open MPI picks its point-to-point layer (pml) by opening every one it was
 * built with. Its cm layer opens the fabric libraries of its MTLs (psm, psm2,
 * libfabric), which probe for their hardware: 0.2 s of every start on a
 * machine without them (the AMD EPYC VM: MPI_Init 0.27 s against 0.08 s,
 * bench/README.md, "Start-up"), and no use within one node, where ob1's
 * shared-memory transport (or UCX's) carries the messages. So for a job on
 * one node popseg leaves cm out, unless the user chose a pml.
 */
#ifndef POPSEG_LAUNCH_H
#define POPSEG_LAUNCH_H

/* Before MPI_Init; not collective (each rank decides from its environment,
 * which the launcher gives alike to every rank of a node). The job is on one
 * node when mpirun says so (OMPI_COMM_WORLD_LOCAL_SIZE equal to
 * OMPI_COMM_WORLD_SIZE), when srun does (SLURM_STEP_NUM_NODES is 1), or when
 * no launcher started it (a singleton: none of those nor PMIX_RANK). Then,
 * if OMPI_MCA_pml is not set (mpirun's --mca pml sets it for the ranks),
 * OMPI_MCA_pml=^cm (another MPI library ignores the variable). */
void ps_launch_defaults(void);

/* The value the last ps_launch_defaults set, or NULL if it set none (for the
 * --verbose line). */
const char *ps_launch_pml_set(void);

#endif
