#!/bin/sh
# tests/run.sh - popseg's test runner. Runs every tests/t_*.sh (each with a
# time limit), prints their PASS/FAIL lines and ends with "N passed, N failed".
# A script that crashes or times out without a FAIL line counts as one failure.
# TESTS="t_csv t_pca" restricts the run.
set -u
cd "$(dirname "$0")/.."
export POPSEG_BIN=${POPSEG_BIN:-bin} PYTHON=${PYTHON:-/usr/bin/python3}
log=$(mktemp -d "${TMPDIR:-/tmp}/popseg-run.XXXXXX")
passed=0; failed=0
scripts=""
if [ -n "${TESTS:-}" ]; then
  for t in $TESTS; do scripts="$scripts tests/$t.sh"; done
else
  scripts=$(ls tests/t_*.sh)
fi
for s in $scripts; do
  name=$(basename "$s" .sh)
  start=$(date +%s)
  timeout -k 10 "${SCRIPT_TIMEOUT:-1500}" sh "$s" >"$log/$name.out" 2>"$log/$name.err"
  rc=$?
  p=$(grep -c '^PASS: ' "$log/$name.out"); f=$(grep -c '^FAIL: ' "$log/$name.out")
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL: $name exited $rc without reporting a failure" >>"$log/$name.out"; f=1
  fi
  if [ $rc -eq 0 ] && [ "$f" -ne 0 ]; then
    echo "FAIL: $name reported failures but exited 0" >>"$log/$name.out"; f=$((f + 1))
  fi
  passed=$((passed + p)); failed=$((failed + f))
  echo "== $name: $p passed, $f failed ($(( $(date +%s) - start )) s)"
  grep '^FAIL: ' "$log/$name.out" | sed 's/^/   /'
  if [ "$f" -ne 0 ]; then echo "   --- stderr tail:"; tail -n 15 "$log/$name.err" | sed 's/^/   /'; fi
  [ -n "${VERBOSE:-}" ] && cat "$log/$name.out"
done
rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
