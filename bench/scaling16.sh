#!/bin/sh
# bench/scaling16.sh [ROWS] [OUTDIR]: strong scaling at 1, 2, 4, 8 and 16 ranks on
# one 16-core node (default 16,000,000 rows x 34, about 4.4 GB of features), for
# the machines that have the cores: the 2-core CI kind cannot say anything about
# scaling past 2. One prepared script, so a short loan of such a machine is
# enough: build, synth once, then per rank count an end-to-end run and a short
# and a long Lloyd fit from the same centres (the per-iteration time is their
# difference). Prints one table and writes OUTDIR/scaling16.md; keeps no results
# file (each run's times and a digest of its labels and centroids go to
# OUTDIR/records.txt as it ends).
# Needs: popseg built here (make) or the bundle of bench/bundle.sh, and a
# python3 with h5py and numpy; about 5 minutes on 16 cores.
#
# Where mpirun is missing (the lent 16-core machines run an image with no MPI,
# HDF5 or ScaLAPACK, and nothing to install them from), the script unpacks
# POPSEG_BUNDLE (default bench/bundle/popseg-bundle.tar.xz, made here by
# bench/bundle.sh and carried along) and runs popseg and mpirun from it.
set -eu
cd "$(dirname "$0")/.."
ROWS=${1:-16000000}
OUT=${2:-bench/out/scaling16}
BIN=${POPSEG_BIN:-bin}
BUNDLE=${POPSEG_BUNDLE:-bench/bundle/popseg-bundle.tar.xz}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mkdir -p "$OUT"
if [ -n "${POPSEG_BUNDLE:-}" ] || ! command -v mpirun >/dev/null 2>&1; then
  [ -f "$BUNDLE" ] || {
    echo "bench/scaling16.sh: no mpirun here and no bundle at $BUNDLE (make it with bench/bundle.sh)" >&2
    exit 1
  }
  UNPACKED=$(mktemp -d)
  trap 'rm -rf "$UNPACKED"' EXIT
  B=$UNPACKED/popseg-bundle
  if command -v xz >/dev/null 2>&1; then
    tar -xJf "$BUNDLE" -C "$UNPACKED"
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$BUNDLE" "$UNPACKED"
  fi
  . "$B/env.sh"
  have=$(ldd --version 2>/dev/null | awk 'NR == 1 {print $NF}')
  if [ "$(printf '%s\n%s\n' "$POPSEG_BUNDLE_GLIBC" "$have" | sort -V | head -1)" != "$POPSEG_BUNDLE_GLIBC" ]; then
    echo "bench/scaling16.sh: $BUNDLE needs glibc $POPSEG_BUNDLE_GLIBC or newer, this machine has ${have:-none}" >&2
    exit 1
  fi
  BIN=$B/bin
  echo "popseg and Open MPI from $BUNDLE (unpacked in $B)"
fi
[ -x "$BIN/popseg" ] || make --no-print-directory all >/dev/null
# A python with h5py and numpy for the table (Debian's, or the one on PATH).
PY=
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import h5py, numpy' >/dev/null 2>&1; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "bench/scaling16.sh: no python3 with h5py and numpy" >&2; exit 1; }
# The CPUs this process may use (nproc would answer OMP_NUM_THREADS, set above).
MAXNP=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
[ "$MAXNP" -gt 16 ] && MAXNP=16
TAB=$OUT/synth.h5
REC=$OUT/records.txt
: >"$REC"
# record TAG FILE: one line of FILE's stage times and a digest of its labels and
# centroids into REC, then FILE goes (at 16M rows a results file is 2.4 GB, and
# the 15 runs below would fill most of the machine's disk).
record() {
  "$PY" - "$1" "$2" >>"$REC" <<'EOF'
import hashlib, sys
import h5py
tag, path = sys.argv[1], sys.argv[2]
with h5py.File(path, "r") as f:
    a = f.attrs
    t = [float(a[k]) for k in ("time_read_s", "time_scale_s", "time_pca_s", "time_kmeans_s", "time_write_s")]
    lloyd = float(f["kmeans"].attrs["time_lloyd_s"])
    h = hashlib.sha256(f["kmeans/labels"][()].tobytes() + f["kmeans/centroids"][()].tobytes()).hexdigest()
print(tag, " ".join("%.6f" % v for v in t), "%.6f" % lloyd, h)
EOF
  rm -f "$2"
}
mpirun --bind-to core -np "$MAXNP" "$BIN/popseg" synth --rows "$ROWS" --seed 1 -o "$TAB" --force --quiet
# Centres after one iteration: every Lloyd fit below starts from them.
mpirun --bind-to core -np "$MAXNP" "$BIN/popseg" run "$TAB" -o "$OUT/init.h5" --kmeans-n-init 1 \
  --kmeans-max-iter 1 --force --quiet
for np in 1 2 4 8 16; do
  [ "$np" -le "$MAXNP" ] || continue
  mpirun --bind-to core -np "$np" "$BIN/popseg" run "$TAB" -o "$OUT/run-$np.h5" --force --quiet
  record "run-$np" "$OUT/run-$np.h5"
  for it in 2 22; do
    mpirun --bind-to core -np "$np" "$BIN/popseg" run "$TAB" -o "$OUT/lloyd-$np-$it.h5" \
      --kmeans-init-from "$OUT/init.h5" --kmeans-max-iter "$it" --kmeans-tol 0 --force --quiet
    record "lloyd-$np-$it" "$OUT/lloyd-$np-$it.h5"
  done
done
rm -f "$OUT/init.h5" "$TAB"
"$PY" - "$OUT" "$ROWS" <<'EOF'
import os, sys
out, rows = sys.argv[1], int(sys.argv[2])
rec = {}
with open(os.path.join(out, "records.txt")) as fh:
    for line in fh:
        f = line.split()
        rec[f[0]] = ([float(v) for v in f[1:7]], f[7])
lines = ["# strong scaling, %d x 34, %s, %d CPUs" % (rows, os.uname().nodename, os.cpu_count()), "",
         "| ranks | read | scale+PCA | k-means (10 runs) | Lloyd iteration | total of stages | speed-up | efficiency | same bytes as 1 rank |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
base = ref = None
for np_ in (1, 2, 4, 8, 16):
    if "run-%d" % np_ not in rec:
        continue
    t, digest = rec["run-%d" % np_]
    per = (rec["lloyd-%d-22" % np_][0][5] - rec["lloyd-%d-2" % np_][0][5]) / 20
    tot = sum(t[:5])
    if base is None:
        base, ref = tot, digest
    lines.append("| %d | %.3f | %.3f | %.3f | %.4f | %.3f | %.2fx | %.0f%% | %s |" % (
        np_, t[0], t[1] + t[2], t[3], per, tot, base / tot, 100 * base / tot / np_,
        "yes" if digest == ref else "NO"))
print("\n".join(lines))
with open(os.path.join(out, "scaling16.md"), "w") as fh:
    fh.write("\n".join(lines) + "\n")
EOF
