#!/bin/sh
# t_csv.sh - the CSV module: unit tests at 1-4 ranks, SHA-256 against
# sha256sum, and pandas cross-checks of the import and of the segments CSV.
. tests/lib.sh

T=$POPSEG_BIN/tests/test_csv

# Unit tests: parser/import/sha256 at np=1, the collective writer at 1-4 ranks.
for np in 1 2 3 4; do run_c_test "$np" "$T"; done

# SHA-256 against coreutils on padding-boundary lengths and the data files.
for n in 0 1 55 56 57 63 64 65 119 120 128 1000003; do
  head -c "$n" /dev/urandom >"$TMPD/r$n"
  want=$(sha256sum "$TMPD/r$n" | cut -d' ' -f1)
  got=$(mpi 1 "$T" --sha256 "$TMPD/r$n")
  if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "sha256 of $n random bytes matches sha256sum"
  else fail "sha256 of $n random bytes: got '$got', sha256sum '$want'"; fi
done
for f in data/acs2015_county_data.csv data/acs2017_county_data.csv; do
  want=$(sha256sum "$f" | cut -d' ' -f1)
  got=$(mpi 1 "$T" --sha256 "$f")
  if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "sha256 of $f matches sha256sum"
  else fail "sha256 of $f: got '$got', sha256sum '$want'"; fi
done

# The segments driver on the census file at several rank counts: pandas reads
# the input (dropna) and our output and compares rows, ids, names and values.
cat >"$TMPD/check.py" <<'EOF'
import sys
import pandas as pd
src, seg, k, id_col = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
renames = dict(a.split("=", 1) for a in sys.argv[5:])
d = pd.read_csv(src, float_precision="round_trip").rename(columns=renames).dropna()
s = pd.read_csv(seg, float_precision="round_trip", keep_default_na=False,
                dtype={"name": str})
feats = [c for c in d.columns if c not in (id_col, "State", "County")]
errs = []
if list(s.columns) != ["id", "name", "segment", "distance"] + [f"pc{j+1}" for j in range(k)]:
    errs.append(f"header {list(s.columns)}")
if len(s) != len(d):
    errs.append(f"{len(s)} rows, pandas dropna has {len(d)}")
else:
    if (s["id"].values != d[id_col].values).any(): errs.append("ids differ")
    names = (d["State"] + "-" + d["County"]).values
    if (s["name"].values != names).any(): errs.append("names differ")
    if (s["segment"].values != d[id_col].values % 7).any(): errs.append("segments differ")
    for j in range(k):
        if (s[f"pc{j+1}"].values != d[feats[j]].values.astype(float)).any():
            errs.append(f"pc{j+1} != {feats[j]}")
    if (s["distance"].values != [i / 4 for i in range(len(d))]).any():
        errs.append("distance differs")
print("; ".join(errs) if errs else f"ok {len(s)} rows")
sys.exit(1 if errs else 0)
EOF

census=data/acs2015_county_data.csv
for np in 1 3 4; do
  out="$TMPD/seg$np.csv"
  if mpi "$np" "$T" --segments "$census" "$out" 4 >"$TMPD/drv.out" 2>"$TMPD/drv.err"; then
    r=$("$PYTHON" "$TMPD/check.py" "$census" "$out" 4 CensusId 2>&1)
    if [ $? -eq 0 ]; then pass "pandas: census segments CSV at np=$np ($r)"
    else fail "pandas: census segments CSV at np=$np: $r"; fi
  else
    fail "segments driver on the census at np=$np: $(tail -n 2 "$TMPD/drv.err" | tr '\n' ' ')"
  fi
done
check "segments CSV bytes identical at np=1, 3 and 4" \
  sh -c "cmp -s '$TMPD/seg1.csv' '$TMPD/seg3.csv' && cmp -s '$TMPD/seg1.csv' '$TMPD/seg4.csv'"

# 2017 file with the renames that map it to the 2015 names.
out="$TMPD/seg17.csv"
if mpi 2 "$T" --segments data/acs2017_county_data.csv "$out" 3 CountyId=CensusId \
    VotingAgeCitizen=Citizen >"$TMPD/drv.out" 2>"$TMPD/drv.err"; then
  r=$("$PYTHON" "$TMPD/check.py" data/acs2017_county_data.csv "$out" 3 CensusId \
      CountyId=CensusId VotingAgeCitizen=Citizen 2>&1)
  if [ $? -eq 0 ]; then pass "pandas: 2017 census with --rename ($r)"
  else fail "pandas: 2017 census with --rename: $r"; fi
else
  fail "segments driver on the 2017 census: $(tail -n 2 "$TMPD/drv.err" | tr '\n' ' ')"
fi

# Tricky names (commas, quotes, LF and CRLF inside quotes, UTF-8) survive
# import and the RFC 4180 writer as pandas reads them.
fx=tests/data/csv/names.csv
out="$TMPD/names_seg.csv"
if mpi 3 "$T" --segments "$fx" "$out" 2 >"$TMPD/drv.out" 2>"$TMPD/drv.err"; then
  r=$("$PYTHON" - "$fx" "$out" <<'EOF' 2>&1
import sys
import pandas as pd
d = pd.read_csv(sys.argv[1], keep_default_na=False, dtype=str)
s = pd.read_csv(sys.argv[2], keep_default_na=False, dtype=str)
want = list(d["Name"] + "-" + d["Region"])
got = list(s["name"])
ok = (got == want and list(s["id"]) == list(d["id"])
      and list(s["pc1"].astype(float)) == list(d["x"].astype(float)))
print("ok" if ok else f"got {got!r} want {want!r}")
sys.exit(0 if ok else 1)
EOF
)
  if [ $? -eq 0 ]; then pass "pandas: names with commas, quotes, newlines and UTF-8 round-trip"
  else fail "pandas: tricky names: $r"; fi
else
  fail "segments driver on $fx: $(tail -n 2 "$TMPD/drv.err" | tr '\n' ' ')"
fi

finish
