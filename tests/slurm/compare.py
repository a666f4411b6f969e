#!/usr/bin/python3
"""tests/slurm/compare.py - do two popseg results files hold the same answer?

usage: compare.py A.h5 B.h5 [DATASET ...]

Default datasets: /kmeans/labels and /rows/id (must be equal exactly) and
/kmeans/centroids (equal to rtol 1e-9, atol 1e-12: the sums behind centroids
may be reduced in a different order at another rank count or host layout).
Prints one line naming the first difference and exits 1; exits 0 if equal.
Used by tests/slurm/run.sh and tests/t_hosts.sh.
"""
import sys

import h5py
import numpy as np

EXACT = {"/kmeans/labels", "/rows/id"}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    a_path, b_path = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or ["/kmeans/labels", "/kmeans/centroids", "/rows/id"]
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for n in names:
            for f, p in ((a, a_path), (b, b_path)):
                if n not in f:
                    print(f"{p}: no dataset {n}")
                    return 1
            x, y = a[n][()], b[n][()]
            if x.shape != y.shape:
                print(f"{n}: shape {x.shape} in {a_path} but {y.shape} in {b_path}")
                return 1
            if x.size == 0:
                print(f"{n}: empty in both files")
                return 1
            if n in EXACT or not np.issubdtype(x.dtype, np.floating):
                diff = np.flatnonzero(x.ravel() != y.ravel())
                if diff.size:
                    i = diff[0]
                    print(f"{n}: {diff.size} of {x.size} values differ, first at flat index {i}: "
                          f"{x.ravel()[i]} vs {y.ravel()[i]}")
                    return 1
            elif not np.allclose(x, y, rtol=1e-9, atol=1e-12):
                err = np.max(np.abs(x - y))
                print(f"{n}: values differ (max abs difference {err:.3g})")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
