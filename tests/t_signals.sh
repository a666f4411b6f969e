#!/bin/sh
# tests/t_signals.sh - popseg under signals, as a batch system delivers them.
#  (a) SIGTERM to mpirun while popseg computes (k-means with many restarts),
#      and to the ranks while they write (a big synthetic input, signalled as
#      soon as the temporary output appears): the job ends in time, exits
#      non-zero, says it was stopped by SIGTERM, and leaves no results file and
#      no .tmp- file.
#  (b) kill -9 of one rank (rank 1 while computing, rank 0 while writing): the
#      job ends (no hang), no results or temporary file, no process left.
#  (c) --quiet prints nothing on stdout; by default the progress lines come
#      from rank 0 only (as many at 3 ranks as at 1).
#  (d) the error agreement itself (test_error): one failing or signalled rank
#      stops every rank with exactly one line, at 1-4 ranks.
. "$(dirname "$0")/lib.sh"

for np in 1 2 3 4; do run_c_test "$np" "$POPSEG_BIN/tests/test_error"; done

DATA=data/acs2015_county_data.csv
BIG_ROWS=${BIG_ROWS:-400000}
DEADLINE=${SIG_DEADLINE:-30}
OUT=$TMPD/out
mkdir -p "$OUT"
MPIRUN_PID=""

