/* test_launch.c - launch.h: OMPI_MCA_pml=^cm set before MPI_Init for a job
 * on one node (mpirun's, srun's or a singleton), never over a pml the user
 * chose and never for a job across nodes or under an unknown launcher; and
 * Open MPI takes it (its "pml" control variable through MPI_T). Run under
 * mpirun on one node, with or without OMPI_MCA_pml set. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "popseg/launch.h"

/* The variables ps_launch_defaults reads or sets. */
static const char *const vars[] = {"OMPI_MCA_pml", "OMPI_COMM_WORLD_SIZE",
                                   "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_STEP_NUM_NODES",
                                   "PMIX_RANK"};
#define NVARS (int)(sizeof vars / sizeof vars[0])

/* Set the environment to one case: values[i] for vars[i], NULL unset. */
static void env_case(const char *const values[NVARS]) {
  for (int i = 0; i < NVARS; i++) {
    if (values[i])
      setenv(vars[i], values[i], 1);
    else
      unsetenv(vars[i]);
  }
}

/* Open MPI's string control variable `name` into out; 0 if it has none. */
static int cvar_string(const char *name, char *out, int cap) {
  int n = 0, found = 0, provided;
  if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return 0;
  MPI_T_cvar_get_num(&n);
  for (int i = 0; i < n && !found; i++) {
    char nm[256], desc[1024];
    int nlen = sizeof nm, dlen = sizeof desc, verb, bind, scope;
    MPI_Datatype dt;
    MPI_T_enum en;
    if (MPI_T_cvar_get_info(i, nm, &nlen, &verb, &dt, &en, desc, &dlen, &bind, &scope) !=
            MPI_SUCCESS ||
        strcmp(nm, name) != 0 || dt != MPI_CHAR)
      continue;
    MPI_T_cvar_handle h;
    int count;
    if (MPI_T_cvar_handle_alloc(i, NULL, &h, &count) != MPI_SUCCESS) continue;
    char *buf = calloc((size_t)(count > cap ? count : cap) + 1, 1);
    if (buf && MPI_T_cvar_read(h, buf) == MPI_SUCCESS) {
      snprintf(out, (size_t)cap, "%s", buf);
      found = 1;
    }
    free(buf);
    MPI_T_cvar_handle_free(&h);
  }
  MPI_T_finalize();
  return found;
}

int main(int argc, char **argv) {
  const char *given = getenv("OMPI_MCA_pml");
  char *user = given ? strdup(given) : NULL;
  ps_launch_defaults();
  const char *set = ps_launch_pml_set();
  MPI_Init(&argc, &argv);
  T_INIT();

  /* This job: mpirun on one node. */
  const char *now = getenv("OMPI_MCA_pml");
  if (user) {
    T_CHECK(!set && now && strcmp(now, user) == 0,
            "this job (one node), OMPI_MCA_pml=%s given: kept as it is", user);
  } else {
    T_CHECK(set && strcmp(set, "^cm") == 0 && now && strcmp(now, "^cm") == 0,
            "this job (one node), no pml given: OMPI_MCA_pml=^cm");
  }
  char pml[256] = "";
  const int has = cvar_string("pml", pml, sizeof pml);
  T_CHECK(has && now && strcmp(pml, now) == 0,
          "Open MPI's pml control variable is the environment's (%s)", has ? pml : "not found");

  /* Every case, on this rank's environment (MPI is up: it reads no more). */
  static const struct {
    const char *name;
    const char *env[NVARS]; /* vars[] order */
    int sets;
  } cases[] = {
      {"mpirun, 4 ranks on one node", {NULL, "4", "4", NULL, "0"}, 1},
      {"mpirun, 4 ranks on two nodes", {NULL, "4", "2", NULL, "0"}, 0},
      {"mpirun without a local size", {NULL, "4", NULL, NULL, "0"}, 0},
      {"mpirun on one node inside a 2-node Slurm step", {NULL, "2", "2", "2", "0"}, 1},
      {"mpirun across nodes inside a 1-node Slurm step", {NULL, "4", "2", "1", "0"}, 0},
      {"srun, one node", {NULL, NULL, NULL, "1", "0"}, 1},
      {"srun, two nodes", {NULL, NULL, NULL, "2", "0"}, 0},
      {"another PMIx launcher", {NULL, NULL, NULL, NULL, "3"}, 0},
      {"a singleton (no launcher)", {NULL, NULL, NULL, NULL, NULL}, 1},
      {"one node, pml ob1 given", {"ob1", "2", "2", NULL, "0"}, 0},
      {"a singleton, pml ucx given", {"ucx", NULL, NULL, NULL, NULL}, 0},
      {"one node, an empty pml given", {"", "2", "2", NULL, "0"}, 0},
  };
  char *saved[NVARS];
  for (int i = 0; i < NVARS; i++) saved[i] = getenv(vars[i]) ? strdup(getenv(vars[i])) : NULL;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    env_case(cases[c].env);
    ps_launch_defaults();
    const char *v = getenv("OMPI_MCA_pml");
    const char *want = cases[c].sets ? "^cm" : cases[c].env[0];
    const int env_ok = want ? v && strcmp(v, want) == 0 : v == NULL;
    const char *note = ps_launch_pml_set();
    const int note_ok = cases[c].sets ? note && strcmp(note, "^cm") == 0 : note == NULL;
    T_CHECK(env_ok && note_ok, "%s: %s", cases[c].name,
            cases[c].sets ? "OMPI_MCA_pml=^cm" : "left as it was");
  }
  env_case((const char *const *)saved);
  for (int i = 0; i < NVARS; i++) free(saved[i]);
  free(user);
  const int rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
