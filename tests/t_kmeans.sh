#!/bin/sh
# t_kmeans.sh - distributed k-means: the rng, self-contained unit checks at 1-4
# ranks, scikit-learn oracle comparisons at 1-4 ranks, rank-count invariance of
# every init, quality on the census projection, and k-means|| vs k-means++.
. tests/lib.sh

T=$POPSEG_BIN/tests/test_kmeans
D=$TMPD/km

# kmeans_test NP ARGS...: like run_c_test, with arguments for the binary.
kmeans_test() {
  np=$1; shift
  out=$(mpi "$np" "$T" "$@" 2>"$TMPD/stderr.km"); rc=$?
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL): '
  printf '%s\n' "$out" | grep -E '^# ' >>"$TMPD/notes"
  if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL: '; then
    fail "test_kmeans $1 [np=$np] exited $rc: $(tail -n 3 "$TMPD/stderr.km" | tr '\n' ' ')"
  fi
  [ $rc -eq 0 ] || T_FAILED=1
}

run_c_test 1 "$POPSEG_BIN/tests/test_rng"
# Per-row arrays on huge pages (mem.h), and with the advice turned off.
run_c_test 1 "$POPSEG_BIN/tests/test_mem"
export POPSEG_HUGEPAGES=0; run_c_test 1 "$POPSEG_BIN/tests/test_mem"; unset POPSEG_HUGEPAGES
for np in 1 2 3; do run_c_test $np "$POPSEG_BIN/tests/test_sha256"; done
for np in 1 2 3 4; do run_c_test "$np" "$T"; done
# The portable and the AVX2 kernels (the default picks AVX-512 where the
# processor has it): the same unit checks.
export POPSEG_KMEANS_PORTABLE=1; run_c_test 1 "$T"; unset POPSEG_KMEANS_PORTABLE
POPSEG_KMEANS_NO_AVX512=1 run_c_test 1 "$T"
# The centre-lanes form alone (the rows forms hand it their near ties):
# AVX-512's (AVX2's where the processor has no AVX-512), then AVX2's.
export POPSEG_KMEANS_NO_ROWS=1; run_c_test 1 "$T"
POPSEG_KMEANS_NO_AVX512=1 run_c_test 1 "$T"; unset POPSEG_KMEANS_NO_ROWS
# No single-precision rows form: AVX-512's rows form in double (by default
# the single-precision one searches first and hands it the tails of sixteen
# rows), and AVX2's centre lanes.
export POPSEG_KMEANS_NO_F32=1; run_c_test 1 "$T"
POPSEG_KMEANS_NO_AVX512=1 run_c_test 1 "$T"; unset POPSEG_KMEANS_NO_F32
# The stored bounds eight rows at a time wherever AVX-512 runs, four wherever
# AVX2 does (by default only on AMD processors: kmeans_nearest.h), and one
# row at a time.
export POPSEG_KMEANS_BOUNDS8=1; run_c_test 1 "$T"
POPSEG_KMEANS_NO_AVX512=1 run_c_test 1 "$T"
export POPSEG_KMEANS_BOUNDS8=0; run_c_test 1 "$T"; unset POPSEG_KMEANS_BOUNDS8

# scikit-learn's answers and the data sets (census projection, overlapping blobs, mixture).
if "$PYTHON" tests/oracle/kmeans_oracle.py data/acs2015_county_data.csv "$D" --big \
    >"$TMPD/oracle.log" 2>&1; then
  v=$("$PYTHON" -c 'import sklearn; print(sklearn.__version__)')
  pass "k-means oracle data written by scikit-learn $v"
else
  fail "k-means oracle failed: $(tail -n 3 "$TMPD/oracle.log" | tr '\n' ' ')"
fi

# Lloyd from scikit-learn's initial centres: labels, centroids, inertia, iterations.
CASES="census_k8 census_k5_it3 census_k12_tol0 census_k6_loose blobs_k6 blobs2_k4"
CASES="$CASES empty_it1 empty_full"
for np in 1 2 3 4; do kmeans_test "$np" oracle "$D" $CASES; done

# Rank-count invariance: every init, same seed, labels identical and inertia
# equal to 1e-12 relative at 1, 2, 3 and 4 ranks.
for np in 1 2 3 4; do
  kmeans_test "$np" dump "$D" census 8 3 7 "$D/dump.census.np$np"
  kmeans_test "$np" dump "$D" blobs 6 2 12345 "$D/dump.blobs.np$np"
done
cat >"$TMPD/same.py" <<'EOF'
import sys
import numpy as np
def read(p):
    with open(p, "rb") as f:
        r, c = np.frombuffer(f.read(16), "<i8")
        return np.frombuffer(f.read(), "<f8").reshape(r, c)[:, 0]
ref = read(sys.argv[1])
n = ref.size - 3
for p in sys.argv[2:]:
    a = read(p)
    if a.size != ref.size:
        sys.exit(f"{p}: {a.size - 3} labels, {sys.argv[1]} has {n}")
    diff = int((a[:n] != ref[:n]).sum())
    rel = abs(a[n] - ref[n]) / abs(ref[n])
    if diff or rel > 1e-12 or a[n + 1] != ref[n + 1]:
        sys.exit(f"{p} vs {sys.argv[1]}: {diff} labels differ, inertia rel diff {rel:.3g}, "
                 f"best run {a[n + 1]:.0f} vs {ref[n + 1]:.0f}")
print(f"{n} labels identical, inertia {ref[n]:.12g}")
EOF
for data in census blobs; do
  for init in kmeans++ kmeans-parallel random; do
    f1="$D/dump.$data.np1.$init"
    if msg=$("$PYTHON" "$TMPD/same.py" "$f1" "$D/dump.$data.np2.$init" "$D/dump.$data.np3.$init" \
        "$D/dump.$data.np4.$init" 2>&1); then
      pass "$data $init: same result at 1, 2, 3, 4 ranks ($msg)"
    else
      fail "$data $init: rank count changed the result: $(printf '%s' "$msg" | tail -n 1)"
    fi
  done
done
# The seed must matter (otherwise the invariance above proves little).
if "$PYTHON" "$TMPD/same.py" "$D/dump.census.np1.kmeans++" "$D/dump.census.np1.random" \
    >/dev/null 2>&1; then
  fail "census: kmeans++ and random init gave identical results"
else
  pass "census: kmeans++ and random init differ"
fi

# Quality: defaults (k=8, n_init=10, kmeans++) vs scikit-learn's best of 100.
kmeans_test 2 quality "$D"
kmeans_test 3 quality "$D"

# k-means|| vs k-means++ on 200,000 x 10, k = 50, one run each, two seeds.
kmeans_test 2 parallel "$D" 50 1 0
kmeans_test 2 parallel "$D" 50 1 1

sed 's/^/  /' "$TMPD/oracle.log"
[ -f "$TMPD/notes" ] && sed 's/^/  /' "$TMPD/notes"
finish
