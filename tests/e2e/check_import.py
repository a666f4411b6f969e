#!/usr/bin/python3
"""An imported table read back with h5py equals the CSV read with Python's csv module.
usage: check_import.py IN.csv OUT.h5 TAG"""
import csv
import sys

import h5py
import numpy as np

src, h5, tag = sys.argv[1:4]
with open(src, encoding="utf-8", newline="") as fh:
    rows = list(csv.reader(fh))
head, body = rows[0], [r for r in rows[1:] if all(v not in ("", "NA", "NaN") for v in r)]
f = h5py.File(h5, "r")
ok = True
ok &= [s.decode() for s in f["feature_names"][:]] == head[3:]
ok &= np.array_equal(f["rows/id"][:], np.array([int(r[0]) for r in body], dtype=np.int64))
ok &= [s.decode("utf-8") for s in f["rows/name"][:]] == ["%s-%s" % (r[1], r[2]) for r in body]
X = np.array([[float(v) for v in r[3:]] for r in body])
ok &= f["features"].dtype == np.float64 and np.array_equal(f["features"][:], X)
ok &= f["features"].chunks is None  # contiguous: a collective read maps no chunks
a = f.attrs
sha = a["source_sha256"].decode() if isinstance(a["source_sha256"], bytes) else a["source_sha256"]
import hashlib
ok &= sha == hashlib.sha256(open(src, "rb").read()).hexdigest()
ok &= "popseg_version" in a and "source" in a
print(("PASS: " if ok else "FAIL: ") + "imported table = the CSV (values, ids, UTF-8 names, sha256)" + tag)
sys.exit(0 if ok else 1)
