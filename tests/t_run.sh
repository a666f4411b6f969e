#!/bin/sh
# End to end: the census segmentation at 1-4 ranks, checked against scikit-learn,
# and the same results whatever the rank count or the input format.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
for np in 1 2 3 4; do
  out=$TMPD/np$np
  mkdir -p "$out"
  if mpi $np "$POPSEG" run $CSV -o "$out/r.h5" --csv "$out/s.csv" --report "$out/r.md" \
      >"$out/stdout" 2>"$out/stderr"; then
    pass "popseg run census [np=$np]"
  else
    fail "popseg run census [np=$np]: $(tail -n 2 "$out/stderr" | tr '\n' ' ')"
  fi
done
$PYTHON tests/e2e/check_run.py "$TMPD/np1/r.h5" "$TMPD/np1/s.csv" "$TMPD/np1/r.md" " [np=1]" || T_FAILED=1
$PYTHON tests/e2e/check_run.py "$TMPD/np3/r.h5" "$TMPD/np3/s.csv" "$TMPD/np3/r.md" " [np=3]" || T_FAILED=1
$PYTHON tests/e2e/same_results.py "$TMPD/np1/r.h5" "$TMPD/np2/r.h5" "$TMPD/np3/r.h5" "$TMPD/np4/r.h5" || T_FAILED=1
# The profiles' overall spread from the statistics stage (one pass) and from a
# pass of their own, against long double (tests/unit/test_profile.c).
for np in 1 2 3 4; do run_c_test "$np" "$POPSEG_BIN/tests/test_profile"; done
check "progress lines printed once, by rank 0 [np=4]" \
  test "$(grep -c '^read ' "$TMPD/np4/stdout")" -eq 1
check "stdout summary lists 8 segments" test "$(grep -cE '^ +[0-9]+: +[0-9]+ rows' "$TMPD/np1/stdout")" -eq 8
check "--quiet prints nothing on stdout" sh -c "mpirun --oversubscribe -np 2 $POPSEG run $CSV --quiet > $TMPD/q.out 2>&1 && ! test -s $TMPD/q.out"

# --kmeans-lockstep: restarts iterated L at a time give the results file, byte
# for byte, of restarts one after another (L = 1): the default (auto: 10 of
# the census's 100 restarts at a time) at RANKS (tests/lib.sh); plain Lloyd 3
# at a time (100 = 33 x 3 + 1); weighted rows, random seeding, 16 at a time
# (6 x 16 + 4); k-means|| 7 at a time; 7 restarts 3 at a time (3, 3, 1) and 5
# with auto (more than the restarts).
check "popseg run --help lists --kmeans-lockstep" sh -c "$POPSEG run --help | grep -q -- '--kmeans-lockstep L'"
for np in $RANKS; do
  mpi $np "$POPSEG" run $CSV -o "$TMPD/ls1_np$np.h5" --kmeans-lockstep 1 --quiet 2>"$TMPD/e" ||
    fail "run census --kmeans-lockstep 1 [np=$np]: $(tail -n 2 "$TMPD/e" | tr '\n' ' ')"
  $PYTHON tests/e2e/identical_results.py "--kmeans-lockstep 1 / default [np=$np]" "$TMPD/ls1_np$np.h5" \
    "$TMPD/np$np/r.h5" || T_FAILED=1
done
# lockstep NP NAME "OPTIONS" L...: the census with OPTIONS at --kmeans-lockstep
# 1 and each L, the same bytes.
lockstep() {
  ls_np=$1 ls_name=$2 ls_opts=$3; shift 3
  ls_files=""
  for l in 1 "$@"; do
    # shellcheck disable=SC2086
    mpi $ls_np "$POPSEG" run $CSV -o "$TMPD/ls_$ls_name$l.h5" $ls_opts --kmeans-lockstep $l --quiet \
      2>"$TMPD/e" ||
      fail "run census $ls_opts --kmeans-lockstep $l [np=$ls_np]: $(tail -n 2 "$TMPD/e" | tr '\n' ' ')"
    ls_files="$ls_files $TMPD/ls_$ls_name$l.h5"
  done
  # shellcheck disable=SC2086
  $PYTHON tests/e2e/identical_results.py "$ls_opts: --kmeans-lockstep $* / 1 [np=$ls_np]" $ls_files ||
    T_FAILED=1
}
lockstep 3 lloyd "--kmeans-algorithm lloyd" 3
lockstep 2 wrandom "--weights TotalPop --kmeans-init random" 16
lockstep 4 par "--kmeans-init kmeans-parallel" 7
lockstep 1 n7 "--kmeans-n-init 7" 3
lockstep 3 n5 "--kmeans-n-init 5 --kmeans-init random" auto

