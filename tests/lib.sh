# tests/lib.sh - shared shell helpers for popseg's test scripts (sourced).
# Protocol: each check prints "PASS: name" or "FAIL: name"; tests/run.sh counts them.
set -u
POPSEG_BIN=${POPSEG_BIN:-bin}
PYTHON=${PYTHON:-/usr/bin/python3}
POPSEG=$POPSEG_BIN/popseg
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
T_FAILED=0
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/popseg-test.XXXXXX")
trap 'rm -rf "$TMPD"' EXIT

# Rank counts of the sweeps that check a result does not depend on the rank
# count. The plain build (make test) runs them all. The sanitizer build (make
# test-asan, POPSEG_ASAN=1) looks for memory errors, not for rank-count
# differences, which the plain build has checked: it runs one rank alone and
# an uneven split, about half the time of a suite that took 40 of a 72-minute
# CI on a 2-core VM.
if [ "${POPSEG_ASAN:-0}" = 1 ]; then
  RANKS="1 3" RANKS_WIDE="1 3 7"
else
  RANKS="1 2 3 4" RANKS_WIDE="1 2 3 4 5 7"
fi
# per_rank PREFIX SUFFIX: PREFIX<np>SUFFIX for each np of RANKS.
per_rank() {
  for np in $RANKS; do printf '%s%s%s\n' "$1" "$np" "$2"; done
}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; T_FAILED=1; }

# check NAME CMD...: pass if CMD exits 0.
check() {
  name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# mpi NP CMD...: run CMD under mpirun with NP ranks (oversubscribed), 300 s limit.
mpi() {
  np=$1; shift
  timeout -k 5 ${T_TIMEOUT:-300} mpirun --oversubscribe -np "$np" "$@"
}

# run_c_test NP BINARY: run a C unit test at NP ranks, pass its PASS/FAIL lines
# through; a crash or timeout with no FAIL line counts as one failure.
run_c_test() {
  np=$1; bin=$2
  out=$(mpi "$np" "$bin" 2>"$TMPD/stderr.$$"); rc=$?
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL): '
  if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL: '; then
    fail "$(basename "$bin") [np=$np] exited $rc: $(tail -n 3 "$TMPD/stderr.$$" | tr '\n' ' ')"
  fi
  [ $rc -eq 0 ] || T_FAILED=1
}

# expect_error NAME PATTERN NP ARGS...: popseg must exit non-zero within the
# time limit, print exactly one error line on stderr matching PATTERN, and the
# output path in $EXPECT_NO_FILE (if set) must not exist afterwards.
expect_error() {
  name=$1; pat=$2; np=$3; shift 3
  T_TIMEOUT=${T_ERR_TIMEOUT:-60} mpi "$np" "$POPSEG" "$@" >"$TMPD/.ee_out" 2>"$TMPD/.ee_err"; rc=$?
  nerr=$(grep -c 'error' "$TMPD/.ee_err")
  if [ $rc -eq 0 ]; then fail "$name: exited 0"; return; fi
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then fail "$name: timed out (hang)"; return; fi
  # popseg's own codes are 1..9; anything else (a signal, a sanitizer abort) is a crash.
  if [ $rc -gt 9 ]; then fail "$name: exit status $rc is not one of popseg's error codes (crash?)"; return; fi
  if grep -q -E 'Sanitizer|runtime error|Segmentation|signal [0-9]+' "$TMPD/.ee_err"; then
    fail "$name: crashed: $(grep -m1 -E 'Sanitizer|runtime error|Segmentation|signal [0-9]+' "$TMPD/.ee_err")"; return; fi
  if ! grep -q -E -- "$pat" "$TMPD/.ee_err"; then
    fail "$name: stderr lacks /$pat/: $(head -c 300 "$TMPD/.ee_err" | tr '\n' ' ')"; return; fi
  if [ "$(grep -c '^popseg: error' "$TMPD/.ee_err")" -ne 1 ]; then
    fail "$name: expected one 'popseg: error' line, got $nerr: $(head -c 300 "$TMPD/.ee_err" | tr '\n' ' ')"; return; fi
  if [ -n "${EXPECT_NO_FILE:-}" ]; then
    dir=$(dirname "$EXPECT_NO_FILE")
    if [ -e "$EXPECT_NO_FILE" ] || ls -a "$dir" | grep -q '\.tmp-'; then
      fail "$name: output or temporary file left behind"; return; fi
  fi
  pass "$name"
}

finish() { exit $T_FAILED; }
