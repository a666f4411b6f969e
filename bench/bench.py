#!/usr/bin/python3
"""popseg benchmark: popseg against scikit-learn/numpy on the same data, same run.

For each dataset it times, in this process and on this machine right now:
  - the peer: MinMaxScaler + PCA(svd_solver="full") + KMeans(lloyd) from scikit-learn;
  - popseg at 1 and 2 MPI ranks (stage times from the results file's attributes);
  - the hardware bound: a dgemm (numpy matmul) for the flop rate and a large array copy
    for memory bandwidth, so each stage can be put against what the machine allows.
Ratios, not absolute times, are what matter on a shared machine.
Usage: bench.py POPSEG_BIN OUTDIR
"""
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler

BIN, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_mpi_yield_when_idle="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def best(f, repeat=REPEAT):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = f()
        ts.append(time.perf_counter() - t0)
    return min(ts), r


def hardware():
    """Per-core bounds: one popseg rank is one single-threaded process."""
    from threadpoolctl import threadpool_limits
    n = 1500
    a = np.random.default_rng(0).random((n, n))
    with threadpool_limits(1):
        t, _ = best(lambda: a @ a)
    gflops = 2 * n ** 3 / t / 1e9
    big = np.ones(200_000_000 // 8)
    t2, _ = best(lambda: big.copy())
    gbs = 2 * big.nbytes / t2 / 1e9
    return gflops, gbs


def write_table(path, X):
    n, d = X.shape
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=X, chunks=(max(1, min(n, 4096)), d))
        f.create_dataset("feature_names", data=np.array([b"f%d" % j for j in range(d)], dtype="S8"))
        g = f.create_group("rows")
        g.create_dataset("id", data=np.arange(n, dtype=np.int64))
        g.create_dataset("name", data=np.array([b"r%d" % i for i in range(n)], dtype="S12"))


def census():
    import csv
    rows = []
    with open("data/acs2015_county_data.csv", encoding="utf-8") as fh:
        r = csv.reader(fh)
        head = next(r)
        for row in r:
            if any(v == "" for v in row):
                continue
            rows.append([float(v) for v in row[3:]])
    return np.array(rows)


