#!/bin/sh
# CSV -> HDF5 -> distributed read, at 1-4 ranks, including more ranks than rows.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
for np in 1 2 3 4; do
  if mpi $np "$POPSEG" import $CSV "$TMPD/c$np.h5" --quiet 2>"$TMPD/e"; then pass "import census [np=$np]"
  else fail "import census [np=$np]: $(cat "$TMPD/e")"; fi
  $PYTHON tests/e2e/check_import.py $CSV "$TMPD/c$np.h5" " [np=$np]" || T_FAILED=1
done
# popseg info reads the file distributed: the same answer at every rank count.
"$POPSEG" info "$TMPD/c1.h5" >"$TMPD/info1" 2>&1
for np in 2 3 4; do
  mpi $np "$POPSEG" info "$TMPD/c1.h5" >"$TMPD/info$np" 2>&1
  check "info identical at np=$np" cmp -s "$TMPD/info1" "$TMPD/info$np"
done
check "info names a non-ASCII county byte for byte" sh -c "mpirun --oversubscribe -np 3 $POPSEG info $TMPD/c1.h5 | grep -q 'Alabama-Autauga'"

# Tables written before 2026-12-07 store /features in chunks: they still read,
# with the same results as the contiguous table of the same values.
if h5repack -l /features:CHUNK=500x34 "$TMPD/c1.h5" "$TMPD/chunked.h5" 2>"$TMPD/e"; then
  check "a chunked /features (an older table) is chunked" $PYTHON -c "
import h5py, sys
sys.exit(0 if h5py.File('$TMPD/chunked.h5')['features'].chunks == (500, 34) else 1)"
  for np in 1 3; do
    if mpi $np "$POPSEG" run "$TMPD/c1.h5" --csv "$TMPD/contig$np.csv" --quiet 2>"$TMPD/e1" &&
      mpi $np "$POPSEG" run "$TMPD/chunked.h5" --csv "$TMPD/chunked$np.csv" --quiet 2>"$TMPD/e2"; then
      check "chunked and contiguous tables: the same segments CSV [np=$np]" cmp -s "$TMPD/contig$np.csv" "$TMPD/chunked$np.csv"
    else
      fail "chunked and contiguous tables [np=$np]: a run failed: $(cat "$TMPD/e1" "$TMPD/e2" 2>/dev/null | head -n 2 | tr '\n' '|')"
    fi
  done
else
  fail "h5repack a chunked copy: $(cat "$TMPD/e")"
fi

# A 3-row file at 4 ranks: one rank holds nothing and still takes part.
printf 'id,name,x,y\n1,"Doña Ana",1.5,2\n2,"Bayamón, PR",3,4.25\n3,"say ""hi""",5,6\n' >"$TMPD/three.csv"
mpi 4 "$POPSEG" import "$TMPD/three.csv" "$TMPD/three.h5" --quiet || fail "import 3 rows [np=4]"
check "3-row file read at 4 ranks: values, ids, names" $PYTHON -c "
import h5py, numpy as np, sys
f = h5py.File('$TMPD/three.h5')
ok = np.array_equal(f['features'][:], [[1.5, 2], [3, 4.25], [5, 6]]) and list(f['rows/id'][:]) == [1, 2, 3]
ok = ok and [s.decode() for s in f['rows/name'][:]] == ['Doña Ana', 'Bayamón, PR', 'say \"hi\"']
sys.exit(0 if ok else 1)"
for np in 1 2 3 4; do
  if mpi $np "$POPSEG" run "$TMPD/three.h5" --k 2 --kmeans-n-init 1 -o "$TMPD/three_r$np.h5" --csv "$TMPD/three_s$np.csv" --quiet 2>"$TMPD/e"; then
    pass "run on a 3-row file [np=$np]"
  else fail "run on a 3-row file [np=$np]: $(cat "$TMPD/e")"; fi
done
for np in 2 3 4; do
  check "3-row results at np=$np = np=1 (labels exact, values to 1e-12)" $PYTHON -c "
import pandas as pd, numpy as np, sys
a, b = pd.read_csv('$TMPD/three_s1.csv'), pd.read_csv('$TMPD/three_s$np.csv')
ok = list(a.columns) == list(b.columns) and a['segment'].equals(b['segment']) and list(a['name']) == list(b['name'])
ok = ok and np.allclose(a[['distance', 'pc1']].values, b[['distance', 'pc1']].values, rtol=1e-12, atol=1e-14)
sys.exit(0 if ok else 1)"
done
finish
