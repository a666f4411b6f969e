#!/bin/sh
# Error paths of the popseg binary: every one exits non-zero within the time
# limit, prints one line naming the file/dataset/line/option, leaves no output.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
B=$TMPD/bad; mkdir -p "$B" "$TMPD/out"
$PYTHON tests/e2e/make_bad.py "$B"
OUT=$TMPD/out/r.h5
export EXPECT_NO_FILE=$OUT
for np in 1 3; do
  expect_error "missing input file [np=$np]" "nosuch.csv" $np run "$B/nosuch.csv" -o $OUT
  expect_error "text file named .h5 [np=$np]" "text.h5.*not an HDF5" $np run "$B/text.h5" -o $OUT
  expect_error "missing dataset /features [np=$np]" "nofeatures.h5.*/features" $np run "$B/nofeatures.h5" -o $OUT
  expect_error "wrong dataset rank [np=$np]" "rank3.h5.*/features" $np run "$B/rank3.h5" -o $OUT
  expect_error "ragged CSV names the line [np=$np]" "ragged.csv:3: ragged row" $np run "$B/ragged.csv" -o $OUT
  expect_error "non-numeric value names line and column [np=$np]" "nonnum.csv:4: column 3 \\('a'\\)" $np run "$B/nonnum.csv" -o $OUT
  expect_error "NaN in the data [np=$np]" "nan.h5.*a2.*NaN" $np run "$B/nan.h5" -o $OUT
  expect_error "Inf in the data [np=$np]" "inf.h5.*a1.*Inf" $np run "$B/inf.h5" -o $OUT
  expect_error "NaN in the last value [np=$np]" "nan_last.h5: feature 'a3' of row 20 \\('r19'\\) is NaN" $np run "$B/nan_last.h5" -o $OUT
  expect_error "-inf in the first value [np=$np]" "ninf_first.h5: feature 'a0' of row 1 \\('r0'\\) is Inf" $np run "$B/ninf_first.h5" -o $OUT
  expect_error "NaN in the data, sweep [np=$np]" "nan.h5: feature 'a2' of row 8 \\('r7'\\) is NaN" $np sweep "$B/nan.h5" -o $OUT
  expect_error "NaN in the data, with a transform [np=$np]" "nan.h5: feature 'a2' of row 8 \\('r7'\\) is NaN" $np run "$B/nan.h5" -o $OUT --transform asinh
  expect_error "finite values whose max - min overflows [np=$np]" "feature 'a2'.*max - min overflows" $np run "$B/huge.h5" -o $OUT
  expect_error "sums of --scale standard would overflow [np=$np]" "feature 'a0'.*overflow the sums of scaling 'standard' and PCA.*\\(--scale\\)" $np run "$B/wide.h5" -o $OUT --scale standard
  expect_error "sums of unscaled PCA would overflow [np=$np]" "feature 'a0'.*overflow the sums of scaling 'none' and PCA.*\\(--scale\\)" $np run "$B/wide.h5" -o $OUT --scale none
  expect_error "total variance of unscaled columns would overflow [np=$np]" "scaling 'none': the 400 features' total variance.*\\(--scale\\)" $np run "$B/manywide.h5" -o $OUT --scale none --k 2
  expect_error "a subnormal range cannot be min-max scaled [np=$np]" "feature 'a1'.*too small to divide by" $np run "$B/tiny.h5" -o $OUT
  expect_error "fewer than 2 rows [np=$np]" "2 rows" $np run "$B/one_row.h5" -o $OUT
  expect_error "--k 0 [np=$np]" "--k '0' must be an integer in \\[1, " $np run $CSV -o $OUT --k 0
  expect_error "--k larger than n [np=$np]" "k-means: k = 5000 is more than the 3218 rows to cluster \\(--k\\)" $np run $CSV -o $OUT --k 5000
  expect_error "--kmeans-n-init 0 [np=$np]" "--kmeans-n-init" $np run $CSV -o $OUT --kmeans-n-init 0
  expect_error "--kmeans-max-iter 0 [np=$np]" "--kmeans-max-iter" $np run $CSV -o $OUT --kmeans-max-iter 0
  expect_error "--kmeans-lockstep 0 [np=$np]" "--kmeans-lockstep '0' must be an integer in \\[1, 16\\]" $np run $CSV -o $OUT --kmeans-lockstep 0
  expect_error "--kmeans-lockstep 17 [np=$np]" "--kmeans-lockstep '17' must be an integer in \\[1, 16\\]" $np run $CSV -o $OUT --kmeans-lockstep 17
  expect_error "--kmeans-tol -1 [np=$np]" "--kmeans-tol" $np run $CSV -o $OUT --kmeans-tol -1
  expect_error "--pca-keep larger than fitted [np=$np]" "--pca-keep" $np run $CSV -o $OUT --pca-keep 40
  expect_error "--pca-variance 0 [np=$np]" "--pca-variance" $np run $CSV -o $OUT --pca-variance 0
  expect_error "--pca-variance 1.5 [np=$np]" "--pca-variance" $np run $CSV -o $OUT --pca-variance 1.5
  expect_error "unknown option [np=$np]" "--frobnicate" $np run $CSV -o $OUT --frobnicate
  expect_error "bad number [np=$np]" "--seed" $np run $CSV -o $OUT --seed 12abc
  expect_error "output directory missing [np=$np]" "nodir" $np run $CSV -o "$TMPD/nodir/r.h5"
  expect_error "--max-memory too small names the ranks needed [np=$np]" "use at least" $np run $CSV -o $OUT --max-memory 0.016
