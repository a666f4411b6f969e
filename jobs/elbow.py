#!/usr/bin/python3
"""jobs/elbow.py - inertia per k from a popseg sweep (jobs/sweep.sbatch).

usage: /usr/bin/python3 jobs/elbow.py RESULTS_DIR [--csv FILE]

Reads RESULTS_DIR/k<k>.h5 (one results file per k), writes a CSV table
(default RESULTS_DIR/elbow.csv) with columns k,inertia,drop,file and prints the
same table aligned on stdout. drop is the relative decrease of inertia from the
previous k in the table; the "elbow" is where it becomes small. A k whose task
failed (k<k>.exit_status not 0, or no file) is listed on stderr and the exit
status is 1. Needs h5py (Debian: python3-h5py, for /usr/bin/python3).
"""
import argparse
import csv
import os
import re
import sys

try:
    import h5py
except ImportError:
    sys.exit("elbow.py: needs h5py (apt-get install python3-h5py; run with /usr/bin/python3)")


def read_inertia(path):
    """(k, inertia) from one results file; inertia is an attribute of /kmeans
    or a scalar dataset /kmeans/inertia."""
    with h5py.File(path, "r") as f:
        if "kmeans" not in f or "centroids" not in f["kmeans"]:
            raise ValueError("no /kmeans/centroids (not a popseg results file?)")
        g = f["kmeans"]
        k = int(g["centroids"].shape[0])
        if "inertia" in g.attrs:
            inertia = g.attrs["inertia"]
        elif "inertia" in g:
            inertia = g["inertia"][()]
        elif "inertia" in f.attrs:
            inertia = f.attrs["inertia"]
        else:
            raise ValueError("no inertia in /kmeans (attribute or dataset)")
        return k, float(inertia.item() if hasattr(inertia, "item") else inertia)


def main():
    ap = argparse.ArgumentParser(description="inertia per k from a popseg sweep")
    ap.add_argument("dir", help="the sweep's results directory (results/<array job id>)")
    ap.add_argument("--csv", help="CSV output (default DIR/elbow.csv)")
    a = ap.parse_args()
    if not os.path.isdir(a.dir):
        sys.exit(f"elbow.py: {a.dir}: not a directory")
    names = os.listdir(a.dir)
    ks = set()
    for n in names:
        m = re.fullmatch(r"k(\d+)\.(h5|exit_status)", n)
        if m:
            ks.add(int(m.group(1)))
    if not ks:
        sys.exit(f"elbow.py: {a.dir}: no k<k>.h5 files (did the sweep run?)")
    rows, bad = [], []
    for k in sorted(ks):
        path = os.path.join(a.dir, f"k{k}.h5")
        st = os.path.join(a.dir, f"k{k}.exit_status")
        status = open(st).read().strip() if os.path.exists(st) else None
        if not os.path.exists(path):
            bad.append(f"k={k}: no results file (exit status {status or 'unknown'})")
            continue
        if status not in (None, "0"):
            bad.append(f"k={k}: task exited {status}")
            continue
        try:
            fk, inertia = read_inertia(path)
        except (OSError, ValueError, KeyError) as e:
            bad.append(f"k={k}: {path}: {e}")
            continue
        if fk != k:
            bad.append(f"k={k}: {path} holds {fk} centroids")
            continue
        rows.append((k, inertia, os.path.basename(path)))
    table = []
    prev = None
    for k, inertia, name in rows:
        drop = "" if prev is None or prev == 0 else f"{(prev - inertia) / prev:.4f}"
        table.append([str(k), f"{inertia:.10g}", drop, name])
        prev = inertia
    out = a.csv or os.path.join(a.dir, "elbow.csv")
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["k", "inertia", "drop", "file"])
        w.writerows(table)
    head = ["k", "inertia", "drop", "file"]
    width = [max(len(r[i]) for r in table + [head]) for i in range(4)]
    print("  ".join(h.rjust(width[i]) if i < 3 else h for i, h in enumerate(head)))
    for r in table:
        print("  ".join(c.rjust(width[i]) if i < 3 else c for i, c in enumerate(r)))
    print(f"(table written to {out})", file=sys.stderr)
    for b in bad:
        print(f"elbow.py: {b}", file=sys.stderr)
    return 1 if bad or not table else 0


if __name__ == "__main__":
    sys.exit(main())
