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

# A table written to while its rows are read is refused by the read, before
# any stage runs, not after the run by the digest (which would say "changed
# while popseg ran"): a loop keeps setting its times for the whole run. A
# 400,000-row table (128 MB) keeps the read long enough for the loop to run
# during it whatever the scheduling.
BIG=$TMPD/big.h5
mpi 2 "$POPSEG" synth --rows 400000 -o "$BIG" --seed 4 --quiet 2>"$TMPD/e" ||
  fail "synth a 400,000-row table: $(tail -n 2 "$TMPD/e" | tr '\n' ' ')"
# The loop stops when its marker goes, its parent dies or after 300 s.
$PYTHON -c '
import os, sys, time
parent, end = os.getppid(), time.time() + 300
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]) and os.getppid() == parent and time.time() < end:
    os.utime(sys.argv[1])' "$BIG" "$TMPD/touching" &
toucher=$!
tries=0
while [ ! -e "$TMPD/touching" ] && [ $tries -lt 200 ]; do sleep 0.05; tries=$((tries + 1)); done
check "the loop that touches the table started" test -e "$TMPD/touching"
for np in 1 3; do
  EXPECT_NO_FILE=$TMPD/rb.h5 expect_error "a table touched while its rows are read is refused by the read, naming it [np=$np]" \
    "$BIG: changed while its rows were read \(its (modification|status-change) time differs from when it was opened\)" \
    $np run "$BIG" -o "$TMPD/rb.h5"
done
rm -f "$TMPD/touching"
wait $toucher
exit $T_FAILED