done
# A FIFO (or `<(zcat ...)`): the input is read more than once (its first bytes
# to tell a table from a CSV), so a pipe is refused, naming it, not parsed
# without its first bytes. No writer is started: the check must not open it.
mkfifo "$TMPD/pipe.csv"
for np in 1 3; do
  EXPECT_NO_FILE=$OUT expect_error "a FIFO input is refused, naming it [np=$np]" \
    "$TMPD/pipe.csv: not a regular file \(a pipe or a device\)" $np run "$TMPD/pipe.csv" -o $OUT
done
expect_error "32001 features: the covariance does not fit [np=2]" "widest.h5: 32001 features need .* GiB per rank for the covariance" 2 run "$B/widest.h5" -o $OUT --k 2 --max-memory 8
expect_error "32001 features: above the LAPACK size limit [np=2]" "32001 features is more than popseg can solve" 2 run "$B/widest.h5" -o $OUT --k 2 --max-memory 1000

# A failure on one rank only (injected with POPSEG_FAULT=SITE:RANK): a local
# HDF5 set-up failure is agreed on and reported; a collective HDF5 create or
# MPI-IO open that fails on one rank only ends the job. Never a hang, never a
# file (results, CSV, report, or a temporary) left behind.
rm -f "$TMPD"/out/*.h5 "$TMPD"/out/*.csv "$TMPD"/out/*.md
for f in h5-setup:1 h5-setup:0 h5-create:2 h5-create:0 mpiio-open:1; do
  # A set-up failure is agreed on (an ordinary error); a split outcome of a
  # collective call must take the abort path, which says so.
  case $f in h5-setup:*) pat="injected\)\$" ;; *) pat="\(injected\) \(.* failed on some ranks only, first rank ${f#*:}; ending the job" ;; esac
  POPSEG_FAULT=$f expect_error "one-rank failure $f: one line, no hang [np=3]" "$pat" 3 \
    run $CSV -o $OUT --csv "$TMPD/out/s.csv" --report "$TMPD/out/r.md" --quiet
  check "one-rank failure $f: no output or temporary file left" \
    sh -c "! ls -a '$TMPD/out' | grep -q -E 'tmp-|r\.h5|s\.csv|r\.md'"
done
POPSEG_FAULT=h5-create:1 expect_error "one-rank failure in import names the rank [np=2]" \
  "H5Dcreate failed on some ranks only, first rank 1" 2 import $CSV "$TMPD/out/i.h5"
check "one-rank failure in import: nothing left" sh -c "! ls -a '$TMPD/out' | grep -q -E 'tmp-|i\.h5'"

# Ranks that do not see the same files (node-local directory, another working
# directory): rank 0 has the input and the output directory, ranks 1-2 do not.
WA=$TMPD/wa; WB=$TMPD/wb; mkdir -p "$WA/out" "$WB"
mpi 1 "$POPSEG" import $CSV "$WA/tab.h5" --quiet >/dev/null 2>&1
split_wdir() {  # NAME PATTERN ARGS...: rank 0 runs in $WA, ranks 1-2 in $WB
  name=$1; pat=$2; shift 2
  exe=$(readlink -f "$POPSEG")  # -wdir changes the directory a relative path means
  timeout -k 5 60 mpirun --oversubscribe -np 1 -wdir "$WA" "$exe" "$@" : \
    -np 2 -wdir "$WB" "$exe" "$@" >"$TMPD/.sw_out" 2>"$TMPD/.sw_err"; rc=$?
  if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $rc -eq 137 ] || [ $rc -gt 9 ]; then
    fail "$name: exit status $rc (want a popseg error code, no hang)"
  elif ! grep -q -E -- "$pat" "$TMPD/.sw_err" || [ "$(grep -c '^popseg: error' "$TMPD/.sw_err")" -ne 1 ]; then
    fail "$name: stderr lacks one /$pat/ line: $(head -c 300 "$TMPD/.sw_err" | tr '\n' ' ')"
  elif ls -a "$WA/out" "$WB" | grep -q -E 'tmp-|\.h5|\.csv'; then
    fail "$name: a file was left behind"
  else
    pass "$name"
  fi
}
split_wdir "input readable on rank 0 only" "tab.h5: rank 1 cannot read it" run tab.h5 -o "$WA/out/r.h5"
split_wdir "output directory on rank 0 only" "out/r.h5: rank 1 cannot write to directory 'out'" \
  run "$WA/tab.h5" -o out/r.h5
split_wdir "CSV output directory on rank 0 only" "out/s.csv: rank 1 cannot write" \
  run "$WA/tab.h5" -o "$WA/out/r.h5" --csv out/s.csv

# A node-local output directory: it exists on every "node" but is not shared.
# Ranks 1-2 run in their own mount namespace where $NL/out is another
# directory (a bind mount). Before the probe this hung in the collective open.
NL=$TMPD/nl; mkdir -p "$NL/out" "$NL/local"
cat >"$NL/wrap.sh" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "$NL/local" "$NL/out" && exec "\$@"' sh "\$@"
EOF
chmod +x "$NL/wrap.sh"
if "$NL/wrap.sh" true; then
  exe=$(readlink -f "$POPSEG")
  for out in "-o $NL/out/r.h5" "-o $WA/out/r.h5 --csv $NL/out/s.csv"; do
    # shellcheck disable=SC2086
    timeout -k 5 60 mpirun --oversubscribe -np 1 "$exe" run "$WA/tab.h5" $out --quiet : \
      -np 2 "$NL/wrap.sh" "$exe" run "$WA/tab.h5" $out --quiet >"$TMPD/.nl_out" 2>"$TMPD/.nl_err"; rc=$?
    if [ $rc -ne 2 ]; then fail "node-local output ($out): exit status $rc, want 2"
    elif ! grep -q "rank 1 does not see the file rank 0 created there" "$TMPD/.nl_err"; then
      fail "node-local output ($out): message: $(head -c 300 "$TMPD/.nl_err" | tr '\n' ' ')"
    elif ls -a "$NL/out" "$NL/local" "$WA/out" | grep -q -E 'tmp-|\.h5|\.csv'; then
      fail "node-local output ($out): a file was left behind"
    else pass "node-local output directory ($out): one-line error naming it, nothing left"; fi
  done
else
  fail "node-local output: cannot make a mount namespace (unshare -m) to simulate it"
fi
# A real MPI error (ps_reduce_* pass MPI an invalid count on every rank):
# popseg's communicators return errors, so it is PS_ERR_MPI, exit status 7.
rm -f "$TMPD"/out/*
for np in 1 3; do
  POPSEG_FAULT='mpi-count:*' T_TIMEOUT=60 mpi $np "$POPSEG" run $CSV -o $OUT --csv "$TMPD/out/s.csv" \
    >"$TMPD/mpi.out" 2>"$TMPD/mpi.err"; rc=$?
  if [ $rc -eq 7 ] && [ "$(grep -c '^popseg: error: MPI call failed: MPI_Allreduce: MPI_ERR_COUNT' "$TMPD/mpi.err")" -eq 1 ] &&
     ! ls -a "$TMPD/out" | grep -q -E 'tmp-|r\.h5|s\.csv'; then
    pass "an MPI error is PS_ERR_MPI: exit status 7, one line naming the call, no file [np=$np]"
  else
    fail "an MPI error [np=$np]: exit status $rc (want 7): $(head -c 300 "$TMPD/mpi.err" | tr '\n' ' ')"
  fi
done
EXPECT_NO_FILE=
# The same wide column is fine with minmax: only the range matters there.
T_TIMEOUT=60 mpi 2 "$POPSEG" run "$B/wide.h5" -o "$TMPD/out/wide.h5" --k 3 --quiet >/dev/null 2>"$TMPD/wide.err"
check "a column of +-1e160 segments with --scale minmax" test -s "$TMPD/out/wide.h5"
# ... and gives the PCA and segments of the same column at unit magnitude, as
# does one at 1e-300 (whose squares underflow unless summed in units).
T_TIMEOUT=60 mpi 2 "$POPSEG" run "$B/wide_ref.h5" -o "$TMPD/out/wide_ref.h5" --k 3 --quiet >/dev/null 2>&1
T_TIMEOUT=60 mpi 2 "$POPSEG" run "$B/small.h5" -o "$TMPD/out/small.h5" --k 3 --quiet >/dev/null 2>&1
for m in wide small; do
  check "a column of ${m} magnitude: the same PCA and segments as at unit magnitude" "$PYTHON" -c "
import h5py, numpy as np, sys
a = h5py.File('$TMPD/out/$m.h5', 'r'); b = h5py.File('$TMPD/out/wide_ref.h5', 'r')
for k in ('pca/explained_variance_ratio', 'pca/explained_variance'):
    assert np.allclose(a[k][()], b[k][()], rtol=1e-9, atol=1e-12), (k, a[k][()], b[k][()])
# The tables agree up to rounding, so k-means may name the same segments in
# another order: the same partition, one label mapped to one label.
la, lb = a['kmeans/labels'][()], b['kmeans/labels'][()]
pairs = set(zip(la.tolist(), lb.tolist()))
assert len(pairs) == len(set(la.tolist())) == len(set(lb.tolist())), pairs
"
done
expect_error "two outputs naming the same file" "--csv and --report name the same file" 2 \
  run $CSV -o $OUT --csv "$TMPD/out/same.txt" --report "$TMPD/out/./same.txt"
check "nothing written for the same-file case" sh -c "! ls -a $TMPD/out | grep -q same"
expect_error "every bad option reported in one line" "--k '0'.*--scale 'foo'.*--pca-solver 'bar'" 1 \
  run $CSV --k 0 --scale foo --pca-solver bar
expect_error "import does not take -o" "--output does not apply to import" 1 import $CSV "$TMPD/out/i.h5" -o "$TMPD/out/j.h5"
# An unwritable directory: root may write anywhere on a normal file system, so use /proc.
expect_error "output directory not writable" "/proc" 2 run $CSV -o /proc/popseg-r.h5
printf 'keep me\n' >"$TMPD/out/exists.h5"
sum_before=$(sha256sum <"$TMPD/out/exists.h5")
expect_error "existing output without --force" "exists.h5.*--force" 2 run $CSV -o "$TMPD/out/exists.h5"
check "existing output left untouched (same bytes)" test "$(sha256sum <"$TMPD/out/exists.h5")" = "$sum_before"
check "no temporary files left in the output directory" sh -c "! ls -a $TMPD/out | grep -q tmp"
finish
