#!/bin/sh
# Reproducible: the same results file, byte for byte (timings, rank count and
# command line aside), at 1, 2, 3, 4, 5 and 7 ranks (1, 3 and 7 under ASan:
# RANKS_WIDE in tests/lib.sh), on the census and on a 1,000,003-row synthetic
# table, with minmax and standard scaling and with k-means|| seeding; and the
# exact sums against Python's exact arithmetic.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
$PYTHON tests/oracle/check_xsum.py "$POPSEG_BIN/tests/test_xsum" 1 2 3 4 || T_FAILED=1
for np in 1 3; do run_c_test $np "$POPSEG_BIN/tests/test_xsum"; done
# The group sums without AVX-512 (reduce.c's portable form), on any processor.
export POPSEG_NO_AVX512=1; run_c_test 2 "$POPSEG_BIN/tests/test_xsum"; unset POPSEG_NO_AVX512

runs() { # LABEL INPUT OPTIONS...: one run per rank count, then the comparison
  label=$1; in=$2; shift 2
  files=""
  for np in $RANKS_WIDE; do
    out="$TMPD/$label-np$np.h5"
    if ! mpi $np "$POPSEG" run "$in" -o "$out" --quiet "$@" 2>"$TMPD/err"; then
      fail "$label [np=$np]: $(tail -n 1 "$TMPD/err")"
    fi
    files="$files $out"
  done
  # shellcheck disable=SC2086
  $PYTHON tests/e2e/identical_results.py "$label" $files || T_FAILED=1
}
runs census-minmax $CSV
runs census-standard $CSV --scale standard
runs census-kmeans-parallel $CSV --kmeans-init kmeans-parallel
runs census-lloyd-scalapack $CSV --kmeans-algorithm lloyd --pca-solver scalapack
# A plain mpirun, without the OPENBLAS_NUM_THREADS=1 this suite exports (tests/lib.sh):
# OpenBLAS would size its thread pool by each rank's CPU mask, which mpirun's
# binding changes with the rank count (bound at 1 rank, not at 3 on this
# 2-core kind), and the eigensolver's last bits moved with it. popseg asks
# OpenBLAS for one thread itself (src/app/main.c): the same file at 1 and 3.
for np in 1 3; do
  env -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS -u GOTO_NUM_THREADS \
    timeout -k 5 300 mpirun --oversubscribe -np $np "$POPSEG" run $CSV -o "$TMPD/plain-np$np.h5" --quiet \
    2>"$TMPD/err" || fail "census, no BLAS thread count in the environment [np=$np]"
done
$PYTHON tests/e2e/identical_results.py "census, no BLAS thread count in the environment" \
  "$TMPD/plain-np1.h5" "$TMPD/plain-np3.h5" || T_FAILED=1
mpi 2 "$POPSEG" synth --rows 1000003 -o "$TMPD/synth.h5" --seed 3 --quiet || fail "synth 1,000,003 rows"
runs synth-minmax "$TMPD/synth.h5" --kmeans-n-init 2
runs synth-standard-parallel "$TMPD/synth.h5" --kmeans-n-init 2 --scale standard --kmeans-init kmeans-parallel
# Huge pages or not (mem.h): the same file.
POPSEG_HUGEPAGES=0 mpi 2 "$POPSEG" run "$TMPD/synth.h5" -o "$TMPD/synth-4k.h5" --quiet --kmeans-n-init 2 ||
  fail "synth-minmax with POPSEG_HUGEPAGES=0"
