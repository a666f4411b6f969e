#!/bin/sh
# Fuzz regressions: every input kept in tests/fuzz/regressions/TARGET (seeds
# for the parsers' cases, and any crash a fuzzer found) is replayed through
# $POPSEG_BIN/tests/fuzz_TARGET_regress, the make fuzz harness with a plain
# main (tests/fuzz/driver.c), built by make all. An input passes when the
# harness returns (exit 0): no crash, no sanitizer report (make test-asan),
# no broken promise of the parser (the harness aborts). Builds nothing.
. tests/lib.sh
for t in csv number csv_import h5table; do
  bin=$POPSEG_BIN/tests/fuzz_${t}_regress
  dir=tests/fuzz/regressions/$t
  if [ ! -x "$bin" ]; then
    fail "fuzz_$t: $bin is missing (make all builds it)"
    continue
  fi
  n=0
  bad=0
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    timeout -k 5 "${T_FUZZ_TIMEOUT:-60}" "$bin" "$f" >"$TMPD/out" 2>"$TMPD/err"
    rc=$?
    if [ $rc -ne 0 ]; then
      bad=$((bad + 1))
      why=$(grep -m 1 -E '^fuzz_|Sanitizer|runtime error|Aborted|Segmentation' "$TMPD/err")
      [ -n "$why" ] || why=$(tail -n 2 "$TMPD/err" | tr '\n' ' ')
      fail "fuzz_$t: $f exited $rc: $(printf '%s' "$why" | head -c 300)"
    fi
  done
  if [ $n -eq 0 ]; then
    fail "fuzz_$t: no regression inputs in $dir"
  elif [ $bad -eq 0 ]; then
    pass "fuzz_$t: $n regression inputs replayed, none crashed"
  fi
done
finish
