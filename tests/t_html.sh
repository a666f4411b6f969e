#!/bin/sh
# t_html.sh - the HTML report without a browser (tests/report/ has the browser
# test, make test-report): the page's JSON against the results file through
# the escaper (county names with quotes, </script>, non-ASCII letters, a tab),
# self-contained, the same page at 1 and 3 ranks and from `popseg report`,
# sweep and predictions pages, a sampled big file, and the errors.
. tests/lib.sh

CSV=data/acs2015_county_data.csv
D=$TMPD/html
mkdir -p "$D/np1" "$D/np3"
CH="$PYTHON tests/report/check_html.py"
ROOT=$(pwd)
run_c_test 1 "$POPSEG_BIN/tests/test_json"

check_py() { # NAME CMD...: a python checker's PASS/FAIL lines; a crash is one failure
  name=$1; shift
  out=$("$@" 2>"$TMPD/py.err"); rc=$?
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL): '
  if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL: '; then
    fail "$name: exited $rc: $(tail -n 2 "$TMPD/py.err" | tr '\n' ' ')"
  fi
}

# County names no escaper should get wrong.
"$PYTHON" - "$CSV" "$D/tricky.csv" <<'PYEOF'
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1]).dropna().iloc[:400].copy()
odd = ['O"Brien', '</script><script>alert(1)</script>', 'Do\u00f1a Ana', 'Back\\slash',
       'Tab\there', 'A & B <c>', '\u2028line', 'Bayam\u00f3n']
for i, name in enumerate(odd):
    df.iloc[i * 7, df.columns.get_loc("County")] = name
df.to_csv(sys.argv[2], index=False)
PYEOF

for np in 1 3; do
  (cd "$D/np$np" && T_TIMEOUT=120 mpi "$np" "$ROOT/$POPSEG" run "$D/tricky.csv" -o r.h5 \
    --html r.html --quiet >run.log 2>&1) || fail "run --html [np=$np]: $(tail -n 2 "$D/np$np/run.log")"
done
check_py "tricky names" $CH data "$D/np1/r.html" "$D/np1/r.h5"
check_py "static" $CH static "$D/np1/r.html"
check "the same page at 1 and 3 ranks" cmp -s "$D/np1/r.html" "$D/np3/r.html"
(cd "$D/np1" && mpi 2 "$ROOT/$POPSEG" report r.h5 -o r2.html --quiet) || fail "popseg report"
"$PYTHON" - "$D/np1/r.html" "$D/np1/r2.html" <<'PYEOF' && pass "popseg report: the same data as run --html" || fail "popseg report: other data than run --html"
import re, sys
get = lambda p: re.search(r'id="popseg-data"[^>]*>(.*?)</script>', open(p, encoding="utf-8").read(), re.S).group(1)
sys.exit(get(sys.argv[1]) != get(sys.argv[2]))
PYEOF

# --html without -o: the results it draws go to a scratch file, removed.
mpi 2 "$POPSEG" run "$CSV" --html "$D/only.html" --quiet || fail "run --html without -o"
check "run --html without -o: the page" test -s "$D/only.html"
if ls -a "$D" | grep -q -e 'only.html.results' -e '\.tmp-'; then fail "run --html without -o: scratch left: $(ls -a "$D")"
else pass "run --html without -o: no scratch or temporary file left"; fi

# Weighted, sub-segmented fit and its 2017 predictions.
mpi 2 "$POPSEG" run "$CSV" -o "$D/geo.h5" --html "$D/geo.html" --weights TotalPop \
  --share TotalPop=Men,Women,Citizen,Employed --exclude-columns TotalPop --subsegments 2 --quiet ||
  fail "geo run --html"
check_py "geo" $CH data "$D/geo.html" "$D/geo.h5"
mpi 2 "$POPSEG" predict "$D/geo.h5" data/acs2017_county_data.csv -o "$D/p17.h5" --html "$D/p17.html" \
  --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen --quiet || fail "predict --html"
check_py "predictions" $CH data "$D/p17.html" "$D/p17.h5"
check_py "predictions static" $CH static "$D/p17.html"
mpi 2 "$POPSEG" sweep "$CSV" --k 2..6 --kmeans-n-init 3 -o "$D/sw.h5" --html "$D/sw.html" --quiet ||
  fail "sweep --html"
check_py "sweep" $CH data "$D/sw.html" "$D/sw.h5"

# A file of more rows than the page draws: every stride-th row, sizes over all.
mpi 2 "$POPSEG" synth --rows 45000 -o "$D/big.h5" --seed 5 --quiet || fail "synth"
mpi 2 "$POPSEG" run "$D/big.h5" -o "$D/bigr.h5" --kmeans-n-init 2 --quiet || fail "run big"
mpi 3 "$POPSEG" report "$D/bigr.h5" -o "$D/big.html" --quiet || fail "report big"
check_py "big" $CH data "$D/big.html" "$D/bigr.h5"

# Errors: one line, a documented status, nothing left, no input touched.
sum0=$(sha256sum "$D/np1/r.h5")
EXPECT_NO_FILE=$D/e.html
export EXPECT_NO_FILE
expect_error "report of a CSV" "acs2015_county_data.csv" 2 report "$CSV" -o "$D/e.html"
mpi 1 "$POPSEG" import "$D/tricky.csv" "$D/table.h5" --quiet || fail "import"
expect_error "report of a table file" "table.h5.*(results or predictions)" 2 report "$D/table.h5" -o "$D/e.html"
expect_error "report without -o" "-o report.html" 2 report "$D/np1/r.h5"
unset EXPECT_NO_FILE
expect_error "report -o naming its input" "r.h5" 2 report "$D/np1/r.h5" -o "$D/np1/r.h5"
check "report -o naming its input: the input unchanged" test "$(sha256sum "$D/np1/r.h5")" = "$sum0"
expect_error "report onto an existing file without --force" "r2.html" 2 report "$D/np1/r.h5" -o "$D/np1/r2.html"
check "--force overwrites" mpi 2 "$POPSEG" report "$D/np1/r.h5" -o "$D/np1/r2.html" --force --quiet
expect_error "--html naming the input" "tricky.csv" 2 run "$D/tricky.csv" --html "$D/tricky.csv"
check "--html naming the input: the input unchanged" test -s "$D/tricky.csv"
finish
