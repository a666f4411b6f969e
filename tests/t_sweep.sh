#!/bin/sh
# t_sweep.sh - popseg sweep and run --k auto: the metrics against
# sklearn.metrics at 1-4 ranks (exact and sampled silhouette, the squared one,
# Calinski-Harabasz, Davies-Bouldin, the stability ARI), the same bytes at
# every rank count, the suggested k on blobs with a known number of clusters,
# --k auto, the default restarts' quality on the census, and bad ranges.
. tests/lib.sh

CSV=data/acs2015_county_data.csv
D=$TMPD/sw; mkdir -p "$D"
CHECK="$PYTHON tests/oracle/check_sweep.py"

# Census, k = 2..12, exact silhouette, at ranks $RANKS (tests/lib.sh); seed 1 for
# the ARI check.
for np in $RANKS; do
  if T_TIMEOUT=240 mpi $np "$POPSEG" sweep $CSV --k 2..12 -o "$D/c$np.h5" --csv "$D/c$np.csv" \
       --report "$D/c$np.md" --quiet 2>"$D/err"; then
    pass "sweep of the census, k = 2..12 [np=$np]"
  else
    fail "sweep of the census [np=$np]: $(tail -n 2 "$D/err" | tr '\n' ' ')"
  fi
done
T_TIMEOUT=240 mpi 2 "$POPSEG" sweep $CSV --k 2..12 --seed 1 -o "$D/c_seed1.h5" --quiet
for np in $RANKS; do
  $CHECK "$D/c$np.h5" "$D/c$np.csv" --other "$D/c_seed1.h5" --tag "census [np=$np]"
done
# shellcheck disable=SC2046 # per_rank's paths: mktemp's, no spaces
$PYTHON tests/e2e/identical_results.py "sweep census" $(per_rank "$D/c" .h5)
same_csv=1
for f in $(per_rank "$D/c" .csv); do cmp -s "$D/c1.csv" "$f" || same_csv=0; done
check "the sweep CSVs are the same bytes at ranks $RANKS" test $same_csv = 1
check "the sweep report marks the suggested k and states the rule" sh -c \
  "grep -q 'suggested\*\*' '$D/c3.md' && grep -q 'largest silhouette' '$D/c3.md'"

# The layout is README's (results of the suggested k + the sweep tables).
$PYTHON tests/e2e/check_layout.py README.md results+sweep "$D/c3.h5" || T_FAILED=1

# predict --model-k: any k of a sweep is a model.
T_TIMEOUT=120 mpi 2 "$POPSEG" predict "$D/c3.h5" data/acs2017_county_data.csv --model-k 5 \
  --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen -o "$D/p5.h5" --quiet
check "predict --model-k 5 applies /sweep/k5's centroids" "$PYTHON" -c "
import h5py, numpy as np
p = h5py.File('$D/p5.h5', 'r'); c = h5py.File('$D/c3.h5', 'r')
C = c['sweep/k5/centroids'][()]; Z = p['projection'][()]
near = ((Z[:, None, :] - C[None]) ** 2).sum(2).argmin(1)
lab = p['kmeans/labels'][()]
assert lab.max() == 4 and (lab == near).mean() > 0.999, (lab.max(), (lab == near).mean())
"
expect_error "predict --model-k outside the sweep's range" "sweep/k20" 2 predict "$D/c3.h5" \
  data/acs2017_county_data.csv --model-k 20 --rename CountyId=CensusId \
  --rename VotingAgeCitizen=Citizen -o "$D/p20.h5"

# The sampled silhouette: the same sample (and bytes) at 1 and 3 ranks.
for np in 1 3; do
  T_TIMEOUT=240 mpi $np "$POPSEG" sweep $CSV --k 3..6 --silhouette-max 1000 --sample 700 \
    -o "$D/s$np.h5" --quiet
  $CHECK "$D/s$np.h5" --tag "census, sampled silhouette [np=$np]"
done
$PYTHON tests/e2e/identical_results.py "sweep sampled" "$D/s1.h5" "$D/s3.h5"
$PYTHON tests/e2e/check_layout.py README.md results+sweep "$D/s1.h5" || T_FAILED=1

# Blobs with 5 well-separated clusters: the suggested k is 5 (sweep and --k auto).
"$PYTHON" - "$D/blobs.h5" <<'PY'
import sys
import h5py
import numpy as np
from sklearn.datasets import make_blobs
X, _ = make_blobs(n_samples=2500, centers=5, n_features=6, cluster_std=0.6, random_state=3)
n = X.shape[0]
S = lambda xs: np.array([x.encode() for x in xs], dtype="S16")
with h5py.File(sys.argv[1], "w") as f:
    f["features"] = X
    f["feature_names"] = S(["f%d" % j for j in range(X.shape[1])])
    f["rows/id"] = np.arange(n, dtype=np.int64)
    f["rows/name"] = S(["b%d" % i for i in range(n)])
PY
for np in 1 4; do
  T_TIMEOUT=240 mpi $np "$POPSEG" sweep "$D/blobs.h5" --k 2..9 --pca-keep 6 -o "$D/b$np.h5" \
    --csv "$D/b$np.csv" --quiet
  $CHECK "$D/b$np.h5" "$D/b$np.csv" --expect-k 5 --tag "blobs, 5 clusters [np=$np]"
done
T_TIMEOUT=240 mpi 2 "$POPSEG" run "$D/blobs.h5" --k auto --k-range 2..9 --pca-keep 6 \
  -o "$D/auto.h5" --quiet
check "run --k auto keeps the suggested k (5) and holds the sweep" "$PYTHON" -c "
import h5py, numpy as np
f = h5py.File('$D/auto.h5', 'r'); g = h5py.File('$D/b1.h5', 'r')
assert f['kmeans/centroids'].shape[0] == 5 and f.attrs['suggested_k'] == 5
assert np.array_equal(f['kmeans/labels'][()], g['sweep/k5/labels'][()])
assert np.array_equal(f['sweep/silhouette'][()], g['sweep/silhouette'][()])
"

# The default restarts (auto: 100 on the census) reach an inertia within 0.1%
# of the best scikit-learn finds over 300 restarts on the same projection.
T_TIMEOUT=240 mpi 2 "$POPSEG" run $CSV -o "$D/default.h5" --quiet
check "census defaults: inertia within 0.1% of scikit-learn's best of 300 restarts" "$PYTHON" -c "
import h5py
from sklearn.cluster import KMeans
f = h5py.File('$D/default.h5', 'r')
Z = f['projection'][()]; got = float(f['kmeans'].attrs['inertia'])
best = min(KMeans(8, n_init=1, random_state=s).fit(Z).inertia_ for s in range(300))
print('# census default inertia %.10g, scikit-learn best of 300 %.10g (%+.4f%%), %d restarts'
      % (got, best, 100 * (got / best - 1), f['kmeans'].attrs['n_init']))
assert got <= best * 1.001, (got, best)
"

# Bad ranges and contradictions: one error line, the documented status.
expect_error "sweep --k 5..3 (B < A)" "k range|--k" 2 sweep $CSV --k 5..3
expect_error "sweep --k 1..4 (k = 1 has no silhouette)" "--k" 2 sweep $CSV --k 1..4
expect_error "sweep --k 2..200 (more than 100 values of k)" "at most 100" 2 sweep $CSV --k 2..200
expect_error "run --k auto with --kmeans-init-from" "contradict" 2 run $CSV --k auto \
  --kmeans-init-from "$D/c1.h5"
finish
