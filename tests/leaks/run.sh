#!/bin/sh
# tests/leaks/run.sh - leak checks (make test-leaks). Ends with "N passed, N failed".
#
# What it checks. (1) LeakSanitizer: every unit test (tests/unit/test_*.c,
# built with -fsanitize=address into build/leaks by make test-leaks) runs once
# at 1 rank under mpirun, in its self-contained mode (no arguments; test_pca
# gets the scikit-learn references of tests/oracle/pca_oracle.py through
# PCA_ORACLE_DIR, PCA_TEST_MODE=all, as tests/t_pca.sh gives them). A test
# fails if LSan reports any leak that tests/leaks/lsan.supp does not hide, or
# if one of its own checks fails or it crashes. Stacks are unwound in full
# (fast_unwind_on_malloc=0) so that they reach MPI_Init through the libraries
# built without frame pointers; reports go to log_path files (test_error
# points its stderr at a file it deletes). (2) valgrind memcheck: popseg
# (the normal build, bin/popseg) imports, runs (--kmeans-n-init 2) and
# predicts on the first 400 lines of data/acs2015_county_data.csv at 2 ranks,
# each rank under valgrind (mpirun itself is not); a "definitely lost" record
# with a frame in popseg's code (a ps_* function or a file under src/) fails,
# as does a memory error with such a frame (tests/leaks/leakcheck.py reads
# the logs). Indirect and possible losses, and whatever is left outside
# popseg's code, are printed as "#" lines.
#
# Suppressions needed (Open MPI 4.1, HDF5 1.10, OpenBLAS 0.3.21 on Debian 12),
# the same three in tests/leaks/lsan.supp and tests/leaks/valgrind.supp, each
# naming a function of Open MPI so that an MPI or HDF5 object popseg's code
# creates and forgets is still reported: Open MPI's one-time allocations in
# MPI_Init (ompi_mpi_init: ORTE/PMIx job data, hwloc topology, the op tables,
# ~120 kB in ~3350 blocks per process), strings dropped in MPI_Finalize
# (ompi_mpi_finalize, ~50 bytes) and the PMIx progress thread's messages
# allocated in libevent callbacks (libevent_core, ~280 bytes). HDF5 frees its
# free lists and globals from its atexit handler and OpenBLAS runs with one
# thread, so neither needed a suppression. lsan.supp has a fourth,
# MPI_T_init_thread, for test_launch's read of Open MPI's "pml" variable.
#
# Environment: LEAK_BIN (the ASan build, build/leaks/bin), POPSEG_BIN (bin),
# PYTHON (/usr/bin/python3), LEAKS ("lsan valgrind": which parts),
# LEAK_UNIT_TESTS (names, default every tests/unit/test_*.c), LEAK_TIMEOUT
# (seconds per mpirun, 300), VERBOSE=1 (print each program's output).
set -u
cd "$(dirname "$0")/../.." || exit 2
REPO=$(pwd)
LEAK_BIN=${LEAK_BIN:-build/leaks/bin}
POPSEG_BIN=${POPSEG_BIN:-bin}
PYTHON=${PYTHON:-/usr/bin/python3}
LEAKS=${LEAKS:-lsan valgrind}
LEAK_TIMEOUT=${LEAK_TIMEOUT:-300}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/popseg-leaks.XXXXXX")
trap 'rm -rf "$TMPD"' EXIT
CHECK="$PYTHON tests/leaks/leakcheck.py"
passed=0; failed=0
start_all=$(date +%s)

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# report TEXT: print leakcheck.py's lines and count its PASS/FAIL lines.
report() {
  [ -n "$1" ] || return 0
  printf '%s\n' "$1"
  passed=$((passed + $(printf '%s\n' "$1" | grep -c '^PASS: ')))
  failed=$((failed + $(printf '%s\n' "$1" | grep -c '^FAIL: ')))
}
tail_of() { tail -n 3 "$1" 2>/dev/null | tr '\n' ' ' | cut -c 1-300; }
verbose() { [ -z "${VERBOSE:-}" ] || sed 's/^/#   | /' "$@"; }

