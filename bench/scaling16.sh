#!/bin/sh
# bench/scaling16.sh [ROWS] [OUTDIR]: strong scaling at 1, 2, 4, 8 and 16 ranks on
# one 16-core node (default 16,000,000 rows x 34, about 4.4 GB of features), for
# the machines that have the cores: the 2-core CI kind cannot say anything about
# scaling past 2. One prepared script, so a short loan of such a machine is
# enough: build, synth once, then per rank count an end-to-end run and a short
# and a long Lloyd fit from the same centres (the per-iteration time is their
# difference). Prints one table and writes OUTDIR/scaling16.md.
# Needs: make (popseg built), /usr/bin/python3 with h5py; about 10 minutes.
set -eu
cd "$(dirname "$0")/.."
ROWS=${1:-16000000}
OUT=${2:-bench/out/scaling16}
BIN=${POPSEG_BIN:-bin}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mkdir -p "$OUT"
[ -x "$BIN/popseg" ] || make --no-print-directory all >/dev/null
MAXNP=$(nproc)
[ "$MAXNP" -gt 16 ] && MAXNP=16
TAB=$OUT/synth.h5
mpirun --bind-to core -np "$MAXNP" "$BIN/popseg" synth --rows "$ROWS" --seed 1 -o "$TAB" --force --quiet
# Centres after one iteration: every Lloyd fit below starts from them.
mpirun --bind-to core -np "$MAXNP" "$BIN/popseg" run "$TAB" -o "$OUT/init.h5" --kmeans-n-init 1 \
  --kmeans-max-iter 1 --force --quiet
for np in 1 2 4 8 16; do
  [ "$np" -le "$MAXNP" ] || continue
  mpirun --bind-to core -np "$np" "$BIN/popseg" run "$TAB" -o "$OUT/run-$np.h5" --force --quiet
  for it in 2 22; do
    mpirun --bind-to core -np "$np" "$BIN/popseg" run "$TAB" -o "$OUT/lloyd-$np-$it.h5" \
      --kmeans-init-from "$OUT/init.h5" --kmeans-max-iter "$it" --kmeans-tol 0 --force --quiet
  done
done
/usr/bin/python3 - "$OUT" "$ROWS" <<'EOF'
import glob, os, sys
import h5py
import numpy as np
out, rows = sys.argv[1], int(sys.argv[2])
lines = ["# strong scaling, %d x 34, %s, %d CPUs" % (rows, os.uname().nodename, os.cpu_count()), "",
         "| ranks | read | scale+PCA | k-means (10 runs) | Lloyd iteration | total of stages | speed-up | efficiency | same bytes as 1 rank |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
base = None
ref = None
for np_ in (1, 2, 4, 8, 16):
    p = os.path.join(out, "run-%d.h5" % np_)
    if not os.path.exists(p):
        continue
    with h5py.File(p, "r") as f:
        a = f.attrs
        t = [float(a[k]) for k in ("time_read_s", "time_scale_s", "time_pca_s", "time_kmeans_s", "time_write_s")]
        lab, cen = f["kmeans/labels"][()], f["kmeans/centroids"][()]
    ll = []
    for it in (2, 22):
        with h5py.File(os.path.join(out, "lloyd-%d-%d.h5" % (np_, it)), "r") as f:
            ll.append(float(f["kmeans"].attrs["time_lloyd_s"]))
    per = (ll[1] - ll[0]) / 20
    tot = sum(t)
    if base is None:
        base, ref = tot, (lab, cen)
    same = np.array_equal(lab, ref[0]) and np.array_equal(cen, ref[1])
    lines.append("| %d | %.3f | %.3f | %.3f | %.4f | %.3f | %.2fx | %.0f%% | %s |" % (
        np_, t[0], t[1] + t[2], t[3], per, tot, base / tot, 100 * base / tot / np_, "yes" if same else "NO"))
print("\n".join(lines))
with open(os.path.join(out, "scaling16.md"), "w") as fh:
    fh.write("\n".join(lines) + "\n")
EOF
