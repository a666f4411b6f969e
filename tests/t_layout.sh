#!/bin/sh
# The files popseg writes are what README says ("Files popseg writes"): the
# layout tables against written files, every group opened by xarray with named
# dimensions, and README's reading examples run as pasted.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
C17=data/acs2017_county_data.csv
if mpi 2 "$POPSEG" run $CSV -o "$TMPD/results.h5" --quiet 2>"$TMPD/e" &&
   mpi 2 "$POPSEG" import $CSV "$TMPD/table.h5" --quiet 2>>"$TMPD/e" &&
   mpi 2 "$POPSEG" predict "$TMPD/results.h5" $C17 -o "$TMPD/pred.h5" --quiet \
     --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen 2>>"$TMPD/e"; then
  pass "results, table and predictions written [np=2]"
else
  fail "writing the files: $(tail -n 3 "$TMPD/e" | tr '\n' ' ')"; finish
fi
# A population-weighted, transformed, sub-segmented fit and its predictions:
# the "only when" rows of the tables are there.
if mpi 2 "$POPSEG" run $CSV -o "$TMPD/geo.h5" --quiet --weights TotalPop \
     --share TotalPop=Men,Women,Citizen,Employed --exclude-columns TotalPop --transform asinh \
     --subsegments 2 2>"$TMPD/e" &&
   mpi 2 "$POPSEG" predict "$TMPD/geo.h5" $C17 -o "$TMPD/geopred.h5" --quiet \
     --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen 2>>"$TMPD/e"; then
  pass "weighted, transformed, sub-segmented results and predictions written [np=2]"
else
  fail "writing the geodemographic files: $(tail -n 3 "$TMPD/e" | tr '\n' ' ')"; finish
fi
$PYTHON tests/e2e/check_layout.py README.md results "$TMPD/results.h5" table "$TMPD/table.h5" \
  predictions "$TMPD/pred.h5" results "$TMPD/geo.h5" predictions "$TMPD/geopred.h5" || T_FAILED=1
$PYTHON tests/e2e/check_xarray.py "$TMPD/results.h5" "$TMPD/table.h5" "$TMPD/pred.h5" \
  "$TMPD/geo.h5" "$TMPD/geopred.h5" || T_FAILED=1
mkdir -p "$TMPD/readme" && cp "$TMPD/results.h5" "$TMPD/readme/results.h5"
$PYTHON tests/e2e/readme_examples.py README.md "$TMPD/readme" || T_FAILED=1
finish
