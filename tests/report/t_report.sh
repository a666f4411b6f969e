#!/bin/sh
# tests/report/t_report.sh - the HTML report in a real browser (make test-report):
# Debian's Chromium opens each report headless with the network off (a fresh
# network namespace when root can make one, else every host mapped to
# nowhere), and tests/report/check_dom.py asserts on the rendered DOM. A
# screenshot of each page is kept in $ARTIFACTS (build/test-report).
# POPSEG_BIN: the normal build; NOMAP_BIN: a build without the map's libraries.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
ART=${ARTIFACTS:-build/test-report}
mkdir -p "$ART"
D=$TMPD/report
mkdir -p "$D"
ATLAS=build/web/counties-10m.json
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then fail "chromium not installed (scripts/deps.sh report)"; finish; fi
if unshare -n true 2>/dev/null; then
  OFFLINE="unshare -n"; how="a network namespace with no interface"
else
  OFFLINE=""; how="--host-resolver-rules mapping every host to nowhere"
fi
echo "# browser: $($CHROME --version 2>/dev/null); network off: $how"

# render NAME HTML: DOM and console log into $D/NAME.{dom,log}, screenshot into $ART/NAME.png
render() {
  name=$1; page=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
  flags="--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --host-resolver-rules=MAP_*_~NOTFOUND --proxy-server=127.0.0.1:9 --virtual-time-budget=15000 \
    --user-data-dir=$D/profile-$name"
  # shellcheck disable=SC2086
  timeout -k 5 120 $OFFLINE "$CHROME" $flags --enable-logging=stderr --v=0 --dump-dom "file://$page" \
    >"$D/$name.dom" 2>"$D/$name.log" || fail "$name: chromium --dump-dom exited $?"
  # shellcheck disable=SC2086
  timeout -k 5 120 $OFFLINE "$CHROME" $flags --window-size=1240,3400 --screenshot="$ART/$name.png" \
    "file://$page" >/dev/null 2>&1 || fail "$name: chromium --screenshot exited $?"
  if [ -s "$ART/$name.png" ]; then pass "$name: screenshot $ART/$name.png"; else fail "$name: no screenshot"; fi
}
dom() { # NAME RESULTS [flags]: the DOM checks
  name=$1; res=$2; shift 2
  out=$("$PYTHON" tests/report/check_dom.py "$D/$name.dom" "$D/$name.log" "$res" "$ATLAS" "$@" 2>"$D/py.err"); rc=$?
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL): '
  [ $rc -eq 0 ] || { printf '%s\n' "$out" | grep -q '^FAIL: ' || fail "$name: check_dom.py exited $rc: $(tail -n 2 "$D/py.err" | tr '\n' ' ')"; }
}

mpi 2 "$POPSEG" run "$CSV" -o "$D/census.h5" --html "$D/census.html" --quiet || fail "census run"
render census "$D/census.html"
dom census "$D/census.h5"
mpi 2 "$POPSEG" run "$CSV" -o "$D/geo.h5" --weights TotalPop --share TotalPop=Men,Women,Citizen,Employed \
  --exclude-columns TotalPop --transform asinh --transform-columns Income,IncomeErr,IncomePerCap,IncomePerCapErr \
  --subsegments auto --quiet || fail "geo run"
mpi 2 "$POPSEG" report "$D/geo.h5" -o "$D/geo.html" --quiet || fail "geo report"
render geo "$D/geo.html"
dom geo "$D/geo.h5"
mpi 2 "$POPSEG" predict "$D/geo.h5" data/acs2017_county_data.csv -o "$D/pred2017.h5" --html "$D/pred2017.html" \
  --rename CountyId=CensusId --rename VotingAgeCitizen=Citizen --quiet || fail "predict 2017"
render pred2017 "$D/pred2017.html"
dom pred2017 "$D/pred2017.h5"
mpi 2 "$POPSEG" sweep "$CSV" --k 2..8 --kmeans-n-init 3 -o "$D/sweep.h5" --html "$D/sweep.html" --quiet ||
  fail "sweep"
render sweep "$D/sweep.html"
dom sweep "$D/sweep.h5"
# Not counties: synthetic rows (ids 0..n-1), more than the page draws.
mpi 2 "$POPSEG" synth --rows 30000 -o "$D/synth.h5" --seed 2 --quiet || fail "synth"
mpi 2 "$POPSEG" run "$D/synth.h5" -o "$D/synthr.h5" --html "$D/synth.html" --kmeans-n-init 2 --quiet ||
  fail "synth run"
render synth "$D/synth.html"
dom synth "$D/synthr.h5" --not-counties
# Built without npm's libraries: the page says what is missing; every chart stays.
if [ -n "${NOMAP_BIN:-}" ]; then
  mpi 2 "$NOMAP_BIN/popseg" report "$D/census.h5" -o "$D/nomap.html" --quiet || fail "no-map report"
  render nomap "$D/nomap.html"
  dom nomap "$D/census.h5" --no-map
fi
finish
