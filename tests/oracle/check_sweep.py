#!/usr/bin/python3
"""check_sweep.py SWEEP.h5 [SWEEP.csv] [--other SEED1.h5] [--expect-k K] [--tag T]

Checks a `popseg sweep` results file against scikit-learn (sklearn.metrics) on
its own projection and labels, and prints PASS:/FAIL: lines:
  - silhouette (Euclidean): silhouette_score over all rows, or over the rows
    of /sweep/sample_rows when the sweep sampled them;
  - silhouette_sq: silhouette_score(metric="sqeuclidean") over all rows;
  - Calinski-Harabasz and Davies-Bouldin;
  - inertia: the sum of squared distances of the rows to their centroids;
  - the CSV, if given, holds the same table;
  - --other: the same sweep with --seed S+1; the stability column is
    adjusted_rand_score of the two files' labels for each k;
  - --expect-k: the suggested k.
All to 1e-9 relative (1e-9 absolute near 0).
"""
import sys

import h5py
import numpy as np
from sklearn.metrics import (adjusted_rand_score, calinski_harabasz_score,
                             davies_bouldin_score, silhouette_score)

args = sys.argv[1:]
opts = {}
pos = []
i = 0
while i < len(args):
    if args[i].startswith("--"):
        opts[args[i]] = args[i + 1]
        i += 2
    else:
        pos.append(args[i])
        i += 1
path = pos[0]
csv = pos[1] if len(pos) > 1 else None
tag = opts.get("--tag", path)
failed = 0


def check(name, ok, detail=""):
    global failed
    print("%s: %s: %s%s" % ("PASS" if ok else "FAIL", tag, name, "" if ok else " (%s)" % detail))
    failed += not ok


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


with h5py.File(path, "r") as f:
    Z = f["projection"][()]
    ks = f["sweep/k"][()]
    tab = {c: f["sweep/" + c][()] for c in (
        "inertia", "msd", "iterations", "silhouette", "silhouette_sq", "calinski_harabasz",
        "davies_bouldin", "ari", "silhouette_rows")}
    labels = {int(k): f["sweep/k%d/labels" % k][()] for k in ks}
    cents = {int(k): f["sweep/k%d/centroids" % k][()] for k in ks}
    sample = f["sweep/sample_rows"][()] if "sweep/sample_rows" in f else None
    suggested = int(f["sweep"].attrs["suggested_k"])
    root_suggested = int(f.attrs["suggested_k"])
    model_k = f["kmeans/centroids"].shape[0]
    model_lab = f["kmeans/labels"][()]

n = Z.shape[0]
for j, k in enumerate(int(x) for x in ks):
    lab = labels[k]
    bad = []
    if sample is None:
        want = silhouette_score(Z, lab)
        rows = n
    else:
        want = silhouette_score(Z[sample], lab[sample])
        rows = len(sample)
    if not close(tab["silhouette"][j], want):
        bad.append("silhouette %.17g vs %.17g" % (tab["silhouette"][j], want))
    if tab["silhouette_rows"][j] != rows:
        bad.append("silhouette over %d rows, expected %d" % (tab["silhouette_rows"][j], rows))
    want = silhouette_score(Z, lab, metric="sqeuclidean")
    if not close(tab["silhouette_sq"][j], want):
        bad.append("silhouette_sq %.17g vs %.17g" % (tab["silhouette_sq"][j], want))
    want = calinski_harabasz_score(Z, lab)
    if not close(tab["calinski_harabasz"][j], want):
        bad.append("CH %.17g vs %.17g" % (tab["calinski_harabasz"][j], want))
    want = davies_bouldin_score(Z, lab)
    if not close(tab["davies_bouldin"][j], want):
        bad.append("DB %.17g vs %.17g" % (tab["davies_bouldin"][j], want))
    want = float(((Z - cents[k][lab]) ** 2).sum())
    if not (abs(tab["inertia"][j] - want) <= 1e-9 * want and close(tab["msd"][j], want / n)):
        bad.append("inertia %.17g vs %.17g" % (tab["inertia"][j], want))
    check("k = %d: silhouette%s, silhouette_sq, Calinski-Harabasz, Davies-Bouldin, inertia as "
          "scikit-learn's" % (k, "" if sample is None else " (sample of %d)" % rows), not bad,
          "; ".join(bad))

best = max(range(len(ks)), key=lambda j: (tab["silhouette"][j], -j))
for j in range(len(ks)):  # the rule: a tie within 1e-9 goes to the smaller k
    if tab["silhouette"][j] >= tab["silhouette"][best] - 1e-9:
        best = j
        break
check("suggested k = %d follows the rule (largest silhouette, ties to the smaller k)" % suggested,
      int(ks[best]) == suggested and root_suggested == suggested and model_k == suggested and
      np.array_equal(model_lab, labels[suggested]),
      "rule gives %d; root %d; model k %d" % (ks[best], root_suggested, model_k))
if "--expect-k" in opts:
    check("suggested k is %s" % opts["--expect-k"], suggested == int(opts["--expect-k"]),
          "got %d" % suggested)

if csv:
    rows = [line.strip().split(",") for line in open(csv) if line.strip()]
    head = rows[0]
    ok = head == ["k", "inertia", "msd", "iterations", "silhouette", "silhouette_sq",
                  "calinski_harabasz", "davies_bouldin", "ari"] and len(rows) == len(ks) + 1
    why = "header %s, %d rows" % (head, len(rows) - 1)
    if ok:
        for j, r in enumerate(rows[1:]):
            vals = [float(x) for x in r]
            want = [ks[j], tab["inertia"][j], tab["msd"][j], tab["iterations"][j],
                    tab["silhouette"][j], tab["silhouette_sq"][j], tab["calinski_harabasz"][j],
                    tab["davies_bouldin"][j], tab["ari"][j]]
            if any(not (v == w or (np.isnan(v) and np.isnan(w))) for v, w in zip(vals, want)):
                ok, why = False, "row k = %d differs: %s vs %s" % (ks[j], vals, want)
                break
    check("CSV holds the metrics table exactly", ok, why)

if "--other" in opts:
    with h5py.File(opts["--other"], "r") as g:
        bad = []
        for j, k in enumerate(int(x) for x in ks):
            want = adjusted_rand_score(labels[k], g["sweep/k%d/labels" % k][()])
            if not close(tab["ari"][j], want):
                bad.append("k = %d: %.17g vs %.17g" % (k, tab["ari"][j], want))
    check("stability: the ARI column is adjusted_rand_score against the seed + 1 sweep",
          not bad, "; ".join(bad))
sys.exit(1 if failed else 0)