# import -> HDF5 -> run gives the same labels as running on the CSV.
if mpi 2 "$POPSEG" import $CSV "$TMPD/census.h5" >"$TMPD/imp.out" 2>&1; then pass "import census [np=2]"; else fail "import census [np=2]"; fi
check "import reports the dropped rows" grep -q "Kalawao" "$TMPD/imp.out"
check "popseg info census.h5" sh -c "$POPSEG info $TMPD/census.h5 > $TMPD/info.out && grep -q '3218 rows x 34 features' $TMPD/info.out && grep -q 'TotalPop' $TMPD/info.out"
mpi 3 "$POPSEG" run "$TMPD/census.h5" -o "$TMPD/fromh5.h5" --quiet 2>"$TMPD/e" || fail "run from HDF5 [np=3]"
$PYTHON tests/e2e/same_results.py "$TMPD/np1/r.h5" "$TMPD/fromh5.h5" || T_FAILED=1
# The piecewise I/O path (what keeps >2^31-element matrices within MPI's int counts),
# forced with tiny pieces, gives the same results file as the normal path.
mpi 3 -x POPSEG_IO_CHUNK_BYTES=4096 "$POPSEG" run "$TMPD/census.h5" -o "$TMPD/pieces.h5" --quiet \
  2>"$TMPD/e" || fail "run with 4 KiB I/O pieces [np=3]"
$PYTHON tests/e2e/same_results.py "$TMPD/fromh5.h5" "$TMPD/pieces.h5" || T_FAILED=1

# From an HDF5 table the projection releases the features and the profile and
# the report's key figures read them back (table.h): the same bytes as with them
# kept in memory (POPSEG_RELEASE_FEATURES=0), with 4 KiB pieces too (512-row
# windows, unequal counts per rank), at RANKS (tests/lib.sh). Kept for a CSV
# input and when the prep steps change them. A rank keeps the last rows that fit
# under its read's peak (pipeline.c, features_tail_bytes) and reads back only
# the others: none of the census's with 8 MiB windows, some with 512-row ones at
# 1 and 2 ranks (at 2 the windows mix memory and file across ranks; rank 0's
# budget fits 662 rows, so its one 512-row block, a narrow margin: a larger
# per-row budget fails this check rather than silently testing nothing). That
# run takes its restarts one at a time (--kmeans-lockstep 1): the default's 10
# at a time cost 108 bytes a row more, which leaves no 512-row block to keep.
for np in $RANKS; do
  mpi $np "$POPSEG" run "$TMPD/census.h5" -o "$TMPD/rel$np.h5" --verbose \
    >"$TMPD/rel$np.out" 2>"$TMPD/e" || fail "run from HDF5, features released [np=$np]"
  mpi $np -x POPSEG_RELEASE_FEATURES=0 "$POPSEG" run "$TMPD/census.h5" -o "$TMPD/kept$np.h5" \
    --verbose >"$TMPD/kept$np.out" 2>"$TMPD/e" ||
    fail "run from HDF5, features kept [np=$np]"
  mpi $np -x POPSEG_IO_CHUNK_BYTES=4096 "$POPSEG" run "$TMPD/census.h5" -o "$TMPD/relw$np.h5" \
    --kmeans-lockstep 1 --verbose >"$TMPD/relw$np.out" 2>"$TMPD/e" ||
    fail "run from HDF5, features released, 4 KiB pieces [np=$np]"
  $PYTHON tests/e2e/identical_results.py "features released / kept [np=$np]" "$TMPD/kept$np.h5" \
    "$TMPD/rel$np.h5" "$TMPD/relw$np.h5" || T_FAILED=1
  check "released: the profile says it read the features again [np=$np]" \
    grep -q '^\[rank 0\] profile .* (the features read again from the table)$' "$TMPD/rel$np.out"
  check "kept: the profile reads them from memory [np=$np]" \
    sh -c "grep -q '^\[rank 0\] profile ' '$TMPD/kept$np.out' && ! grep -q 'read again' '$TMPD/kept$np.out'"
  if [ $np -le 2 ]; then
    check "released, 512-row windows: rank 0 keeps a tail and reads the rest again [np=$np]" \
      grep -q '^\[rank 0\] profile .* (the features read again from the table but for the last [1-9][0-9]* of [0-9]* rows, kept)$' \
      "$TMPD/relw$np.out"
  fi
