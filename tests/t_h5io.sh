#!/bin/sh
# t_h5io.sh - the parallel HDF5 module: unit checks at 1-4 ranks, files written
# at one rank count and read at every other, h5py (tests/oracle/check_h5.py)
# reading what we write and writing what we must read or refuse, piecewise
# transfers (POPSEG_IO_CHUNK_BYTES=64), and every read error at 1-4 ranks.
#
# Write failures (missing directory, a file used as a directory, /proc where
# H5Fcreate itself fails although root passes the permission checks, existing
# output without --force) are in the unit test's self-contained part.
. tests/lib.sh

T=$POPSEG_BIN/tests/test_h5io
ORACLE="$PYTHON tests/oracle/check_h5.py"

# run_mode NP ARGS...: like run_c_test, with arguments for the test binary.
run_mode() {
  np=$1; shift
  out=$(mpi "$np" "$@" 2>"$TMPD/stderr.mode"); rc=$?
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL): '
  if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL: '; then
    fail "[np=$np] $* exited $rc: $(tail -n 3 "$TMPD/stderr.mode" | tr '\n' ' ')"
  fi
  [ $rc -eq 0 ] || T_FAILED=1
}

# 1. Self-contained unit checks (round trips, pieces, write/read errors).
for np in 1 2 3 4; do run_c_test "$np" "$T"; done

# 2. Tables written at np=w (skewed row blocks at 3 and 4: low ranks hold no
#    rows), checked by h5py and read back at np=1..4.
N=257; D=6
for w in 1 2 3 4; do
  f=$TMPD/table_w$w.h5
  skew=""; [ $w -ge 3 ] && skew=skew
  run_mode $w "$T" write-table "$f" $N $D 42 $skew
  check "h5py reads the table written at np=$w (layout, values, UTF-8 strings, attributes)" \
    $ORACLE table "$f" $N $D 42
  for r in 1 2 3 4; do run_mode $r "$T" read-table "$f" $N $D 42; done
done
check "tables written at np=1..4 are identical" \
  $ORACLE same "$TMPD/table_w1.h5" "$TMPD/table_w2.h5" "$TMPD/table_w3.h5" "$TMPD/table_w4.h5"

# 3. Piecewise transfers: 64-byte pieces (one row per call, unequal call
#    counts per rank before the agreement).
run_mode 3 -x POPSEG_IO_CHUNK_BYTES=64 "$T" write-table "$TMPD/pieces.h5" 100 5 7
check "h5py reads the table written in 64-byte pieces" $ORACLE table "$TMPD/pieces.h5" 100 5 7
run_mode 4 -x POPSEG_IO_CHUNK_BYTES=64 "$T" read-table "$TMPD/pieces.h5" 100 5 7
run_mode 2 -x POPSEG_IO_CHUNK_BYTES=64 "$T" read-table "$TMPD/table_w4.h5" $N $D 42

# 4. Four ranks on a three-row file, and an empty table.
run_mode 4 "$T" write-table "$TMPD/three.h5" 3 4 9
check "h5py reads the 3-row table written at np=4" $ORACLE table "$TMPD/three.h5" 3 4 9
for r in 1 2 3 4; do run_mode $r "$T" read-table "$TMPD/three.h5" 3 4 9; done
run_mode 3 "$T" write-table "$TMPD/empty.h5" 0 4 9
check "h5py reads the empty table written at np=3" $ORACLE table "$TMPD/empty.h5" 0 4 9
run_mode 2 "$T" read-table "$TMPD/empty.h5" 0 4 9

# 5. A table written by h5py the way other programs do (float32 features,
#    big-endian ids, names filling their width, variable-length attributes).
$ORACLE make-foreign "$TMPD/foreign.h5" 61 5 21
for r in 1 2 3 4; do run_mode $r "$T" read-table "$TMPD/foreign.h5" 61 5 21 f32; done

# 6. Results and predictions files at np=1..4: documented layout checked by
#    h5py, model read back at another rank count, identical content.
for w in 1 2 3 4; do
  run_mode $w "$T" write-results "$TMPD/res_w$w.h5" 29 5
  check "h5py: results file written at np=$w has the documented layout and values" \
    $ORACLE results "$TMPD/res_w$w.h5" 29 5 $w
  run_mode $(( w % 4 + 1 )) "$T" read-results "$TMPD/res_w$w.h5" 29 5
  run_mode $w "$T" write-predictions "$TMPD/pred_w$w.h5" 29 5
  check "h5py: predictions file written at np=$w has the documented layout and values" \
    $ORACLE predictions "$TMPD/pred_w$w.h5" 29 5 $w
done
check "results files written at np=1..4 are identical (n_ranks aside)" \
  $ORACLE same "$TMPD/res_w1.h5" "$TMPD/res_w2.h5" "$TMPD/res_w3.h5" "$TMPD/res_w4.h5"
check "predictions files written at np=1..4 are identical (n_ranks aside)" \
  $ORACLE same "$TMPD/pred_w1.h5" "$TMPD/pred_w2.h5" "$TMPD/pred_w3.h5" "$TMPD/pred_w4.h5"

# 7. Malformed inputs: every case at every rank count must fail in time with
#    the right code and a message naming the file and the dataset.
$ORACLE make-bad "$TMPD/bad" 20 4 3 &&
  $ORACLE make-bad-models "$TMPD/res_w1.h5" "$TMPD/pred_w1.h5" 29 5 "$TMPD/bad" ||
  fail "oracle could not write the malformed files"
for np in 1 2 3 4; do run_mode $np "$T" error-list "$TMPD/bad/errors.tsv"; done
run_mode 3 "$T" read-results "$TMPD/bad/model_vlen.h5" 29 5

# 8. The oracles must notice a wrong file (one ulp, one name, one attribute).
"$PYTHON" - "$TMPD" <<'EOF'
import shutil, sys, h5py
d = sys.argv[1]
shutil.copy(f"{d}/table_w2.h5", f"{d}/mut_value.h5")
with h5py.File(f"{d}/mut_value.h5", "a") as f:
    f["features"][7, 2] = f["features"][7, 2] * (1 + 2 ** -52)
shutil.copy(f"{d}/table_w2.h5", f"{d}/mut_name.h5")
with h5py.File(f"{d}/mut_name.h5", "a") as f:
    f["rows/name"][4] = b"x"
shutil.copy(f"{d}/res_w1.h5", f"{d}/mut_attr.h5")
with h5py.File(f"{d}/mut_attr.h5", "a") as f:
    f["kmeans"].attrs["seed"] = 5
EOF
if $ORACLE table "$TMPD/mut_value.h5" $N $D 42 2>/dev/null; then fail "oracle missed a one-ulp change"
else pass "oracle rejects a table with one value changed by one ulp"; fi
if $ORACLE table "$TMPD/mut_name.h5" $N $D 42 2>/dev/null; then fail "oracle missed a changed name"
else pass "oracle rejects a table with one name changed"; fi
if $ORACLE same "$TMPD/res_w1.h5" "$TMPD/mut_attr.h5" 2>/dev/null; then fail "same missed an attribute"
else pass "oracle 'same' rejects a results file with one attribute changed"; fi
out=$(mpi 2 "$T" read-table "$TMPD/mut_value.h5" $N $D 42 2>/dev/null)
if printf '%s\n' "$out" | grep -q '^FAIL: '; then pass "read-table rejects a one-ulp change"
else fail "read-table missed a one-ulp change"; fi

finish
