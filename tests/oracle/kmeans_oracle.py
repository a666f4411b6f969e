#!/usr/bin/python3
"""k-means oracle: writes the test data and scikit-learn's answers for tests/t_kmeans.sh.

usage: kmeans_oracle.py CSV OUTDIR [--big]

Every array is a raw binary file (int64 rows, int64 cols, float64 row-major; see
tests/unit/kmeans_io.h). For each oracle case NAME it writes
  NAME.x        data [n][d]
  NAME.init     initial centres [k][d] (rows of the data, or constructed)
  NAME.labels   scikit-learn's labels [n][1]
  NAME.centers  scikit-learn's centres [k][d]
  NAME.meta     [1][7]: inertia, n_iter, tol, max_iter, check_j, check_row, stop
                (check_j >= 0: centre check_j must equal row check_row exactly;
                stop: 0 max_iter reached, 1 strict convergence, 2 centre shift <= tol)
and the data sets census.x, blobs.x (rank-count invariance), census.best (the
best inertia scikit-learn finds with n_init=100) and, with --big, mix.x
(200,000 x 10, 50 components) for the k-means|| test.
scikit-learn runs KMeans(init=array, n_init=1, algorithm="lloyd") with the
same tol and max_iter that the C test passes to ps_kmeans_fit.
"""
import contextlib
import io
import os
import re
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler


def write(path, a):
    a = np.ascontiguousarray(a, dtype="<f8")
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    with open(path, "wb") as fp:
        fp.write(np.array(a.shape, dtype="<i8").tobytes())
        fp.write(a.tobytes())


def census_projection(csv):
    df = pd.read_csv(csv).dropna()
    x = df.drop(columns=["CensusId", "State", "County"]).to_numpy(dtype=np.float64)
    xs = MinMaxScaler().fit_transform(x)
    return PCA(n_components=7, svd_solver="full").fit_transform(xs)


def empty_case_data():
    """Two tight groups with duplicated rows and one far outlier."""
    rng = np.random.default_rng(42)
    a = rng.normal([0.0, 0.0], 0.3, size=(40, 2))
    b = rng.normal([10.0, 0.0], 0.3, size=(40, 2))
    dup_a = np.tile([0.5, 0.5], (10, 1))
    dup_b = np.tile([10.0, 1.0], (10, 1))
    outlier = np.array([[30.0, 5.0]])
    x = np.vstack([a, dup_a, b, dup_b, outlier])
    out_row = x.shape[0] - 1
    # centre 0 on a row of a, centre 1 on a row of b, centre 2 far from all rows
    init = np.vstack([x[3], x[55], [-1000.0, -1000.0]])
    return x, init, out_row


def run_case(out, name, x, init, tol, max_iter, check_j=-1, check_row=-1):
    km = KMeans(n_clusters=init.shape[0], init=init, n_init=1, algorithm="lloyd", tol=tol,
                max_iter=max_iter, verbose=1)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        km.fit(x)
    log = buf.getvalue()
    if "strict convergence" in log:
        stop = "strict"
    elif re.search(r"within tolerance", log):
        stop = "tol"
    else:
        stop = "max_iter"
    write(os.path.join(out, name + ".x"), x)
    write(os.path.join(out, name + ".init"), init)
    write(os.path.join(out, name + ".labels"), km.labels_.astype(np.float64))
    write(os.path.join(out, name + ".centers"), km.cluster_centers_)
    write(os.path.join(out, name + ".meta"),
          np.array([[km.inertia_, km.n_iter_, tol, max_iter, check_j, check_row,
                     {"max_iter": 0, "strict": 1, "tol": 2}[stop]]]))
    print(f"{name}: n={x.shape[0]} d={x.shape[1]} k={init.shape[0]} n_iter={km.n_iter_} "
          f"stop={stop} inertia={km.inertia_:.12g} sizes={np.bincount(km.labels_).tolist()}")
    return stop, km


def rows(x, k, seed):
    return x[np.random.default_rng(seed).choice(x.shape[0], k, replace=False)].copy()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    csv, out = sys.argv[1], sys.argv[2]
    big = "--big" in sys.argv[3:]
    os.makedirs(out, exist_ok=True)

    census = census_projection(csv)
    blobs, _ = make_blobs(n_samples=2000, centers=6, n_features=5, cluster_std=1.5,
                          random_state=7)
    blobs2, _ = make_blobs(n_samples=1500, centers=4, n_features=3, cluster_std=3.0,
                           random_state=11)
    write(os.path.join(out, "census.x"), census)
    write(os.path.join(out, "blobs.x"), blobs2)  # overlapping: a harder landscape

    stops = set()
    stops.add(run_case(out, "census_k8", census, rows(census, 8, 1), 1e-4, 300)[0])
    stops.add(run_case(out, "census_k5_it3", census, rows(census, 5, 2), 1e-4, 3)[0])
    stops.add(run_case(out, "census_k12_tol0", census, rows(census, 12, 3), 0.0, 300)[0])
    stops.add(run_case(out, "census_k6_loose", census, rows(census, 6, 4), 0.05, 300)[0])
    stops.add(run_case(out, "blobs_k6", blobs, rows(blobs, 6, 5), 1e-4, 300)[0])
    stops.add(run_case(out, "blobs2_k4", blobs2, rows(blobs2, 4, 6), 1e-4, 300)[0])
    ex, einit, out_row = empty_case_data()
    # after one iteration the empty centre 2 must sit exactly on the outlier
    run_case(out, "empty_it1", ex, einit, 1e-4, 1, check_j=2, check_row=out_row)
    _, kfull = run_case(out, "empty_full", ex, einit, 1e-4, 300)
    # The cases must cover every way a run stops, or the comparison proves less.
    if stops != {"strict", "tol", "max_iter"}:
        sys.exit(f"oracle cases cover only stop kinds {sorted(stops)}")
    if len(set(kfull.labels_)) != 3:
        sys.exit("empty_full: scikit-learn left a cluster empty; the case is not what it claims")

    best = KMeans(n_clusters=8, n_init=100, random_state=0, algorithm="lloyd").fit(census)
    write(os.path.join(out, "census.best"), np.array([[best.inertia_]]))
    print(f"census best of 100 (scikit-learn): inertia={best.inertia_:.12g} "
          f"per row={best.inertia_ / census.shape[0]:.12g}")

    if big:
        mix, _ = make_blobs(n_samples=200000, centers=50, n_features=10, cluster_std=2.0,
                            center_box=(-10.0, 10.0), random_state=5)
        write(os.path.join(out, "mix.x"), mix)
        print(f"mix: n={mix.shape[0]} d={mix.shape[1]}")


if __name__ == "__main__":
    main()
