#!/bin/sh
# tests/slurm/run.sh - popseg's job scripts on a real (private, single-node) Slurm.
#
# Called by `make test-slurm` after scripts/deps.sh slurm installed slurm-wlm and
# munge; installs nothing itself. Starts munged, slurmctld and slurmd by hand
# (tests/slurm/cluster.sh, everything under a mktemp directory), then submits
# jobs/segment.sbatch at -n 2 and -n 4, jobs/sweep.sbatch as a small array with
# jobs/elbow.py as a dependent job, jobs/predict.sbatch as a dependent job, and
# a long segmentation that is scancel'ed while it runs. Results are compared
# with plain `mpirun -np 2` runs of the same inputs. Prints PASS:/FAIL: lines
# and "N passed, N failed"; exits non-zero on any failure. Slurm and munge are
# shut down by a trap whatever happens. Needs root.
#
# POPSEG_BIN (default bin) is the directory holding popseg; JOB_TIMEOUT (s)
# bounds each wait for a job (default 240). KEEP_TMP=1 keeps the job logs and
# results (the directory is named on stderr).
set -u
cd "$(dirname "$0")/../.." || exit 2
REPO=$(pwd)
POPSEG_BIN=${POPSEG_BIN:-bin}
case $POPSEG_BIN in /*) ;; *) POPSEG_BIN=$REPO/$POPSEG_BIN ;; esac
POPSEG=$POPSEG_BIN/popseg
PYTHON=${PYTHON:-/usr/bin/python3}
JOB_TIMEOUT=${JOB_TIMEOUT:-240}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# The job scripts read these; none may leak in from the caller's environment.
unset INPUT K SEED EXTRA RESULTS_DIR MODEL NEW RENAME POPSEG_REPO

n_pass=0
n_fail=0
pass() { echo "PASS: $*"; n_pass=$((n_pass + 1)); }
fail() { echo "FAIL: $*"; n_fail=$((n_fail + 1)); }
finish() {
  echo "$n_pass passed, $n_fail failed"
  [ "$n_fail" -eq 0 ] && [ "$n_pass" -gt 0 ]
  exit $?
}

W=$(mktemp -d "${TMPDIR:-/tmp}/popseg-slurm.XXXXXX") || exit 2
# The cluster's own directory: munged (user munge) must reach it, $W is private.
SR=$(mktemp -d "${TMPDIR:-/tmp}/popseg-slurmd.XXXXXX") || exit 2
. "$REPO/tests/slurm/cluster.sh"
cleanup() {
  # A job still running (after a failed check) is cancelled before shutdown.
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
    timeout 10 scancel --quiet --user=root >/dev/null 2>&1
  fi
  slurm_down
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $W (KEEP_TMP set)" >&2; rm -rf "$SR"
  else rm -rf "$W" "$SR"; fi
}
trap cleanup EXIT
trap 'echo "FAIL: tests/slurm/run.sh interrupted"; exit 130' INT TERM HUP

if [ ! -x "$POPSEG" ]; then
  fail "popseg binary $POPSEG missing (make all)"
  finish
fi

# A checkout for the jobs to find through $SLURM_SUBMIT_DIR: the real job
# scripts, data and binary, but results/ and the job logs land in $W.
SUB=$W/checkout
if ! { mkdir -p "$SUB" && ln -s "$REPO/jobs" "$SUB/jobs" && ln -s "$REPO/data" "$SUB/data" &&
  ln -s "$POPSEG_BIN" "$SUB/bin"; }; then
  fail "cannot set up $SUB"
  finish
fi

# --- references: plain mpirun -np 2 runs of the same inputs -------------------
mpirun_np2() {
  timeout -k 5 300 mpirun --oversubscribe -np 2 "$POPSEG" "$@"
}
REF=$W/ref
mkdir -p "$REF"
if mpirun_np2 run data/acs2015_county_data.csv -o "$REF/census.h5" >"$REF/census.out" 2>&1; then
  pass "reference: mpirun -np 2 popseg run (census 2015)"
else
  fail "reference: mpirun -np 2 popseg run failed: $(tail -n 3 "$REF/census.out" | tr '\n' ' ')"
fi
for k in 4 5 6; do
  mpirun_np2 run data/acs2015_county_data.csv -o "$REF/k$k.h5" --k "$k" --seed 0 --quiet \
    >"$REF/k$k.out" 2>&1 || fail "reference: mpirun -np 2 popseg run --k $k failed: $(tail -n 3 "$REF/k$k.out" | tr '\n' ' ')"
done
mpirun_np2 sweep data/acs2015_county_data.csv --k 3..5 --seed 0 -o "$REF/sweep.h5" --quiet \
  >"$REF/sweep.out" 2>&1 || fail "reference: mpirun -np 2 popseg sweep failed: $(tail -n 3 "$REF/sweep.out" | tr '\n' ' ')"
if mpirun_np2 predict "$REF/census.h5" data/acs2017_county_data.csv -o "$REF/pred.h5" \
    --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen >"$REF/pred.out" 2>&1; then
  pass "reference: mpirun -np 2 popseg predict (census 2017)"
else
  fail "reference: mpirun -np 2 popseg predict failed: $(tail -n 3 "$REF/pred.out" | tr '\n' ' ')"
fi

# --- the cluster ---------------------------------------------------------------
if slurm_up "$SR" 2>"$W/slurm-up.err"; then
  pass "single-node Slurm cluster up ($(sinfo -h -o '%D node, %c CPUs, %T' 2>/dev/null))"
else
  fail "Slurm cluster did not come up: $(tr '\n' ' ' <"$W/slurm-up.err" | head -c 600)"
  finish
fi

# submit ARGS...: sbatch --parsable from the checkout; prints the job id.
submit() {
  (cd "$SUB" && timeout 30 sbatch --parsable "$@") 2>>"$W/sbatch.err" | cut -d';' -f1
}

# wait_jobs DEADLINE_S ID...: poll squeue every 0.2 s until none of the jobs is
# known as pending/running/completing; 1 if the deadline passes first.
wait_jobs() {
  limit=$(($(date +%s) + $1)); shift
  while :; do
    busy=""
    for j in "$@"; do
      [ -n "$(squeue -h -j "$j" 2>/dev/null)" ] && busy=1 && break
    done
    [ -z "$busy" ] && return 0
    [ "$(date +%s)" -ge "$limit" ] && return 1
    sleep 0.2
  done
}

# job_field ID FIELD: FIELD=value of every record of `scontrol show job ID`
# (an array job has one record per task), one per line.
job_field() {
  scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# check_job NAME ID: the job completed with exit code 0:0 (every array task).
check_job() {
  st=$(job_field "$2" JobState | sort -u | tr '\n' ' ')
  ec=$(job_field "$2" ExitCode | sort -u | tr '\n' ' ')
  if [ "$st" = "COMPLETED " ] && [ "$ec" = "0:0 " ]; then
    pass "$1: job $2 COMPLETED, ExitCode 0:0"
  else
    fail "$1: job $2 state '$st' exit code '$ec'"
    for f in "$SUB"/*"$2"*.out; do [ -f "$f" ] && tail -n 5 "$f" | sed 's/^/    /'; done
  fi
}

# check_status NAME FILE: the exit status the job script recorded is 0.
check_status() {
  if [ -f "$2" ] && [ "$(cat "$2")" = 0 ]; then pass "$1: popseg exit status 0 recorded"
  else fail "$1: recorded exit status '$(cat "$2" 2>/dev/null || echo missing)'"; fi
}

# same NAME A B [DATASET...]: compare results files with tests/slurm/compare.py.
same() {
  name=$1; shift
  if msg=$("$PYTHON" "$REPO/tests/slurm/compare.py" "$@" 2>&1); then pass "$name"
  else fail "$name: $(echo "$msg" | tail -n 2 | tr '\n' ' ')"; fi
}

# --- submit: two segmentations, a sweep + elbow, a prediction -----------------
seg2=$(submit -n 2 jobs/segment.sbatch)
seg4=$(submit -n 4 jobs/segment.sbatch)
sweep=$(submit --array=4-6 jobs/sweep.sbatch)
elbow=""
[ -n "$sweep" ] && elbow=$(submit --job-name=popseg-elbow --output=%x-%j.out \
  --dependency=afterok:"$sweep" --wrap "$PYTHON jobs/elbow.py results/$sweep")
pred=""
[ -n "$seg2" ] && pred=$(MODEL=results/$seg2/results.h5 submit --dependency=afterok:"$seg2" \
  jobs/predict.sbatch)
# A failing run: popseg's exit status must become the job's.
bad=$(INPUT=$W/no-such-input.csv RESULTS_DIR=$W/bad submit -n 2 --job-name=popseg-bad \
  jobs/segment.sbatch)
# One MPI job that sweeps k = 3..5 (popseg sweep).
swmpi=$(K_RANGE=3..5 submit -n 2 jobs/sweep-mpi.sbatch)
ids="$seg2 $seg4 $sweep $elbow $pred $bad $swmpi"
if [ -n "$seg2" ] && [ -n "$seg4" ] && [ -n "$sweep" ] && [ -n "$elbow" ] && [ -n "$pred" ] &&
  [ -n "$bad" ] && [ -n "$swmpi" ]; then
  pass "sbatch accepted 7 submissions (segment -n 2/-n 4, sweep 4-6, elbow, predict, a failing run, sweep-mpi)"
else
  fail "sbatch failed: ids '$ids': $(tr '\n' ' ' <"$W/sbatch.err" | head -c 400)"
  finish
fi
# shellcheck disable=SC2086
if wait_jobs "$JOB_TIMEOUT" $ids; then
  pass "all jobs left the queue within ${JOB_TIMEOUT} s"
else
  fail "jobs still queued after ${JOB_TIMEOUT} s: $(squeue -h -o '%i %j %T %r' 2>/dev/null | tr '\n' ';')"
fi

# --- segment -n 2 and -n 4 ---------------------------------------------------
for pair in "2 $seg2" "4 $seg4"; do
  np=${pair%% *}; id=${pair#* }
  d=$SUB/results/$id
  check_job "segment -n $np" "$id"
  check_status "segment -n $np" "$d/exit_status"
  log=$SUB/popseg-segment-$id.out
  if [ -f "$log" ] && grep -q "$np tasks" "$log"; then pass "segment -n $np: log $(basename "$log") shows $np tasks"
  else fail "segment -n $np: log $log missing or lacks '$np tasks'"; fi
  if [ -s "$d/results.h5" ] && [ -s "$d/segments.csv" ] && [ -s "$d/report.md" ]; then
    pass "segment -n $np: results.h5, segments.csv, report.md in results/<job id>/"
  else
    fail "segment -n $np: outputs missing in $d: $(ls "$d" 2>&1 | tr '\n' ' ')"
  fi
  same "segment -n $np: labels, centroids, ids equal mpirun -np 2" "$d/results.h5" "$REF/census.h5"
done

# --- sweep + elbow -------------------------------------------------------------
check_job "sweep --array=4-6" "$sweep"
d=$SUB/results/$sweep
for k in 4 5 6; do
  check_status "sweep k=$k" "$d/k$k.exit_status"
  same "sweep k=$k: equals mpirun -np 2 --k $k" "$d/k$k.h5" "$REF/k$k.h5"
done
check_job "elbow (afterok:sweep)" "$elbow"
elog=$SUB/popseg-elbow-$elbow.out
# One row per k, and each inertia as stored in the file it names.
if msg=$("$PYTHON" - "$d" "$elog" <<'EOF' 2>&1
import csv, sys, h5py
d, log = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(f"{d}/elbow.csv")))
ks = [int(r["k"]) for r in rows]
assert ks == [4, 5, 6], f"elbow.csv rows for k {ks}, expected [4, 5, 6]"
for r in rows:
    with h5py.File(f"{d}/{r['file']}", "r") as f:
        g = f["kmeans"]
        inertia = float(g.attrs["inertia"] if "inertia" in g.attrs else g["inertia"][()])
        assert g["centroids"].shape[0] == int(r["k"]), f"{r['file']}: wrong k"
    assert abs(float(r["inertia"]) - inertia) <= 1e-9 * abs(inertia), f"k={r['k']}: {r['inertia']} != {inertia}"
# The job log also holds stderr; the table is the header line and the rows after it.
text = [l.split() for l in open(log) if l.split() and (l.split()[0] == "k" or l.split()[0].isdigit())]
assert text[0][:2] == ["k", "inertia"], f"stdout table header {text[0]}"
assert [int(t[0]) for t in text[1:]] == [4, 5, 6], f"stdout table rows {text[1:]}"
EOF
); then
  pass "elbow.py: CSV and aligned table have one row per k (4, 5, 6) with each file's inertia"
else
  fail "elbow.py: $(echo "$msg" | tail -n 1)"
fi

# --- sweep-mpi: popseg sweep as one MPI job -------------------------------------
check_job "sweep-mpi -n 2 (k = 3..5)" "$swmpi"
d=$SUB/results/$swmpi
check_status "sweep-mpi" "$d/exit_status"
if [ -s "$d/sweep.h5" ] && [ -s "$d/sweep.csv" ] && [ -s "$d/report.md" ] &&
   [ "$(wc -l <"$d/sweep.csv")" -eq 4 ]; then
  pass "sweep-mpi: sweep.h5, sweep.csv (one line per k), report.md in results/<job id>/"
else
  fail "sweep-mpi: outputs missing or short in $d: $(ls "$d" 2>&1 | tr '\n' ' ')"
fi
same "sweep-mpi: metrics, every k's labels and the model equal mpirun -np 2 popseg sweep" \
  "$d/sweep.h5" "$REF/sweep.h5" /sweep/k /sweep/inertia /sweep/silhouette /sweep/ari \
  /sweep/k3/labels /sweep/k4/labels /sweep/k5/labels /kmeans/labels /kmeans/centroids

# --- predict -------------------------------------------------------------------
check_job "predict (afterok:segment)" "$pred"
d=$SUB/results/$pred
check_status "predict" "$d/exit_status"
if [ -s "$d/predictions.csv" ]; then pass "predict: predictions.csv written"
else fail "predict: no predictions.csv in $d"; fi
same "predict: labels and ids equal mpirun -np 2 predict" "$d/predictions.h5" "$REF/pred.h5" \
  /kmeans/labels /rows/id

# --- a failing run ----------------------------------------------------------------
st=$(job_field "$bad" JobState); ec=$(job_field "$bad" ExitCode); rec=$(cat "$W/bad/exit_status" 2>/dev/null)
if [ "$st" = FAILED ] && [ -n "$rec" ] && [ "$rec" != 0 ] && [ "$ec" = "$rec:0" ]; then
  pass "failing run: job FAILED with ExitCode $ec = popseg's exit status $rec"
else
  fail "failing run: state '$st', ExitCode '$ec', recorded status '$rec'"
fi
if grep -q 'popseg: error: .*no-such-input' "$SUB/popseg-bad-$bad.out" 2>/dev/null; then
  pass "failing run: the job log holds popseg's error line naming the input"
else
  fail "failing run: no 'popseg: error' naming the input in the job log: $(tail -n 3 "$SUB/popseg-bad-$bad.out" 2>/dev/null | tr '\n' ' ')"
fi

# --- scancel of a running job: SIGTERM reaches popseg, nothing is left -----------
LONG=$W/long
long=$(RESULTS_DIR=$LONG EXTRA="--kmeans-n-init 100000" submit -n 2 --job-name=popseg-long \
  jobs/segment.sbatch)
if [ -z "$long" ]; then
  fail "scancel: sbatch of the long job failed: $(tail -n 2 "$W/sbatch.err" | tr '\n' ' ')"
  finish
fi
# Running means: the job is RUNNING and both ranks exist (their command line
# holds the unique output path). Then give popseg a moment to reach k-means.
limit=$(($(date +%s) + 60))
running=""
while [ "$(date +%s)" -lt "$limit" ]; do
  st=$(job_field "$long" JobState)
  n=$(pgrep -f -- "$LONG/results.h5" | wc -l)
  if [ "$st" = RUNNING ] && [ "$n" -ge 2 ]; then running=1; break; fi
  case $st in COMPLETED | FAILED | CANCELLED | TIMEOUT) break ;; esac
  sleep 0.2
done
if [ -z "$running" ]; then
  fail "scancel: long job never ran with 2 ranks (state '$st'); log: $(tail -n 3 "$SUB/popseg-long-$long.out" 2>/dev/null | tr '\n' ' ')"
else
  sleep 3
  if [ "$(job_field "$long" JobState)" != RUNNING ]; then
    fail "scancel: long job ended by itself before scancel (make it longer): $(job_field "$long" JobState)"
  else
    t0=$(date +%s)
    scancel "$long"
    if wait_jobs 30 "$long"; then
      pass "scancel: job ended $(($(date +%s) - t0)) s after scancel (limit 30 s)"
    else
      fail "scancel: job still in the queue 30 s after scancel"
    fi
    st=$(job_field "$long" JobState)
    [ "$st" = CANCELLED ] && pass "scancel: job state CANCELLED" || fail "scancel: job state '$st'"
    # slurmd has reaped the step; give stragglers a second, then none may remain.
    sleep 1
    left=$(pgrep -f -- "$LONG/results.h5" | tr '\n' ' ')
    [ -z "$left" ] && pass "scancel: no popseg process left" || fail "scancel: popseg processes left: $left"
    if [ -e "$LONG/results.h5" ]; then fail "scancel: results.h5 exists after scancel"
    elif ls -a "$LONG" 2>/dev/null | grep -q '\.tmp-'; then
      fail "scancel: temporary file left: $(ls -a "$LONG" | grep '\.tmp-' | tr '\n' ' ')"
    else
      pass "scancel: no results file and no .tmp- file in the results directory"
    fi
    st=$(cat "$LONG/exit_status" 2>/dev/null)
    [ "$st" = 143 ] && pass "scancel: job script recorded popseg's exit status 143" ||
      fail "scancel: recorded exit status '$st', expected 143 (128 + SIGTERM)"
    llog=$SUB/popseg-long-$long.out
    if grep -q 'stopped by SIGTERM' "$llog" 2>/dev/null; then
      pass "scancel: popseg caught SIGTERM and said so (not killed by SIGKILL)"
    else
      fail "scancel: popseg did not report 'stopped by SIGTERM' (log tail: $(tail -n 4 "$llog" 2>/dev/null | tr '\n' ' '))"
    fi
  fi
fi

finish
