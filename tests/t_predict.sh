#!/bin/sh
# popseg predict: the training data gives back the fitted labels; the 2017 data
# (renamed columns) is labelled like numpy applying the stored model, at 1-4 ranks.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
C17=data/acs2017_county_data.csv
REN="--rename CountyId=CensusId --rename VotingAgeCitizen=Citizen"
mpi 2 "$POPSEG" run $CSV -o "$TMPD/fit.h5" --quiet || fail "fit for predict"
for np in 1 2 3 4; do
  if mpi $np "$POPSEG" predict "$TMPD/fit.h5" $C17 -o "$TMPD/p17_$np.h5" --csv "$TMPD/p17_$np.csv" \
      --report "$TMPD/p17_$np.md" $REN >"$TMPD/p17_$np.out" 2>"$TMPD/p17_$np.err"; then
    pass "predict 2017 [np=$np]"
  else
    fail "predict 2017 [np=$np]: $(tail -n 2 "$TMPD/p17_$np.err" | tr '\n' ' ')"
  fi
done
mpi 3 "$POPSEG" predict "$TMPD/fit.h5" $CSV -o "$TMPD/train.h5" --quiet || fail "predict training data [np=3]"
$PYTHON tests/e2e/check_predict.py "$TMPD/fit.h5" "$TMPD/train.h5" "$TMPD/p17_1.h5" "$TMPD/p17_1.csv" "$TMPD/p17_1.md" || T_FAILED=1
for np in 2 3 4; do
  check "predictions at np=$np identical to np=1" $PYTHON -c "
import h5py, numpy as np, sys
a, b = h5py.File('$TMPD/p17_1.h5'), h5py.File('$TMPD/p17_$np.h5')
sys.exit(0 if np.array_equal(a['kmeans/labels'][:], b['kmeans/labels'][:]) and np.allclose(a['projection'][:], b['projection'][:], rtol=0, atol=1e-12) else 1)"
done
check "predict prints the changed count" grep -q "changed segment" "$TMPD/p17_1.out"
EXPECT_NO_FILE=$TMPD/bad.h5
export EXPECT_NO_FILE
expect_error "feature mismatch names missing and extra columns" "missing: Citizen.*extra: VotingAgeCitizen" 2 \
  predict "$TMPD/fit.h5" $C17 -o "$TMPD/bad.h5" --id-column CountyId
expect_error "model file missing" "nomodel.h5" 2 predict "$TMPD/nomodel.h5" $C17 -o "$TMPD/bad.h5" $REN
mpi 1 "$POPSEG" import $CSV "$TMPD/census_in.h5" --quiet || fail "import for the no-model case"
expect_error "model file without a model" "census_in.h5.*/scale" 2 predict "$TMPD/census_in.h5" $C17 -o "$TMPD/bad.h5" $REN
# New data whose features repeat a name: refused, naming it (never reordered wrongly).
$PYTHON - "$TMPD/dup.h5" <<'PY'
import sys, h5py, numpy as np
names = "TotalPop Men Women Hispanic White Black Native Asian Pacific Citizen Income IncomeErr IncomePerCap IncomePerCapErr Poverty ChildPoverty Professional Service Office Construction Production Drive Carpool Transit Walk OtherTransp WorkAtHome MeanCommute Employed PrivateWork PublicWork SelfEmployed FamilyWork Unemployment".split()
names.append("Men")
with h5py.File(sys.argv[1], "w") as f:
    f["features"] = np.ones((5, len(names)))
    f["feature_names"] = np.array([n.encode() for n in names], dtype="S16")
    f["rows/id"] = np.arange(5, dtype=np.int64)
    f["rows/name"] = np.array([b"r%d" % i for i in range(5)], dtype="S4")
PY
expect_error "predict: a repeated feature name is refused" "dup.h5: feature 'Men' appears twice" 2 \
  predict "$TMPD/fit.h5" "$TMPD/dup.h5" -o "$TMPD/bad.h5"
finish