done
# What it is for: on 600,000 synthetic rows (78 MiB of features a rank at 2
# ranks) the peak stays at the read's instead of growing by the projection and
# k-means on top of the slice (by about 32 MiB), with the tail each rank keeps
# (at 2 and 3 ranks, 8 MiB windows).
# Under AddressSanitizer (make test-asan) its quarantine keeps freed blocks
# resident (256 MiB by default): a peak measured under it is the quarantine's,
# so the two runs whose peaks are compared turn it off (nothing else changes;
# every other run keeps it, and without ASan the option is never read).
NOQ="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
mpi 2 "$POPSEG" synth --rows 600000 -o "$TMPD/syn.h5" --quiet 2>"$TMPD/e" || fail "synth 600000 rows"
mpi 2 -x ASAN_OPTIONS="$NOQ" "$POPSEG" run "$TMPD/syn.h5" -o "$TMPD/synr.h5" --kmeans-n-init 1 --verbose \
  >"$TMPD/synr.out" 2>"$TMPD/e" || fail "run on 600000 rows, features released [np=2]"
mpi 2 -x ASAN_OPTIONS="$NOQ" -x POPSEG_RELEASE_FEATURES=0 "$POPSEG" run "$TMPD/syn.h5" -o "$TMPD/synk.h5" \
  --kmeans-n-init 1 --verbose >"$TMPD/synk.out" 2>"$TMPD/e" || fail "run on 600000 rows, features kept [np=2]"
mpi 3 "$POPSEG" run "$TMPD/syn.h5" -o "$TMPD/synr3.h5" --kmeans-n-init 1 --verbose >"$TMPD/synr3.out" 2>"$TMPD/e" ||
  fail "run on 600000 rows, features released [np=3]"
mpi 3 -x POPSEG_RELEASE_FEATURES=0 "$POPSEG" run "$TMPD/syn.h5" -o "$TMPD/synk3.h5" --kmeans-n-init 1 \
  --quiet 2>"$TMPD/e" || fail "run on 600000 rows, features kept [np=3]"
$PYTHON tests/e2e/identical_results.py "600000 rows, features released / kept [np=2]" "$TMPD/synk.h5" \
  "$TMPD/synr.h5" || T_FAILED=1
$PYTHON tests/e2e/identical_results.py "600000 rows, features released / kept [np=3]" "$TMPD/synk3.h5" \
  "$TMPD/synr3.h5" || T_FAILED=1
check "600000 rows: every rank keeps a tail [np=3]" \
  test "$(grep -c '^\[rank [0-2]\] profile .* but for the last [1-9][0-9]* of [0-9]* rows, kept)$' "$TMPD/synr3.out")" = 3
for r in 0 1; do
  check "600000 rows: rank $r keeps a tail of its features and reads the rest again [np=2]" \
    grep -q "^\[rank $r\] profile .* (the features read again from the table but for the last [1-9][0-9]* of [0-9]* rows, kept)$" \
    "$TMPD/synr.out"
done
check "released: the peak stays within 8 MiB of the read's; kept: it grows by 24 MiB or more [np=2]" $PYTHON -c "
import re, sys
def peak(f, stage):
    return max(int(v) for v in re.findall(r'^\[rank \d\] memory  after %s: peak resident (\d+) MiB' % stage,
                                          open(f).read(), re.M))
r, k = '$TMPD/synr.out', '$TMPD/synk.out'
print('  peaks (MiB): released read %d, write %d; kept read %d, write %d'
      % (peak(r, 'read'), peak(r, 'write'), peak(k, 'read'), peak(k, 'write')))