$PYTHON tests/e2e/identical_results.py synth-hugepages-off "$TMPD/synth-minmax-np1.h5" "$TMPD/synth-4k.h5" || T_FAILED=1
# Other k-means kernels against the default run, one environment switch at a
# time (other scores and bounds, so other distance counts, but the same fit):
# same_fit VAR TAG WHAT runs synth.h5 with VAR=1 into synth-TAG.h5 and
# compares the fit and the profile with the default's, byte for byte.
same_fit() {
  export "$1=1"
  mpi 2 "$POPSEG" run "$TMPD/synth.h5" -o "$TMPD/synth-$2.h5" --quiet --kmeans-n-init 2 ||
    fail "synth-minmax with $1=1"
  unset "$1"
  check "$3: the same labels, centroids, inertia, iterations and profile" "$PYTHON" -c "
import h5py
a = h5py.File('$TMPD/synth-minmax-np1.h5', 'r'); b = h5py.File('$TMPD/synth-$2.h5', 'r')
for k in ('kmeans/labels', 'kmeans/centroids', 'kmeans/run_inertia', 'kmeans/run_iterations', 'kmeans/distance', 'profile/mean', 'projection'):
    assert a[k][()].tobytes() == b[k][()].tobytes(), k
"
}
# The portable kernels (nearest centre, Hamerly's bounds step) against the
# default (AVX-512 or AVX2 where the processor has them).
same_fit POPSEG_KMEANS_PORTABLE portable "portable and vector kernels"
# The single-precision rows form (AVX-512 or AVX2) against the double forms alone.
same_fit POPSEG_KMEANS_NO_F32 nof32 "single- and double-precision rows forms"
# The AVX2 kernels (single-precision rows search, bounds step and store,
# distance fold): on an AVX-512 processor this is the one end-to-end run of
# the AVX2 forms; on an AVX2 one both runs take them.
same_fit POPSEG_KMEANS_NO_AVX512 avx2 "AVX2 and default kernels"
# k = 24: k-means++ draws 5 candidates a centre, scored in two groups of four
# from a block laid out as columns once (seed_kmeanspp), for one run alone and
# for 3 in lockstep; the portable kernels never lay out columns. Only the
# AVX-512 kernels read columns (ps_km_columns8): elsewhere the three runs take
# the same path, and this compares one run alone with runs in lockstep only.
for v in l1 l3 portable; do
  case $v in
  l1) a="--kmeans-lockstep 1" ;;
  *) a="--kmeans-lockstep 3" ;;
  esac
  if [ $v = portable ]; then export POPSEG_KMEANS_PORTABLE=1; fi
  mpi 2 "$POPSEG" run $CSV -o "$TMPD/k24-$v.h5" --quiet --k 24 --kmeans-n-init 3 $a 2>/dev/null ||
    fail "census k 24 ($v)"
  unset POPSEG_KMEANS_PORTABLE
done
check "k 24, one run alone, 3 in lockstep and the portable kernels: the same seeding and fit" "$PYTHON" -c "
import h5py
fs = [h5py.File('$TMPD/k24-%s.h5' % v, 'r') for v in ('l1', 'l3', 'portable')]
for k in ('kmeans/labels', 'kmeans/centroids', 'kmeans/run_inertia', 'kmeans/run_iterations', 'kmeans/distance'):
    for b in fs[1:]:
        assert fs[0][k][()].tobytes() == b[k][()].tobytes(), k
assert fs[0]['kmeans/centroids'].shape[0] == 24
"
# Pruned and plain Lloyd give the same file (but for the algorithm and its count).
mpi 2 "$POPSEG" run $CSV -o "$TMPD/lloyd.h5" --quiet --kmeans-algorithm lloyd 2>/dev/null
check "hamerly and lloyd: the same labels, centroids, inertia and iterations" "$PYTHON" -c "
import h5py
a = h5py.File('$TMPD/census-minmax-np1.h5', 'r'); b = h5py.File('$TMPD/lloyd.h5', 'r')
for k in ('kmeans/labels', 'kmeans/centroids', 'kmeans/run_inertia', 'kmeans/run_iterations', 'kmeans/distance', 'profile/mean'):
    assert a[k][()].tobytes() == b[k][()].tobytes(), k
assert a['kmeans'].attrs['distances'] < b['kmeans'].attrs['distances'] == b['kmeans'].attrs['distances_lloyd']
"
finish