def peer(X, k, K_keep, n_init, seed):
    """scikit-learn and numpy, one thread; the same stages popseg times."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        t_scale, Xs = best(lambda: MinMaxScaler().fit_transform(X))
        t_pca, pca = best(lambda: PCA(n_components=min(X.shape), svd_solver="full").fit(Xs))

        def cov_eigh():  # the algorithm popseg uses: covariance + symmetric eigensolver
            w, v = np.linalg.eigh(np.cov(Xs, rowvar=False))
            return (Xs - Xs.mean(0)) @ v[:, ::-1][:, :K_keep]
        t_np, _ = best(cov_eigh)
        Z = pca.transform(Xs)[:, :K_keep]
        t_km, km = best(lambda: KMeans(k, n_init=n_init, random_state=seed, algorithm="lloyd").fit(Z), 1)
        t_km1, km1 = best(lambda: KMeans(k, n_init=1, random_state=seed, algorithm="lloyd").fit(Z))
    return dict(scale=t_scale, pca=t_pca, pca_numpy=t_np, kmeans=t_km, inertia=float(km.inertia_),
                kmeans_runs=n_init, per_iter=t_km1 / max(1, km1.n_iter_), iters1=int(km1.n_iter_))


def popseg(path, np_, k, n_init, extra=()):
    out = os.path.join(OUT, "res-%d.h5" % np_)
    cmd = ["mpirun", "--oversubscribe", "-np", str(np_), BIN + "/popseg", "run", path, "-o", out,
           "--force", "--quiet", "--k", str(k), "--kmeans-n-init", str(n_init), *extra]
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=ENV)
        wall = time.perf_counter() - t0
        with h5py.File(out) as f:
            a = f.attrs
            times.append(dict(wall=wall, read=float(a["time_read_s"]), scale=float(a["time_scale_s"]),
                              pca=float(a["time_pca_s"]), kmeans=float(a["time_kmeans_s"]),
                              kmeans_iters=int(f["kmeans"].attrs["iterations"]),
                              run_iters=None, inertia=float(f["kmeans"].attrs["inertia"]),
                              K=int(f["pca"].attrs["n_kept"])))
    return min(times, key=lambda t: t["pca"] + t["kmeans"])


def main():
    gflops, gbs = hardware()
    print("hardware (numpy, this run): dgemm %.1f GFLOP/s on one core, memory copy %.1f GB/s" % (gflops, gbs))
    rng = np.random.default_rng(1)
    sets = [("census 3218x34", census(), 8, 10)]
    n, d = int(os.environ.get("BENCH_N", "400000")), 34
    centres = rng.random((8, d)) * 10
    X = centres[rng.integers(0, 8, n)] + rng.normal(size=(n, d))
    sets.append(("synthetic %dx%d" % (n, d), X, 8, 3))
    results = []
    for name, X, k, n_init in sets:
        path = os.path.join(OUT, name.split()[0] + ".h5")
        write_table(path, X)
        pops = {p: popseg(path, p, k, n_init) for p in (1, 2)}
        one = {p: popseg(path, p, k, 1) for p in (1, 2)}
        K = pops[1]["K"]
        pr = peer(X, k, K, n_init, 0)
        n_, d_ = X.shape
        cov_flops = n_ * d_ * d_  # dsyrk: n d^2 (half of gemm)
        print("\n== %s (k=%d, K=%d, n_init=%d); seconds, best of %d" % (name, k, K, n_init, REPEAT))
        print("%-30s %10s %10s %10s %12s" % ("stage", "peer", "popseg np1", "popseg np2", "peer/np1"))
        row = lambda label, a, b, c: print("%-30s %10.4f %10.4f %10.4f %11.2fx" % (label, a, b, c, a / max(b, 1e-9)))
        row("scale: MinMaxScaler", pr["scale"], pops[1]["scale"], pops[2]["scale"])
        row("pca: sklearn PCA(full)", pr["pca"], pops[1]["pca"], pops[2]["pca"])
        row("pca: numpy cov+eigh+project", pr["pca_numpy"], pops[1]["pca"], pops[2]["pca"])
        row("kmeans: sklearn, n_init=%d" % n_init, pr["kmeans"], pops[1]["kmeans"], pops[2]["kmeans"])
        pi = {p: one[p]["kmeans"] / max(1, one[p]["kmeans_iters"]) for p in (1, 2)}
        row("kmeans: per iteration, n_init=1", pr["per_iter"], pi[1], pi[2])
        print("%-30s %10.6g %10.6g %10.6g" % ("inertia (n_init=%d)" % n_init, pr["inertia"], pops[1]["inertia"], pops[2]["inertia"]))
        # Bounds for one core: the covariance is n d^2 flops (dsyrk) and must read X
        # once; a Lloyd iteration is 2 n k K flops and reads the projection once.
        cov_s = max(cov_flops / (gflops * 1e9), X.nbytes / (gbs * 1e9))
        it_s = max(2.0 * n_ * k * K / (gflops * 1e9), n_ * K * 8 / (gbs * 1e9))
        print("bound (1 core): covariance %.4f s -> popseg pca np1 at %.0f%% of it; Lloyd iteration %.5f s -> np1 at %.0f%%"
              % (cov_s, 100 * cov_s / pops[1]["pca"], it_s, 100 * it_s / pi[1]))
        print("read at np1: %.0f MB/s of features (%.0f%% of memory copy bandwidth)" %
              (X.nbytes / pops[1]["read"] / 1e6, 100 * X.nbytes / pops[1]["read"] / 1e9 / gbs))
        results.append(dict(name=name, peer=pr, popseg=pops, gflops=gflops, gbs=gbs))
    with open(os.path.join(OUT, "bench.json"), "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