sys.exit(0 if peak(r, 'write') <= peak(r, 'read') + 8 and peak(k, 'write') >= peak(k, 'read') + 24 else 1)"
mpi 2 "$POPSEG" run $CSV -o "$TMPD/csvk.h5" --verbose >"$TMPD/csvk.out" 2>"$TMPD/e" ||
  fail "run from the CSV, verbose [np=2]"
check "from a CSV the features are kept (no file to read them from)" \
  sh -c "grep -q '^\[rank 0\] profile ' '$TMPD/csvk.out' && ! grep -q 'read again' '$TMPD/csvk.out'"
mpi 2 "$POPSEG" run "$TMPD/census.h5" -o "$TMPD/trk.h5" --transform log1p --verbose \
  >"$TMPD/trk.out" 2>"$TMPD/e" || fail "run from HDF5 with --transform log1p [np=2]"
check "with a transform the features are kept (they are not the file's)" \
  sh -c "grep -q '^\[rank 0\] profile ' '$TMPD/trk.out' && ! grep -q 'read again' '$TMPD/trk.out'"

# --kmeans-init-from: one Lloyd run from another results file's centroids
# (a fit stopped after 1 iteration), the labels scikit-learn's Lloyd reaches
# from the same centres on the same projection, at 1 and 3 ranks.
mpi 2 "$POPSEG" run $CSV -o "$TMPD/init1.h5" --kmeans-n-init 1 --kmeans-max-iter 1 --seed 5 --quiet \
  2>"$TMPD/e" || fail "a one-iteration fit [np=2]"
for np in 1 3; do
  mpi $np "$POPSEG" run $CSV -o "$TMPD/from$np.h5" --kmeans-init-from "$TMPD/init1.h5" \
    --kmeans-n-init 4 >"$TMPD/from$np.out" 2>"$TMPD/e" || fail "--kmeans-init-from [np=$np]"
  check "--kmeans-init-from: labels and centroids of scikit-learn's Lloyd from those centres [np=$np]" \
    "$PYTHON" -c "
import h5py, numpy as np
from sklearn.cluster import KMeans
a = h5py.File('$TMPD/from$np.h5', 'r'); c0 = h5py.File('$TMPD/init1.h5', 'r')['kmeans/centroids'][()]
Z = a['projection'][()]
km = KMeans(8, init=c0, n_init=1, algorithm='lloyd', tol=1e-4, max_iter=300).fit(Z)
assert (km.labels_ == a['kmeans/labels'][()]).all(), 'labels differ'
assert np.allclose(km.cluster_centers_, a['kmeans/centroids'][()], atol=1e-10)
at = a['kmeans'].attrs
assert at['n_init'] == 1 and at['init'] == b'given' and at['init_from'] == b'$TMPD/init1.h5', dict(at)
"
done
check "--kmeans-init-from: the progress names the file, one run" \
  grep -q "from the centroids of $TMPD/init1.h5, 1 run" "$TMPD/from1.out"
check "--kmeans-init-from: --kmeans-n-init gets a note" grep -q "^note .*--kmeans-n-init has no effect" "$TMPD/from1.out"
expect_error "--kmeans-init-from a missing file" "nosuch.h5: cannot open" 2 \
  run $CSV --kmeans-init-from "$TMPD/nosuch.h5"
expect_error "--kmeans-init-from with another k" "has 8 centroids, but k = 5 \(--kmeans-init-from\)" 2 \
  run $CSV --k 5 --kmeans-init-from "$TMPD/init1.h5"
expect_error "--kmeans-init-from over other components" "span 7 components, but this run keeps 3" 2 \
  run $CSV --pca-keep 3 --kmeans-init-from "$TMPD/init1.h5"
expect_error "--kmeans-init-from and --kmeans-init" "contradict each other" 1 \
  run $CSV --kmeans-init random --kmeans-init-from "$TMPD/init1.h5"
expect_error "--kmeans-init-from is never overwritten" "is --kmeans-init-from .* never writes over an input" 2 \
  run $CSV -o "$TMPD/init1.h5" --force --kmeans-init-from "$TMPD/init1.h5"
finish
