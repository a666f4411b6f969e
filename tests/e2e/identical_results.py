#!/usr/bin/python3
"""Results files of one run at different rank counts hold the same bytes: every
dataset and every attribute, except the timings (time_*, attributes or
datasets such as /sweep/time_s), the rank count and
the command line (and dimension-scale bookkeeping, which holds file addresses).
usage: identical_results.py LABEL A.h5 B.h5 [C.h5 ...]; one PASS/FAIL line per file."""
import sys

import h5py
import numpy as np

SKIP = {"n_ranks", "command_line", "DIMENSION_LIST", "REFERENCE_LIST"}


def content(path):
    out = {}
    with h5py.File(path, "r") as f:
        def attrs(name, obj):
            for k, v in obj.attrs.items():
                if k in SKIP or k.startswith("time_"):
                    continue
                out["%s@%s" % (name, k)] = np.asarray(v).tobytes()
        attrs("/", f)

        def visit(name, obj):
            attrs(name, obj)
            if isinstance(obj, h5py.Dataset) and not name.split("/")[-1].startswith("time_"):
                out[name] = (obj.dtype.str, obj.shape, obj[()].tobytes())
        f.visititems(visit)
    return out


label, files = sys.argv[1], sys.argv[2:]
ref = content(files[0])
failed = 0
for other in files[1:]:
    got = content(other)
    diff = sorted(k for k in set(ref) | set(got) if ref.get(k) != got.get(k))
    ok = not diff
    failed += not ok
    print("%s: %s: %s holds the same bytes as %s (%d datasets and attributes)%s" % (
        "PASS" if ok else "FAIL", label, other.split("/")[-1], files[0].split("/")[-1], len(ref),
        "" if ok else ": differ: " + ", ".join(diff[:8])))
sys.exit(1 if failed else 0)
