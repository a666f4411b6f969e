#!/bin/sh
# The bad-input matrix (tests/e2e/badinput.py): CSV and HDF5 files that are
# empty, truncated, ragged, badly encoded or of the wrong shape or type,
# numbers in every odd spelling, every numeric option just out of its range
# (from the option tables: test_opts --list-bad), unknown, repeated and
# contradicting options, outputs naming inputs. Each case at 1 and 3 ranks: a
# one-line message naming the problem and the documented exit status (or a
# clear result), no file left, inputs byte-identical afterwards.
. tests/lib.sh
"$POPSEG_BIN/tests/test_opts" --list-bad >"$TMPD/badopts.tsv" 2>/dev/null || fail "test_opts --list-bad"
if n=$($PYTHON tests/e2e/badinput.py "$TMPD" data/acs2015_county_data.csv data/acs2017_county_data.csv \
    "$TMPD/badopts.tsv"); then
  pass "bad-input matrix: $n cases written"
else
  fail "bad-input matrix: generator failed"; finish
fi
$PYTHON tests/e2e/badinput_run.py "$TMPD" "$POPSEG" 1 3 || T_FAILED=1
finish
