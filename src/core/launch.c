/* launch.c - Open MPI parameters set before MPI_Init (launch.h). */
#include "popseg/launch.h"

#include <stdlib.h>
#include <string.h>

static const char *pml_set;

/* 1 if the job runs on one node, 0 if not or if the launcher is unknown. */
static int one_node(void) {
  const char *world = getenv("OMPI_COMM_WORLD_SIZE");
  if (world) {
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    return local && *world && strcmp(world, local) == 0;
  }
  const char *nodes = getenv("SLURM_STEP_NUM_NODES");
  if (nodes) return strcmp(nodes, "1") == 0;
  /* Another PMIx launcher (prterun, a scheduler's own): it may span nodes. */
  return getenv("PMIX_RANK") == NULL;
}

void ps_launch_defaults(void) {
  pml_set = NULL;
  if (!getenv("OMPI_MCA_pml") && one_node() && setenv("OMPI_MCA_pml", "^cm", 0) == 0)
    pml_set = "^cm";
}

const char *ps_launch_pml_set(void) {
  return pml_set;
}
