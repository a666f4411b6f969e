#!/usr/bin/python3
"""Write the malformed inputs the error tests feed to popseg. usage: make_bad.py DIR"""
import os
import sys

import h5py
import numpy as np

d = sys.argv[1]
S = lambda xs: np.array([x.encode() for x in xs], dtype="S16")


def table(path, X, names=None, drop=None, features_shape=None):
    n = X.shape[0]
    with h5py.File(path, "w") as f:
        if drop != "features":
            f.create_dataset("features", data=X if features_shape is None else X.reshape(features_shape))
        if drop != "feature_names":
            f.create_dataset("feature_names", data=S(["a%d" % j for j in range(X.shape[1])]))
        g = f.create_group("rows")
        if drop != "id":
            g.create_dataset("id", data=np.arange(n, dtype=np.int64))
        g.create_dataset("name", data=S(["r%d" % i for i in range(n)]))


rng = np.random.default_rng(0)
X = rng.random((20, 4))
table(os.path.join(d, "nofeatures.h5"), X, drop="features")
table(os.path.join(d, "noid.h5"), X, drop="id")
table(os.path.join(d, "rank3.h5"), X, features_shape=(20, 2, 2))
Xn = X.copy(); Xn[7, 2] = np.nan
table(os.path.join(d, "nan.h5"), Xn)
Xi = X.copy(); Xi[3, 1] = np.inf
table(os.path.join(d, "inf.h5"), Xi)
# Where the statistics' pass finds them (no pass of the read's own): the last
# value of the last row (the last rank's block), and -inf in the first row,
# which is also the pass's shift row.
Xl = X.copy(); Xl[19, 3] = np.nan
table(os.path.join(d, "nan_last.h5"), Xl)
Xf = X.copy(); Xf[0, 0] = -np.inf
table(os.path.join(d, "ninf_first.h5"), Xf)
table(os.path.join(d, "one_row.h5"), X[:1])
# Finite values whose range overflows: max - min (huge), or only the sums of
# squares that standard scaling and unscaled PCA form (wide; minmax is fine).
sign = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
Xh = X.copy(); Xh[:, 2] = sign * 1.5e308 * (0.5 + X[:, 2] / 2)
table(os.path.join(d, "huge.h5"), Xh)
Xw = X.copy(); Xw[:, 0] = sign * 1e160 * (0.5 + X[:, 0] / 2)
table(os.path.join(d, "wide.h5"), Xw)
# The same column at unit and at tiny magnitude (squares underflow): minmax
# scaling makes all three the same table, up to rounding.
Xr = X.copy(); Xr[:, 0] = sign * (0.5 + X[:, 0] / 2)
table(os.path.join(d, "wide_ref.h5"), Xr)
Xt = X.copy(); Xt[:, 0] = sign * 1e-300 * (0.5 + X[:, 0] / 2)
table(os.path.join(d, "small.h5"), Xt)
# Each column fine alone, the total variance of 400 unscaled ones overflows.
table(os.path.join(d, "manywide.h5"), np.where(rng.random((40, 400)) < 0.5, -1.0, 1.0) * 1e153)
# A range too small to divide by (subnormal): 1 / (max - min) is inf.
Xs = X.copy(); Xs[:, 1] = np.where(np.arange(20) % 2 == 0, 0.0, 1e-310)
table(os.path.join(d, "tiny.h5"), Xs)
# One feature more than PCA accepts (3 rows: small on disk, not in covariance).
table(os.path.join(d, "widest.h5"), rng.random((3, 32001)))
with open(os.path.join(d, "text.h5"), "w") as fh:
    fh.write("this is not an HDF5 file\n")
with open(os.path.join(d, "ragged.csv"), "w") as fh:
    fh.write("id,a,b\n1,2,3\n2,3\n3,4,5\n")
with open(os.path.join(d, "nonnum.csv"), "w") as fh:
    fh.write("id,name,a,b\n1,x,2,3\n2,y,3,4\n3,z,abc,5\n")
