"""check_html.py - the HTML report without a browser (run with /usr/bin/python3).

  check_html.py data HTML FILE.h5   the page's JSON (#popseg-data) parses and holds what
                                    the results or predictions file holds (h5py)
  check_html.py static HTML         self-contained: no src/href to another address, no
                                    <link>, no @import; every <script> closed once
Prints one PASS/FAIL line per check; exit 1 if any failed.
"""
import json
import math
import re
import sys

import h5py
import numpy as np

FAILED = 0


def report(name, ok, why=""):
    global FAILED
    print(f"PASS: {name}" if ok else f"FAIL: {name}: {why}")
    if not ok:
        FAILED = 1


def page_data(html):
    text = open(html, encoding="utf-8").read()
    m = re.search(r'<script id="popseg-data" type="application/json">(.*?)</script>', text, re.S)
    if not m:
        return text, None
    return text, json.loads(m.group(1))


def strs(a):
    return [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in a]


def close(a, b, rel):
    a = np.array([np.nan if v is None else v for v in np.ravel(a)], dtype=float)
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        return False
    both = np.isnan(a) & np.isnan(b)
    return bool(np.all(both | (np.abs(a - b) <= rel * np.maximum(1.0, np.abs(b)))))


def cmd_data(html, h5):
    tag = html.split("/")[-1]
    try:
        text, d = page_data(html)
    except json.JSONDecodeError as e:
        report(f"{tag}: the page's JSON parses", False, str(e))
        return
    report(f"{tag}: the page's JSON parses", d is not None, "no #popseg-data element")
    if d is None:
        return
    with h5py.File(h5, "r") as f:
        n = f["rows/id"].shape[0]
        stride = 1 if n <= 20000 else -(-n // 20000)
        names = strs(f["rows/name"][::stride])
        report(f"{tag}: every drawn row's name, through the escaper and back", d["rows"]["names"] == names,
               f"first difference at {next((i for i, (a, b) in enumerate(zip(d['rows']['names'], names)) if a != b), -1)}")
        report(f"{tag}: ids and segments of the drawn rows",
               d["rows"]["ids"] == f["rows/id"][::stride].tolist()
               and d["rows"]["seg"] == f["kmeans/labels"][::stride].tolist(), "differ")
        report(f"{tag}: rows, stride", d["rows"]["n_total"] == n and d["rows"]["stride"] == stride,
               f"{d['rows']['n_total']} / {d['rows']['stride']} vs {n} / {stride}")
        k = f["segment"].shape[0]
        sizes = np.bincount(f["kmeans/labels"][()], minlength=k).tolist()
        report(f"{tag}: segment sizes over every row", [s["size"] for s in d["segments"]] == sizes,
               f"{[s['size'] for s in d['segments']]} vs {sizes}")
        report(f"{tag}: features", d["features"] == strs(f["feature_names"][()]), "differ")
        if "rows/weight" in f:
            ws = np.bincount(f["kmeans/labels"][()], weights=f["rows/weight"][()], minlength=k)
            report(f"{tag}: weight per segment", close([s["weight"] for s in d["segments"]], ws, 1e-12), "differ")
        if d["kind"] == "results":
            report(f"{tag}: explained variance ratio", close(d["evr"], f["pca/explained_variance_ratio"][()], 1e-5),
                   "differs")
            K = f["projection"].shape[1]
            report(f"{tag}: kept components", close(d["components"], f["pca/components"][:K], 1e-4), "differ")
            report(f"{tag}: centroids", close(d["centroids"], f["kmeans/centroids"][()], 1e-4), "differ")
            report(f"{tag}: index scores (NaN as null)", close(d["index"], f["profile/index"][()], 1e-4), "differ")
            report(f"{tag}: first two components of the drawn rows",
                   close(d["rows"]["pc1"], f["projection"][::stride, 0], 1e-3)
                   and close(d["rows"]["pc2"], f["projection"][::stride, 1] if K > 1 else np.zeros(len(names)), 1e-3),
                   "differ")
        if "rows/key" in f:
            report(f"{tag}: key figures of the drawn rows and their features",
                   d["rows"]["key_names"] == strs(f["key_feature"][()])
                   and close(d["rows"]["key"], f["rows/key"][::stride], 1e-4), "differ")
        elif d["kind"] == "results" and "profile/index" in f:
            report(f"{tag}: a fit with a profile keeps key figures", False, "no /rows/key")
        if "sweep/k" in f:
            report(f"{tag}: sweep k, inertia, suggested k",
                   d["sweep"]["k"] == f["sweep/k"][()].tolist()
                   and close(d["sweep"]["inertia"], f["sweep/inertia"][()], 1e-7)
                   and d["sweep"]["suggested"] == int(f["sweep"].attrs["suggested_k"]), "differ")
        if "kmeans/sub/labels" in f:
            report(f"{tag}: sub-segment codes and labels",
                   d["sub"]["codes"] == strs(f["kmeans/sub/codes"][()])
                   and d["rows"]["sub"] == f["kmeans/sub/labels"][::stride].tolist(), "differ")
        if d["kind"] == "predictions":
            report(f"{tag}: transition table", d["predict"]["transition"] == f["predict/transition"][()].tolist(),
                   "differs")
            report(f"{tag}: each drawn row's segment in the model's data",
                   d["rows"]["old"] == f["predict/model_label"][::stride].tolist(), "differs")


def cmd_static(html):
    tag = html.split("/")[-1]
    text = open(html, encoding="utf-8").read()
    ext = re.findall(r'''(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*''', text, re.I)
    report(f"{tag}: nothing loaded from another address (src/href)", not ext, str(ext[:3]))
    report(f"{tag}: no <link> and no @import", not re.search(r"<link\b|@import", text, re.I), "found")
    opens = len(re.findall(r"<script\b", text, re.I))
    closes = len(re.findall(r"</script", text, re.I))
    report(f"{tag}: every <script> closed exactly once ({opens})", opens == closes and opens >= 2,
           f"{opens} <script, {closes} </script")


def main(argv):
    if argv[1] == "data":
        cmd_data(argv[2], argv[3])
    elif argv[1] == "static":
        cmd_static(argv[2])
    else:
        sys.exit(f"check_html.py: unknown command {argv[1]}")
    return FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
