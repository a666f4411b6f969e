#!/bin/sh
# t_geo.sh - the geodemographic options (--weights, --share, --exclude-columns,
# --transform, --subsegments, index scores, tracking by predict) against numpy,
# scikit-learn and pandas (tests/oracle/check_geo.py), at 1, 2, 3 and 4 ranks
# (1 and 3 under ASan: RANKS, tests/lib.sh), and their errors.
. tests/lib.sh

CSV=data/acs2015_county_data.csv
CSV17=data/acs2017_county_data.csv
D=$TMPD/geo
mkdir -p "$D"
GEO="$PYTHON tests/oracle/check_geo.py"
SHARE="--share TotalPop=Men,Women,Citizen,Employed"
TCOLS="Income,IncomeErr,IncomePerCap,IncomePerCapErr"

# oracle NAME CMD...: run a check_geo.py command, pass its PASS/FAIL lines
# through; a crash with no FAIL line is one failure.
oracle() {
  name=$1; shift
  out=$($GEO "$@" 2>"$TMPD/geo.err"); rc=$?
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL): '
  if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL: '; then
    fail "$name: check_geo.py exited $rc: $(tail -n 3 "$TMPD/geo.err" | tr '\n' ' ')"
  fi
  [ $rc -eq 0 ] || T_FAILED=1
}

# fit NAME NP OUT ARGS...: a popseg run that must succeed.
fit() {
  name=$1; np=$2; out=$3; shift 3
  if mpi "$np" "$POPSEG" run "$CSV" -o "$out" "$@" >"$out.log" 2>&1; then
    pass "$name [np=$np]: exit 0"
  else
    fail "$name [np=$np]: exit $?: $(tail -n 2 "$out.log" | tr '\n' ' ')"
  fi
}

# same LABEL FILES...: every dataset and attribute identical across rank counts
# (timings, rank count and command line aside); one PASS/FAIL line per file.
same() {
  "$PYTHON" tests/e2e/identical_results.py "$@" || T_FAILED=1
}

# The unweighted fit whose centroids start the weighted k-means (as sklearn's init=).
fit "unweighted census, 7 components" 2 "$D/u.h5" --pca-keep 7 --quiet
oracle "unweighted index" index "$D/u.h5" "$CSV"

# Weighted by TotalPop (a feature still): PCA vs numpy weighted covariance + eigh,
# k-means vs KMeans(sample_weight=TotalPop) from the same centres, index scores.
for np in $RANKS; do
  fit "weighted census" "$np" "$D/w$np.h5" --weights TotalPop --pca-keep 7 \
    --kmeans-init-from "$D/u.h5" --kmeans-tol 0 --quiet
done
# shellcheck disable=SC2046 # per_rank's paths: mktemp's, no spaces
same "weighted census" $(per_rank "$D/w" .h5)
oracle "weighted PCA" pca "$D/w1.h5" "$CSV" --weights TotalPop
for np in 1 3; do oracle "weighted k-means" kmeans "$D/w$np.h5" "$D/u.h5" TotalPop; done
oracle "weighted index" index "$D/w1.h5" "$CSV" --weights TotalPop

# Integer weights are rows repeated that many times.
$GEO make-repeat "$CSV" "$D/rep_w.csv" "$D/rep_r.csv" || fail "make-repeat failed"
mpi 2 "$POPSEG" run "$D/rep_r.csv" -o "$D/rep_init.h5" --pca-keep 3 --k 5 --quiet >/dev/null 2>&1 ||
  fail "repeated rows: initial fit failed"
for np in 1 4; do
  mpi "$np" "$POPSEG" run "$D/rep_w.csv" -o "$D/rep_w$np.h5" --weights Rep --exclude-columns Rep \
    --pca-keep 3 --k 5 --kmeans-init-from "$D/rep_init.h5" --kmeans-tol 0 --quiet >/dev/null 2>&1 ||
    fail "integer weights [np=$np]: fit failed"
  mpi "$np" "$POPSEG" run "$D/rep_r.csv" -o "$D/rep_r$np.h5" --exclude-columns Rep \
    --pca-keep 3 --k 5 --kmeans-init-from "$D/rep_init.h5" --kmeans-tol 0 --quiet >/dev/null 2>&1 ||
    fail "repeated rows [np=$np]: fit failed"
  oracle "integer weights [np=$np]" repeat "$D/rep_w$np.h5" "$D/rep_r$np.h5" "$D/rep_r.csv"
done

# Transforms applied before MinMaxScaler + PCA(svd_solver="full").
fit "asinh, every feature" 3 "$D/asinh.h5" --transform asinh --pca-keep 7 --quiet
oracle "asinh" pca "$D/asinh.h5" "$CSV" --transform asinh
fit "log1p, three features, one excluded" 2 "$D/log1p.h5" --transform log1p \
  --transform-columns TotalPop,Income,IncomePerCap --exclude-columns Women --pca-keep 7 --quiet
oracle "log1p" pca "$D/log1p.h5" "$CSV" --transform log1p \
  --transform-columns TotalPop,Income,IncomePerCap --exclude-columns Women
oracle "log1p index (original units)" index "$D/log1p.h5" "$CSV" --exclude-columns Women

