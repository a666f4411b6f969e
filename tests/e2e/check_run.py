#!/usr/bin/python3
"""End-to-end checks of a popseg results file against scikit-learn/numpy.

usage: check_run.py RESULTS.h5 SEGMENTS.csv REPORT.md
Prints PASS:/FAIL: lines (tests/lib.sh protocol); exit 1 on any failure.
"""
import csv
import sys

import h5py
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler

res, seg_csv, report = sys.argv[1:4]
tag = sys.argv[4] if len(sys.argv) > 4 else ""
failed = 0


def check(ok, name):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name + tag)
    if not ok:
        failed = 1


# The oracle's own reading of the census file: drop rows with a missing value,
# the id and the two label columns.
with open("data/acs2015_county_data.csv", encoding="utf-8", newline="") as fh:
    rows = list(csv.reader(fh))
head, body = rows[0], [r for r in rows[1:] if all(v != "" for v in r)]
X = np.array([[float(v) for v in r[3:]] for r in body])
ids = np.array([int(r[0]) for r in body])
names = ["%s-%s" % (r[1], r[2]) for r in body]

f = h5py.File(res, "r")
check(f["rows/id"].shape == (3218,) and np.array_equal(f["rows/id"][:], ids), "rows/id = census ids in order")
check([s.decode() for s in f["rows/name"][:]] == names, "rows/name = State-County, UTF-8 byte-exact")
check([s.decode() for s in f["feature_names"][:]] == head[3:], "feature_names = the 34 numeric columns")

sc = MinMaxScaler().fit(X)
Xs = sc.transform(X)
off, fac = f["scale/offset"][:], f["scale/factor"][:]
check(np.allclose(off, sc.data_min_, rtol=0, atol=0) and np.allclose(fac, sc.scale_, rtol=1e-14),
      "scale offset/factor = MinMaxScaler")
check(f["scale"].attrs["kind"] in ("minmax", b"minmax"), "scale kind attr")

p = PCA(svd_solver="full").fit(Xs)
evr = f["pca/explained_variance_ratio"][:]
check(np.allclose(evr, p.explained_variance_ratio_[: len(evr)], rtol=1e-10, atol=1e-14),
      "explained variance ratio = sklearn (1e-10)")
check(int(f["pca"].attrs["n_kept"]) == 7, "7 components kept at 0.80")
check(abs(evr[:7].sum() - 0.80167) < 5e-6, "top-7 cumulative ratio 0.80167 (got %.6f)" % evr[:7].sum())
C = f["pca/components"][:]
S = np.sign((C * p.components_[: len(C)]).sum(axis=1))
check(np.allclose(C * S[:, None], p.components_[: len(C)], atol=1e-8) if len(C) >= 7 else False,
      "components = sklearn up to sign (1e-8)")
for i in range(7):
    a = np.abs(C[i])
    j = np.flatnonzero(a >= a.max() * (1 - 1e-9))[0]
    if not C[i, j] > 0:
        check(False, "sign convention: largest |loading| positive (component %d)" % (i + 1))
        break
else:
    check(True, "sign convention: largest |loading| positive")
Z = f["projection"][:]
Zs = p.transform(Xs)[:, :7] * S[:7]
check(Z.shape == (3218, 7) and np.allclose(Z, Zs, atol=1e-8), "projection = sklearn (1e-8, sign-fixed)")

lab = f["kmeans/labels"][:]
cen = f["kmeans/centroids"][:]
k = cen.shape[0]
check(k == 8 and lab.dtype == np.int32 and lab.min() >= 0 and lab.max() < 8, "8 segments, int32 labels")
d2 = ((Z[:, None, :] - cen[None, :, :]) ** 2).sum(-1)
check(np.array_equal(lab, d2.argmin(1)), "every row is labelled with its nearest centroid")
# With tol > 0 (like scikit-learn) the last centres are the means of the
# labels of the last iteration; the final E-step may move a handful of rows.
means = np.array([Z[lab == c].mean(0) for c in range(k)])
check(np.abs(means - cen).max() < 1e-2, "centroids are (within tol) the means of their members")
km = KMeans(k, init=cen, n_init=1, algorithm="lloyd").fit(Z)
check(km.inertia_ <= float(f["kmeans"].attrs["inertia"]) * (1 + 1e-12) and
      km.inertia_ >= float(f["kmeans"].attrs["inertia"]) * (1 - 1e-3),
      "sklearn KMeans started from our centroids stays within 0.1%")
