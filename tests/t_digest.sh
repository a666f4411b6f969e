#!/bin/sh
# The input's digest (include/popseg/sha256.h) against coreutils and Python's
# hashlib: each 4 MiB block's sha256, one hex line each, and the sha256 of the
# lines. popseg computes it with every rank hashing its share of the blocks,
# so it is checked at each rank count, on a table of several blocks, on the
# census CSV, and as the results file records it.
. tests/lib.sh
CSV=data/acs2015_county_data.csv
TAB=$TMPD/t.h5
# coreutils: split's chunks through sha256sum, the hex of each, then sha256sum.
cu_digest() { split -b 4M --filter='sha256sum | cut -c1-64' "$1" | sha256sum | cut -c1-64; }
py_digest() {
  $PYTHON -c '
import hashlib, sys
lines = b""
with open(sys.argv[1], "rb") as f:
    while True:
        b = f.read(4 << 20)
        if not b:
            break
        lines += hashlib.sha256(b).hexdigest().encode() + b"\n"
print(hashlib.sha256(lines).hexdigest())' "$1"
}
attr() {
  $PYTHON -c 'import h5py, sys; a = h5py.File(sys.argv[1], "r").attrs[sys.argv[2]]; print(a.decode() if isinstance(a, bytes) else a)' "$1" "$2"
}

# 80,000 rows: 25.6 MB, six whole blocks and a short one (the whole ones
# hashed four and two at a time, or one, as the ranks share them).
mpi 2 "$POPSEG" synth --rows 80000 -o "$TAB" --seed 3 --quiet 2>"$TMPD/e" ||
  fail "synth an 80,000-row table: $(tail -n 2 "$TMPD/e" | tr '\n' ' ')"
check "the table spans at least five whole 4 MiB blocks and a short one" \
  test "$(($(wc -c <"$TAB") / 4194304))" -ge 5 -a "$(($(wc -c <"$TAB") % 4194304))" -gt 0
for f in "$TAB" "$CSV"; do
  cu=$(cu_digest "$f")
  py=$(py_digest "$f")
  check "coreutils and hashlib agree on $(basename "$f")'s digest ($(($(wc -c <"$f") / 1048576 + 1)) MiB)" \
    test -n "$cu" -a "$cu" = "$py"
  for np in $RANKS; do
    got=$(mpi $np "$POPSEG" info "$f" 2>"$TMPD/e" | sed -n 's/^digest: //p')
    check "popseg info $(basename "$f") [np=$np]: digest = coreutils' ($got)" test "$got" = "$cu"
  done
done
# What the results record: the HDF5 table's digest, and the CSV's digest and
# sha256 (sha256sum) as the input and its source.
mpi 3 "$POPSEG" run "$TAB" -o "$TMPD/rt.h5" --quiet 2>"$TMPD/e" ||
  fail "run on the table [np=3]: $(tail -n 2 "$TMPD/e" | tr '\n' ' ')"
check "results of the table [np=3]: input_digest = coreutils'" \
  test "$(attr "$TMPD/rt.h5" input_digest)" = "$(cu_digest "$TAB")"
mpi 2 "$POPSEG" run "$CSV" -o "$TMPD/rc.h5" --quiet 2>"$TMPD/e" ||
  fail "run on the census [np=2]: $(tail -n 2 "$TMPD/e" | tr '\n' ' ')"
check "results of the census [np=2]: input_digest = coreutils'" \
  test "$(attr "$TMPD/rc.h5" input_digest)" = "$(cu_digest "$CSV")"
check "results of the census [np=2]: source_sha256 = sha256sum" \
  test "$(attr "$TMPD/rc.h5" source_sha256)" = "$(sha256sum "$CSV" | cut -c1-64)"
exit $T_FAILED