# Never leave a job behind, whatever fails.
cleanup() {
  if [ -n "$MPIRUN_PID" ] && kill -0 "$MPIRUN_PID" 2>/dev/null; then
    for p in $(pgrep -P "$MPIRUN_PID"); do kill -9 "$p" 2>/dev/null; done
    kill -9 "$MPIRUN_PID" 2>/dev/null
  fi
  rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'echo "FAIL: t_signals interrupted"; exit 130' INT TERM HUP

# start NAME ARGS...: popseg under mpirun (2 ranks) in the background, output
# into $OUT/NAME.h5; sets MPIRUN_PID. stdout/stderr in $TMPD/NAME.{out,err}.
start() {
  name=$1; shift
  rm -f "$OUT/$name.h5" "$OUT/$name.csv"
  mpirun --oversubscribe -np 2 "$POPSEG" run "$@" -o "$OUT/$name.h5" \
    >"$TMPD/$name.out" 2>"$TMPD/$name.err" &
  MPIRUN_PID=$!
}

# ranks: pids of the popseg processes mpirun started (its children).
ranks() { pgrep -P "$MPIRUN_PID" 2>/dev/null; }

# rank_pid R: pid of world rank R (from the environment Open MPI gave it).
rank_pid() {
  for p in $(ranks); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$p"; return 0
    fi
  done
  return 1
}

# wait_working NAME: until both ranks run and the progress output has begun
# (60 s limit), then 1.5 s more so that popseg is inside its stages.
wait_working() {
  i=0
  while [ $i -lt 300 ]; do
    if [ "$(ranks | wc -l)" -ge 2 ] && [ -s "$TMPD/$1.out" ]; then sleep 1.5; return 0; fi
    kill -0 "$MPIRUN_PID" 2>/dev/null || return 1
    sleep 0.2; i=$((i + 1))
  done
  return 1
}

# wait_tmp: until a .tmp- file appears in $OUT (polled every 20 ms, 120 s limit).
wait_tmp() {
  i=0
  while [ $i -lt 6000 ]; do
    ls -a "$OUT" | grep -q '\.tmp-' && return 0
    kill -0 "$MPIRUN_PID" 2>/dev/null || return 1
    sleep 0.02; i=$((i + 1))
  done
  return 1
}

# wait_end: until mpirun exits ($DEADLINE s); sets RC and ELAPSED. On timeout
# the job is killed and RC=124.
wait_end() {
  t0=$(date +%s)
  while kill -0 "$MPIRUN_PID" 2>/dev/null; do
    if [ $(($(date +%s) - t0)) -ge "$DEADLINE" ]; then
      for p in $(ranks); do kill -9 "$p" 2>/dev/null; done
      kill -9 "$MPIRUN_PID" 2>/dev/null
      wait "$MPIRUN_PID" 2>/dev/null
      RC=124; ELAPSED=$DEADLINE; MPIRUN_PID=""
      return 1
    fi
    sleep 0.1
  done
  wait "$MPIRUN_PID"; RC=$?
  ELAPSED=$(($(date +%s) - t0)); MPIRUN_PID=""
  return 0
}

# check_ended NAME WHAT WANT: the job ended in time with exit status WANT; no
# results file, no temporary file, no popseg process of this run left.
check_ended() {
  name=$1; what=$2; want=$3
  if [ "$RC" -eq 124 ]; then fail "$what: job still running $DEADLINE s later (hang)"; return 1; fi
  if [ "$RC" -eq "$want" ]; then pass "$what: ended after ${ELAPSED} s, exit status $RC as documented"
  else fail "$what: exit status $RC, README documents $want"; fi
  if [ -e "$OUT/$name.h5" ] || [ -e "$OUT/$name.csv" ]; then
    fail "$what: output left: $(ls "$OUT" | tr '\n' ' ')"
  elif ls -a "$OUT" | grep -q '\.tmp-'; then
    fail "$what: temporary file left: $(ls -a "$OUT" | grep '\.tmp-' | tr '\n' ' ')"
  else
    pass "$what: no results file and no .tmp- file"
  fi
  sleep 0.5
  left=$(pgrep -f -- "$OUT/$name.h5" | tr '\n' ' ')
  if [ -n "$left" ]; then
    fail "$what: popseg processes left: $left"
    for p in $left; do kill -9 "$p" 2>/dev/null; done
  fi
  rm -f "$OUT"/.*.tmp-* 2>/dev/null
  return 0
}

check_says_sigterm() {
  if grep -q -E 'stopped by (SIGTERM|a signal|signal)' "$TMPD/$1.err"; then
    pass "$2: stderr says it was stopped by SIGTERM"
  else
    fail "$2: stderr does not say it was stopped by a signal: $(tail -c 300 "$TMPD/$1.err" | tr '\n' ' ')"
  fi
}

# A synthetic input whose write stage takes a while (about 1 s per 300k rows).
if ! "$PYTHON" - "$TMPD/big.csv" "$BIG_ROWS" <<'EOF'
import sys
import numpy as np
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
d, k = 10, 6
centres = rng.normal(0.0, 5.0, (k, d))
x = centres[rng.integers(0, k, n)] + rng.normal(0.0, 1.0, (n, d))
ids = np.arange(1, n + 1)
with open(path, "w") as f:
    f.write("id,name," + ",".join(f"f{j}" for j in range(d)) + "\n")
    np.savetxt(f, np.column_stack([ids, ids, x]), fmt="%d,r%d," + ",".join(["%.6f"] * d))
EOF
then
  fail "generate $BIG_ROWS-row synthetic CSV"
  finish
fi

# The exit statuses README documents ("Exit status"): a signal to mpirun
# (Ctrl-C, kill) is forwarded to the ranks as SIGTERM and mpirun itself exits
# 1; a signal delivered to the ranks themselves (as slurmstepd does on
# scancel) gives 128 + the signal (143, 130); a rank killed with SIGKILL, 137.

# (a1) SIGTERM to mpirun during k-means (100000 restarts take minutes).
start term_km "$DATA" --kmeans-n-init 100000
if ! wait_working term_km; then
  wait_end; fail "(a) SIGTERM during k-means: job did not start working (rc $RC): $(tail -c 300 "$TMPD/term_km.err" | tr '\n' ' ')"
else
  kill -TERM "$MPIRUN_PID"
  wait_end
  check_ended term_km "(a) SIGTERM to mpirun during k-means" 1
  check_says_sigterm term_km "(a) SIGTERM to mpirun during k-means"
fi

# (a2) SIGINT to mpirun: forwarded as SIGTERM too, mpirun exits 1.
start int_km "$DATA" --kmeans-n-init 100000
if ! wait_working int_km; then
  wait_end; fail "(a) SIGINT to mpirun: job did not start working (rc $RC)"
else
  kill -INT "$MPIRUN_PID"
  wait_end
  check_ended int_km "(a) SIGINT to mpirun during k-means" 1
  check_says_sigterm int_km "(a) SIGINT to mpirun during k-means"
fi

# (a3) SIGTERM while the results are being written, delivered to every rank at
# once as slurmstepd does on scancel. (mpirun itself forwards a SIGTERM only
# after a SIGCONT and a 1 s pause, by when a fast write may have finished.)
start term_wr "$TMPD/big.csv" --csv "$OUT/term_wr.csv" --kmeans-n-init 1
if ! wait_tmp; then
  wait_end
  fail "(a) SIGTERM during the write: no temporary output seen before the job ended (rc $RC; too fast? raise BIG_ROWS)"
else
  # shellcheck disable=SC2046 # one pid per word
  kill -TERM $(ranks)
  wait_end
  check_ended term_wr "(a) SIGTERM to the ranks during the write" 143
  check_says_sigterm term_wr "(a) SIGTERM to the ranks during the write"
fi

# (a4) SIGINT to the ranks during k-means: exit 130, and the ranks stop within
# one Lloyd iteration (no further restart reported), with the message on a
# line of its own even where stdout and stderr share a file. The restarts run
# one at a time here (--kmeans-lockstep 1): in lockstep a group's reports come
# in a burst when its first run finishes, up to 10 at once, which the count of
# reports before and after the signal cannot tell from restarts run after it.
# (a4b) The same in lockstep (the default, 10 restarts at a time): exit 130,
# and no more than the group the signal found (10 reports) after it.
# sigint_kmeans NAME LABEL ENDED_LABEL MAX_MORE WITHIN [popseg options...]:
# runs the census with 100000 restarts, sends SIGINT once it works, checks
# the exit and that at most MAX_MORE restarts were reported after the signal;
# 0 if the job started (the caller's further checks read $TMPD/NAME.out).
sigint_kmeans() {
  name=$1 label=$2 ended=$3 max_more=$4 within=$5
  shift 5
  rm -f "$OUT/$name.h5"
  mpirun --oversubscribe -np 2 "$POPSEG" run "$DATA" --kmeans-n-init 100000 "$@" \
    -o "$OUT/$name.h5" >"$TMPD/$name.out" 2>&1 &
  MPIRUN_PID=$!
  if ! wait_working "$name"; then
    wait_end; fail "(a) $label: job did not start working (rc $RC)"
    return 1
  fi
  before=$(grep -c 'k-means run' "$TMPD/$name.out")
  # shellcheck disable=SC2046 # one pid per word
  kill -INT $(ranks)
  wait_end
  after=$(grep -c 'k-means run' "$TMPD/$name.out")
  cp "$TMPD/$name.out" "$TMPD/$name.err"
  check_ended "$name" "(a) $ended" 130
  if [ $((after - before)) -le "$max_more" ]; then
    pass "(a) $label: stopped within the $within it was in ($before then $after restarts reported)"
  else
    fail "(a) $label: $((after - before)) more restarts ran after the signal"
  fi
}

if sigint_kmeans int_rk "SIGINT to the ranks" "SIGINT to the ranks during k-means" 1 restart \
  --kmeans-lockstep 1; then
  if grep -q '^popseg: error: stopped by SIGINT; temporary output removed$' "$TMPD/int_rk.out" &&
     [ "$(grep -c 'popseg: error' "$TMPD/int_rk.out")" -eq "$(grep -c '^popseg: error' "$TMPD/int_rk.out")" ]; then
    pass "(a) SIGINT to the ranks: 'stopped by SIGINT' on a line of its own"
  else
    fail "(a) SIGINT to the ranks: message spliced or missing: $(grep 'popseg: error' "$TMPD/int_rk.out" | head -c 200)"
  fi
fi
sigint_kmeans int_ls "SIGINT in lockstep" "SIGINT to the ranks during k-means in lockstep" 10 group ||
  true

# (a5) a singleton (no launcher): 143 for SIGTERM, 130 for SIGINT.
for sig in TERM INT; do
  want=143; [ $sig = INT ] && want=130
  rm -f "$OUT/single.h5"
  "$POPSEG" run "$DATA" --kmeans-n-init 100000 -o "$OUT/single.h5" >"$TMPD/single.out" 2>"$TMPD/single.err" &
  pid=$!
  i=0; while [ $i -lt 100 ] && [ ! -s "$TMPD/single.out" ]; do sleep 0.1; i=$((i + 1)); done
  sleep 1
  kill -$sig $pid; wait $pid; rc=$?
  if [ $rc -eq $want ] && grep -q "stopped by SIG$sig" "$TMPD/single.err" && [ ! -e "$OUT/single.h5" ] &&
     ! ls -a "$OUT" | grep -q '\.tmp-'; then
    pass "(a) singleton SIG$sig: exit status $want, says so, nothing left"
  else
    fail "(a) singleton SIG$sig: exit status $rc (want $want): $(tail -c 200 "$TMPD/single.err")"
  fi
done

# (b1) kill -9 of rank 1 during k-means.
start kill_km "$DATA" --kmeans-n-init 100000
if ! wait_working kill_km || ! victim=$(rank_pid 1); then
  wait_end; fail "(b) kill -9 rank 1: job did not start working or rank 1 not found (rc $RC)"
else
  kill -9 "$victim"
  wait_end
  check_ended kill_km "(b) kill -9 of rank 1 during k-means" 137
fi

# (b2) kill -9 of rank 0 while writing: the surviving rank gets SIGTERM from
# mpirun and its handler removes the temporary files.
start kill_wr "$TMPD/big.csv" --csv "$OUT/kill_wr.csv" --kmeans-n-init 1
if ! wait_tmp || ! victim=$(rank_pid 0); then
  wait_end
  fail "(b) kill -9 rank 0 during the write: no temporary output seen or rank 0 not found (rc $RC; too fast? raise BIG_ROWS)"
else
  kill -9 "$victim"
  wait_end
  check_ended kill_wr "(b) kill -9 of rank 0 during the write" 137
fi

# (c) stdout: nothing with --quiet; progress from rank 0 only by default.
q=$(mpi 3 "$POPSEG" run "$DATA" -o "$OUT/quiet.h5" --kmeans-n-init 2 --quiet 2>"$TMPD/quiet.err"); rc=$?
if [ $rc -eq 0 ] && [ -s "$OUT/quiet.h5" ] && [ -z "$q" ]; then
  pass "(c) --quiet at 3 ranks: exit 0, results written, stdout empty"
else
  fail "(c) --quiet at 3 ranks: exit $rc, stdout '$(printf '%s' "$q" | head -c 200)': $(tail -c 200 "$TMPD/quiet.err")"
fi
mpi 1 "$POPSEG" run "$DATA" -o "$OUT/p1.h5" --kmeans-n-init 2 >"$TMPD/p1.out" 2>&1
mpi 3 "$POPSEG" run "$DATA" -o "$OUT/p3.h5" --kmeans-n-init 2 >"$TMPD/p3.out" 2>"$TMPD/p3.err"
n1=$(wc -l <"$TMPD/p1.out"); n3=$(wc -l <"$TMPD/p3.out")
if [ "$n1" -gt 0 ] && [ "$n1" -eq "$n3" ]; then
  pass "(c) default output: $n3 lines at 3 ranks, as at 1 rank (rank 0 only)"
else
  fail "(c) default output: $n1 lines at 1 rank but $n3 at 3 ranks (duplicated per rank?)"
fi
# Every line at 3 ranks appears as often as at 1 rank, numbers aside (timings
# and the rank count differ).
norm() { sed -e 's/[0-9][0-9.e+-]*/N/g' -e 's/N ranks/N rank/g' "$1" | sort; }
if [ "$(norm "$TMPD/p1.out")" = "$(norm "$TMPD/p3.out")" ]; then
  pass "(c) default output: the same lines at 1 and 3 ranks (numbers aside)"
else
  fail "(c) default output differs between 1 and 3 ranks beyond numbers"
fi

finish