dist = f["kmeans/distance"][:]
check(np.allclose(dist, np.sqrt(d2[np.arange(len(lab)), lab]), atol=1e-10), "distance = Euclidean to own centroid")
check(np.array_equal(f["kmeans/sizes"][:], np.bincount(lab, minlength=k)), "sizes = label counts")
inertia = float(f["kmeans"].attrs["inertia"])
check(abs(inertia - (dist ** 2).sum()) <= 1e-9 * inertia, "inertia = sum of squared distances")
best = KMeans(8, n_init=100, random_state=0, algorithm="lloyd").fit(Z).inertia_
check(inertia / 3218 <= best / 3218 * 1.005, "inertia/n within 0.5%% of sklearn n_init=100 (%.6g vs %.6g)" % (inertia, best))
cf = f["kmeans/centroids_reconstructed"][:]
want = sc.inverse_transform((cen * S[:7]) @ p.components_[:7] + p.mean_)
check(np.allclose(cf, want, rtol=1e-9, atol=1e-6), "centroids_reconstructed = inverse PCA + inverse scaling")

# The profile: segment means in original units (pandas groupby), spread, examples.
df = pd.DataFrame(X, columns=head[3:])
means = df.groupby(lab).mean().reindex(range(k)).values
scale_col = np.abs(X).max(0)
check(np.allclose(f["profile/mean"][:], means, rtol=1e-10, atol=1e-10 * scale_col),
      "profile/mean = pandas groupby means (original units, 1e-10)")
check(np.allclose(f["profile/overall_mean"][:], X.mean(0), rtol=1e-10, atol=1e-10 * scale_col) and
      np.allclose(f["profile/overall_sd"][:], X.std(0, ddof=1), rtol=1e-8),
      "profile/overall_mean, overall_sd = numpy mean, std(ddof=1)")
check(np.array_equal(f["profile/size"][:], np.bincount(lab, minlength=k)), "profile/size = label counts")
ok = True
for c in range(k):
    rows_c = np.flatnonzero(lab == c)
    order = rows_c[np.lexsort((rows_c, dist[rows_c]))][:5]
    ok &= np.array_equal(f["profile/example_row"][c, :len(order)], order)
    ok &= np.array_equal(f["profile/example_id"][c, :len(order)], ids[order])
    ok &= [s.decode() for s in f["profile/example_name"][c, :len(order)]] == [names[i] for i in order]
check(ok, "profile examples = the 5 rows nearest each centroid (ties: lower row)")
for a in ("popseg_version", "command_line", "n_ranks", "time_read_s", "time_scale_s", "time_pca_s",
          "time_kmeans_s", "time_write_s", "time_digest_s"):
    if a not in f.attrs:
        check(False, "root attribute %s" % a)
        break
else:
    check(True, "root attributes present")
for a in ("inertia", "iterations", "converged", "seed", "init", "n_init"):
    if a not in f["kmeans"].attrs:
        check(False, "kmeans attribute %s" % a)
        break
else:
    check(True, "kmeans attributes present")

s = pd.read_csv(seg_csv, encoding="utf-8", keep_default_na=False)
check(list(s.columns) == ["id", "name", "segment", "distance"] + ["pc%d" % i for i in range(1, 8)],
      "segments CSV header")
check(len(s) == 3218 and np.array_equal(s["id"].values, ids) and list(s["name"]) == names,
      "segments CSV rows: ids and names (pandas)")
check(np.array_equal(s["segment"].values, lab) and np.allclose(s["distance"].values, dist, rtol=1e-15)
      and np.allclose(s[["pc%d" % i for i in range(1, 8)]].values, Z, rtol=1e-15), "segments CSV values = results file")

text = open(report, encoding="utf-8").read()
for sec in ("## Data", "## Variance", "## Component makeup", "## Segments", "## Timings", "Kalawao"):
    if sec not in text:
        check(False, "report has %s" % sec)
        break
else:
    check(True, "report has every section and names the dropped rows")
check(text.count("### Segment ") == 8 and ("Stands out for: high" in text or "Stands out for: low" in text),
      "report describes each segment in words")
sys.exit(failed)