# ---------------------------------------------------------------- LeakSanitizer
lsan_part() {
  tests=${LEAK_UNIT_TESTS:-}
  if [ -z "$tests" ]; then
    for f in tests/unit/test_*.c; do [ -e "$f" ] && tests="$tests $(basename "$f" .c)"; done
  fi
  n=0
  for t in $tests; do
    n=$((n + 1))
    bin=$LEAK_BIN/tests/$t
    if [ ! -x "$bin" ]; then fail "lsan $t: $bin is not built (make test-leaks builds it)"; continue; fi
    d=$TMPD/lsan/$t
    mkdir -p "$d"
    extra=""
    if [ "$t" = test_pca ]; then
      if [ ! -d "$TMPD/pca_oracle" ] &&
         ! "$PYTHON" tests/oracle/pca_oracle.py data/acs2015_county_data.csv "$TMPD/pca_oracle" \
           >"$TMPD/pca_oracle.log" 2>&1; then
        fail "lsan $t: tests/oracle/pca_oracle.py failed: $(tail_of "$TMPD/pca_oracle.log")"
        rm -rf "$TMPD/pca_oracle"
        continue
      fi
      extra="PCA_ORACLE_DIR=$TMPD/pca_oracle PCA_TEST_MODE=all"
    fi
    t0=$(date +%s)
    # exitcode=23: a leak (or an ASan error) is told apart from a failed check (1).
    # shellcheck disable=SC2086 # extra is a list of VAR=value words
    env $extra \
      ASAN_OPTIONS="detect_leaks=1:exitcode=23:fast_unwind_on_malloc=0:malloc_context_size=40:log_path=$d/lsan" \
      LSAN_OPTIONS="suppressions=$REPO/tests/leaks/lsan.supp:print_suppressions=1" \
      timeout -k 10 "$LEAK_TIMEOUT" mpirun --oversubscribe -np 1 "$bin" >"$d/out" 2>"$d/err"
    rc=$?
    verbose "$d/out" "$d/err"
    np=$(grep -c '^PASS: ' "$d/out"); nf=$(grep -c '^FAIL: ' "$d/out")
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      fail "lsan $t: timed out after $LEAK_TIMEOUT s"; continue
    fi
    # No report at all is only right for a binary that has LeakSanitizer in it.
    if ! ls "$d"/lsan.* >/dev/null 2>&1 && ! { ldd "$bin" 2>/dev/null | grep -q libasan; } &&
       ! nm "$bin" 2>/dev/null | grep -q __lsan_; then
      fail "lsan $t: $bin is not built with -fsanitize=address (no LeakSanitizer report)"; continue
    fi
    # shellcheck disable=SC2046 # one log per process; none when nothing was found
    report "$($CHECK lsan "$t [np=1]" $(ls "$d"/lsan.* 2>/dev/null))"
    if [ "$nf" -ne 0 ]; then
      fail "lsan $t: $nf of its own checks failed under ASan: $(grep -m 2 '^FAIL: ' "$d/out" | tr '\n' ' ')"
    elif [ $rc -ne 0 ] && [ $rc -ne 23 ]; then
      fail "lsan $t: exited $rc after $np checks: $(tail_of "$d/err")"
    elif [ "$np" -eq 0 ]; then
      fail "lsan $t: ran no check (exit $rc)"
    else
      echo "# lsan $t: $np checks passed, exit $rc, $(( $(date +%s) - t0 )) s"
    fi
  done
  echo "# lsan: $n unit tests checked"
}

# ---------------------------------------------------------------- valgrind
VG_OPTS="--leak-check=full --show-leak-kinds=definite,indirect,possible \
--errors-for-leak-kinds=definite --num-callers=40 --fullpath-after= \
--suppressions=$REPO/tests/leaks/valgrind.supp"

# vg NAME ARGS...: popseg ARGS at 2 ranks, each under valgrind; check its logs.
vg() {
  name=$1; shift
  d=$V/$name
  mkdir -p "$d"
  t0=$(date +%s)
  # shellcheck disable=SC2086 # VG_OPTS is a list of options
  timeout -k 10 "$LEAK_TIMEOUT" mpirun --oversubscribe -np 2 \
    valgrind $VG_OPTS --log-file="$d/vg.%p.log" "$POPSEG" "$@" >"$d.out" 2>"$d.err"
  rc=$?
  verbose "$d.out" "$d.err"
  logs=$(ls "$d"/vg.*.log 2>/dev/null)
  nlogs=$(printf '%s\n' "$logs" | grep -c .)
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then fail "valgrind $name: timed out after $LEAK_TIMEOUT s"; return 1; fi
  if [ $rc -ne 0 ]; then fail "valgrind $name: popseg $1 exited $rc: $(tail_of "$d.err")"; fi
  if [ "$nlogs" -ne 2 ]; then fail "valgrind $name: $nlogs valgrind logs, want one per rank (2)"; return 1; fi
  # shellcheck disable=SC2086 # one log per rank
  report "$($CHECK valgrind "$name [np=2]" "$REPO" $logs)"
  echo "# valgrind $name: exit $rc, $(( $(date +%s) - t0 )) s"
  [ $rc -eq 0 ]
}

valgrind_part() {
  POPSEG=$POPSEG_BIN/popseg
  if ! command -v valgrind >/dev/null 2>&1; then fail "valgrind: not installed (sh scripts/deps.sh leaks)"; return; fi
  if [ ! -x "$POPSEG" ]; then fail "valgrind: $POPSEG is not built (make all)"; return; fi
  V=$TMPD/vg
  mkdir -p "$V"
  head -n 400 data/acs2015_county_data.csv >"$V/small.csv"
  vg import import "$V/small.csv" "$V/table.h5"
  vg run run "$V/small.csv" -o "$V/r.h5" --csv "$V/s.csv" --report "$V/r.md" --kmeans-n-init 2
  if [ -s "$V/r.h5" ]; then
    model=$V/r.h5
  else
    fail "valgrind predict: no model (the run above wrote no $V/r.h5)"; return
  fi
  # The imported table as input: run read the CSV, predict reads HDF5 in parallel.
  [ -s "$V/table.h5" ] && input=$V/table.h5 || input=$V/small.csv
  vg predict predict "$model" "$input" -o "$V/p.h5" --csv "$V/p.csv" --report "$V/p.md"
}

for part in $LEAKS; do
  case $part in
    lsan) lsan_part ;;
    valgrind) valgrind_part ;;
    *) fail "unknown part '$part' in LEAKS (lsan, valgrind)" ;;
  esac
done
echo "# leaks: $(( $(date +%s) - start_all )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