# The README's population-weighted run: shares, exclusion, weights, asinh, sub-segments.
for np in $RANKS; do
  fit "geodemographic census" "$np" "$D/g$np.h5" --weights TotalPop $SHARE \
    --exclude-columns TotalPop --transform asinh --transform-columns "$TCOLS" \
    --subsegments auto --quiet
done
# shellcheck disable=SC2046
same "geodemographic census" $(per_rank "$D/g" .h5)
GPREP="--weights TotalPop $SHARE --exclude-columns TotalPop --transform asinh --transform-columns $TCOLS"
oracle "geo PCA" pca "$D/g1.h5" "$CSV" $GPREP
oracle "geo index" index "$D/g1.h5" "$CSV" $GPREP
oracle "geo sub-segments" sub "$D/g1.h5"
fit "three sub-segments each" 2 "$D/s3.h5" --subsegments 3 --quiet
oracle "three sub-segments" sub "$D/s3.h5"
oracle "three sub-segments index" index "$D/s3.h5" "$CSV"

# predict on the training data reproduces both levels; on 2017 it tracks.
for np in 1 3; do
  mpi "$np" "$POPSEG" predict "$D/g1.h5" "$CSV" -o "$D/self$np.h5" --quiet >/dev/null 2>&1 ||
    fail "predict on the training data [np=$np]: failed"
  oracle "self-predict [np=$np]" selfpredict "$D/self$np.h5" "$D/g1.h5"
done
for np in $RANKS; do
  mpi "$np" "$POPSEG" predict "$D/g1.h5" "$CSV17" -o "$D/p17_$np.h5" --rename CountyId=CensusId \
    --rename VotingAgeCitizen=Citizen --quiet >/dev/null 2>&1 || fail "predict 2017 [np=$np]: failed"
done
# shellcheck disable=SC2046
same "2017 predictions" $(per_rank "$D/p17_" .h5)
oracle "2017 tracking" track "$D/p17_1.h5" "$D/g1.h5" "$CSV17" --rename CountyId=CensusId \
  --rename VotingAgeCitizen=Citizen $GPREP

# Errors: one line naming the column, row or feature; no output left.
"$PYTHON" - "$CSV" "$D" <<'EOF'
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1]).dropna().head(300).copy()
d = sys.argv[2]
a = df.copy(); a.loc[a.index[17], "TotalPop"] = -5; a.to_csv(f"{d}/negw.csv", index=False)
a = df.copy(); a["Zero"] = 0; a.to_csv(f"{d}/zerow.csv", index=False)
a = df.copy(); a.loc[a.index[40], "TotalPop"] = 0; a.to_csv(f"{d}/zerobase.csv", index=False)
a = df.copy(); a.loc[a.index[9], "Income"] = -1; a.to_csv(f"{d}/neginc.csv", index=False)
EOF
for np in 1 3; do
  EXPECT_NO_FILE=$D/e.h5
  export EXPECT_NO_FILE
  expect_error "negative weight [np=$np]" "TotalPop.*(negative|>= 0)|(negative|>= 0).*TotalPop" "$np" \
    run "$D/negw.csv" -o "$D/e.h5" --weights TotalPop
  expect_error "all-zero weights [np=$np]" "Zero" "$np" run "$D/zerow.csv" -o "$D/e.h5" --weights Zero
  expect_error "unknown weight column [np=$np]" "Nope" "$np" run "$CSV" -o "$D/e.h5" --weights Nope
  expect_error "unknown excluded column [np=$np]" "Nope" "$np" run "$CSV" -o "$D/e.h5" \
    --exclude-columns Men,Nope
  expect_error "unknown transformed column [np=$np]" "Nope" "$np" run "$CSV" -o "$D/e.h5" \
    --transform log1p --transform-columns Nope
  expect_error "zero share base [np=$np]" "TotalPop.*(row|line)|(row|line).*TotalPop" "$np" \
    run "$D/zerobase.csv" -o "$D/e.h5" --share TotalPop=Men
  expect_error "log1p of a negative value [np=$np]" "Income" "$np" \
    run "$D/neginc.csv" -o "$D/e.h5" --transform log1p
done
unset EXPECT_NO_FILE

# Documented exit codes: 1 for a bad option, 3 for bad data.
T_TIMEOUT=60 mpi 2 "$POPSEG" run "$CSV" -o "$D/e.h5" --weights Nope >/dev/null 2>&1
rc=$?; [ $rc -eq 1 ] && pass "unknown weight column exits 1" || fail "unknown weight column exits $rc, not 1"
T_TIMEOUT=60 mpi 2 "$POPSEG" run "$D/negw.csv" -o "$D/e.h5" --weights TotalPop >/dev/null 2>&1
rc=$?; [ $rc -eq 3 ] && pass "negative weight exits 3" || fail "negative weight exits $rc, not 3"
T_TIMEOUT=60 mpi 2 "$POPSEG" run "$D/zerobase.csv" -o "$D/e.h5" --share TotalPop=Men >/dev/null 2>&1
rc=$?; [ $rc -eq 3 ] && pass "zero share base exits 3" || fail "zero share base exits $rc, not 3"
finish
