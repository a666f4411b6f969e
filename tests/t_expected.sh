#!/bin/sh
# Expected output (PETSc's way): the census run's stdout summary and report,
# and the 2017 prediction's, must equal the committed files in
# tests/expected/ at 1, 2, 3 and 4 ranks, once the parts that must vary are
# masked: timings, the rank count and the temporary directory.
# UPDATE_EXPECTED=1 sh tests/t_expected.sh rewrites the files from a 1-rank run
# (review the diff before committing it).
. tests/lib.sh
CSV=data/acs2015_county_data.csv
C17=data/acs2017_county_data.csv
EXP=tests/expected

# mask FILE: timings -> T, "N ranks" -> "R ranks", the test directory -> OUT.
mask() {
  sed -E -e "s|$TMPD/np[0-9]+|OUT|g" \
    -e 's/[0-9]+\.[0-9]+ s\b/T s/g' \
    -e 's/^\| (read|scale|pca|k-means|predict|write|input digest) \| [0-9]+\.[0-9]+ \|$/| \1 | T |/' \
    -e 's/on [0-9]+ ranks?/on R ranks/g' -e 's/^- MPI: [0-9]+ ranks?$/- MPI: R ranks/' "$1"
}

compare() {  # NAME GOT EXPECTED
  if [ -n "${UPDATE_EXPECTED:-}" ]; then cp "$2" "$3"; pass "$1: $3 rewritten"; return; fi
  if diff -u "$3" "$2" >"$TMPD/diff" 2>&1; then
    pass "$1"
  else
    fail "$1: differs from $3: $(head -n 12 "$TMPD/diff" | tail -n 8 | tr '\n' '|')"
  fi
}

ranks="1 2 3 4"
[ -n "${UPDATE_EXPECTED:-}" ] && ranks=1
for np in $ranks; do
  o=$TMPD/np$np
  mkdir -p "$o"
  if mpi $np "$POPSEG" run $CSV -o "$o/r.h5" --csv "$o/s.csv" --report "$o/r.md" >"$o/run.out" 2>"$o/run.err" &&
     mpi $np "$POPSEG" predict "$o/r.h5" $C17 -o "$o/p.h5" --report "$o/p.md" \
       --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen >"$o/pred.out" 2>"$o/pred.err"; then
    mask "$o/run.out" >"$o/run.masked"; mask "$o/r.md" >"$o/r.masked"
    mask "$o/pred.out" >"$o/pred.masked"; mask "$o/p.md" >"$o/p.masked"
    compare "census run: stdout as expected [np=$np]" "$o/run.masked" "$EXP/run_census.out"
    compare "census run: report.md as expected [np=$np]" "$o/r.masked" "$EXP/run_census.md"
    compare "2017 predict: stdout as expected [np=$np]" "$o/pred.masked" "$EXP/predict_2017.out"
    compare "2017 predict: report as expected [np=$np]" "$o/p.masked" "$EXP/predict_2017.md"
  else
    fail "census run and predict [np=$np]: $(tail -n 2 "$o/run.err" "$o/pred.err" | tr '\n' ' ')"
  fi
done
finish
