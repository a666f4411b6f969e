#!/bin/sh
# The command line: every option of every stage's table is accepted where it
# applies, refused elsewhere, listed in --help, range-checked and defaulted
# from its row (test_opts); the help texts as a user sees them.
. tests/lib.sh
run_c_test 1 "$POPSEG_BIN/tests/test_opts"
# Open MPI's cm layer left out on one node (launch.h), unless a pml is given.
for np in 1 2; do run_c_test $np "$POPSEG_BIN/tests/test_launch"; done
(export OMPI_MCA_pml=ob1; run_c_test 2 "$POPSEG_BIN/tests/test_launch")
out=$(mpi 2 "$POPSEG" run data/acs2015_county_data.csv --kmeans-n-init 1 --verbose 2>&1)
check "one node: --verbose says OMPI_MCA_pml=^cm" sh -c "printf '%s\n' \"\$1\" | grep -c '^mpi     one node: OMPI_MCA_pml=^cm ' | grep -qx 1" sh "$out"
out=$(mpi 2 --mca pml ob1 "$POPSEG" run data/acs2015_county_data.csv --kmeans-n-init 1 --verbose 2>&1)
check "one node, --mca pml ob1: no pml set by popseg" sh -c "printf '%s\n' \"\$1\" | grep -q '^read ' && ! printf '%s\n' \"\$1\" | grep -q '^mpi '" sh "$out"
for c in import info run predict; do
  out=$("$POPSEG" "$c" --help 2>&1); rc=$?
  if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^usage: popseg $c " &&
     printf '%s\n' "$out" | grep -q '^example:' && printf '%s\n' "$out" | grep -q '^exit status:'; then
    pass "popseg $c --help: usage, options, example, exit statuses"
  else
    fail "popseg $c --help (exit $rc): $(printf '%s' "$out" | head -c 200)"
  fi
  long=$(printf '%s\n' "$out" | awk 'length > 100' | head -n 1)
  check "popseg $c --help fits in 100 columns" test -z "$long"
done
out=$("$POPSEG" --help); rc=$?
check "popseg --help lists the commands" sh -c "[ $rc -eq 0 ] && printf '%s\n' \"\$1\" | grep -q '^  predict '" sh "$out"
check "popseg help run is popseg run --help" sh -c "[ \"\$($POPSEG help run)\" = \"\$($POPSEG run --help)\" ]"
check "popseg --version" sh -c "$POPSEG --version | grep -q '^popseg [0-9]'"
# run with nothing to write says so, once
out=$(mpi 1 "$POPSEG" run data/acs2015_county_data.csv --kmeans-n-init 1 2>&1)
check "run without outputs says nothing is saved" sh -c "printf '%s\n' \"\$1\" | grep -c 'not saved' | grep -qx 1" sh "$out"
out=$(mpi 1 "$POPSEG" run data/acs2015_county_data.csv --kmeans-n-init 1 --csv "$TMPD/s.csv" --report "$TMPD/r.md" 2>&1)
check "the write line names every file written" sh -c "printf '%s\n' \"\$1\" | grep -q '^write   $TMPD/s.csv and $TMPD/r.md '" sh "$out"
check "plurals: 1 rank, 1 run" sh -c "printf '%s\n' \"\$1\" | grep -q 'on 1 rank ' && printf '%s\n' \"\$1\" | grep -q ', 1 run, '" sh "$out"
# an option that cannot take effect gets a note; two that contradict, an error
out=$(mpi 1 "$POPSEG" run data/acs2015_county_data.csv --kmeans-n-init 1 --kmeans-rounds 3 \
  --pca-block-size 16 --pca-solver lapack 2>&1)
check "notes for options without effect" sh -c "printf '%s\n' \"\$1\" | grep -q '^note    --kmeans-rounds has no effect without --kmeans-init kmeans-parallel' &&
  printf '%s\n' \"\$1\" | grep -q '^note    --pca-block-size has no effect with --pca-solver lapack'" sh "$out"
finish
