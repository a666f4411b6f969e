"""check_geo.py - numpy / scikit-learn / pandas oracle for the geodemographic
options (run with /usr/bin/python3 by tests/t_geo.sh).

Every check recomputes what popseg wrote from the CSV alone, with its own
implementation of the prep steps (shares, exclusions, weights, transforms), and
prints one "PASS: name" or "FAIL: name: why" line per check.

  check_geo.py pca RES CSV [PREP...]        scaling, (weighted) PCA and projection
  check_geo.py kmeans RES INIT [W]          (weighted) Lloyd from INIT's centroids
                                            against KMeans(sample_weight=...)
  check_geo.py index RES CSV [PREP...]      profile means and index scores (and the
                                            sub-segments') against pandas groupby
  check_geo.py sub RES                      sub-segment structure: parents, codes,
                                            nearest sub-centroid, sizes, weights
  check_geo.py repeat WRES RRES CSVR        integer weights == rows repeated
  check_geo.py selfpredict PRED RES         predict on the training data: both levels
  check_geo.py track PRED RES CSV [PREP...] transitions, new/missing ids, values
                                            outside the training range
  check_geo.py make-repeat CSV OUT_W OUT_R  a census subset with an integer weight
                                            column Rep, and the same rows repeated

PREP is popseg's own option syntax: --weights C, --share B=A,C, --exclude-columns
A,B, --transform T, --transform-columns A,B, --rename FROM=TO.
"""
import sys

import h5py
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler

LABEL_COLS = ("State", "County")
FAILED = 0


def report(name, ok, why=""):
    global FAILED
    if ok:
        print(f"PASS: {name}")
    else:
        FAILED = 1
        print(f"FAIL: {name}: {why}")


def rel_err(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return float(np.max(np.abs(a - b))) / scale if a.size else 0.0


def close(name, a, b, tol):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        report(name, False, f"shape {a.shape} != {b.shape}")
        return
    na, nb = np.isnan(a), np.isnan(b)
    if not np.array_equal(na, nb):
        report(name, False, f"NaN at {np.argwhere(na != nb)[:3].tolist()}")
        return
    e = rel_err(a[~na], b[~nb])
    report(name, e <= tol, f"max difference {e:.3g} > {tol:g}")


def parse_prep(args):
    p = {"weights": None, "share": [], "exclude": [], "transform": "none",
         "tcols": None, "rename": []}
    i = 0
    while i < len(args):
        flag, val = args[i], args[i + 1]
        i += 2
        if flag == "--weights":
            p["weights"] = val
        elif flag == "--share":
            base, cols = val.split("=", 1)
            p["share"].append((base, cols.split(",")))
        elif flag == "--exclude-columns":
            p["exclude"] += val.split(",")
        elif flag == "--transform":
            p["transform"] = val
        elif flag == "--transform-columns":
            p["tcols"] = val.split(",")
        elif flag == "--rename":
            src, dst = val.split("=", 1)
            p["rename"].append((src, dst))
        else:
            sys.exit(f"check_geo.py: unknown prep option {flag}")
    return p


def prepare(csv, prep):
    """The table as popseg should see it: ids, the features in original units
    (after shares and exclusions), the transformed features, the weights."""
    df = pd.read_csv(csv)
    for src, dst in prep["rename"]:  # popseg's --rename FROM=TO
        df = df.rename(columns={src: dst})
    df = df.dropna()
    idcol = df.columns[0]
    feats = df.drop(columns=[idcol, *LABEL_COLS]).astype(np.float64)
    raw = feats.copy()  # shares and weights come from the values as read
    for base, cols in prep["share"]:
        for c in cols:
            feats[c] = raw[c] / raw[base]
    w = raw[prep["weights"]].to_numpy() if prep["weights"] else None
    feats = feats.drop(columns=prep["exclude"])
    orig = feats.copy()
    if prep["transform"] != "none":
        cols = prep["tcols"] or list(feats.columns)
        f = np.log1p if prep["transform"] == "log1p" else np.arcsinh
        for c in cols:
            feats[c] = f(feats[c])
    return df[idcol].to_numpy(np.int64), orig, feats, w


def read(res):
    with h5py.File(res, "r") as f:
        out = {}
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        out["@kmeans"] = dict(f["kmeans"].attrs) if "kmeans" in f else {}
        out["@predict"] = dict(f["predict"].attrs) if "predict" in f else {}
        out["@pca"] = dict(f["pca"].attrs) if "pca" in f else {}
    return out


def names(a):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in a]


def cmd_pca(res, csv, prep):
    r = read(res)
    ids, orig, feats, w = prepare(csv, prep)
    tag = f"{res.split('/')[-1]}"
    report(f"{tag}: feature names after the prep steps", names(r["feature_names"]) == list(orig.columns),
           f"{names(r['feature_names'])[:5]}... != {list(orig.columns)[:5]}...")
    report(f"{tag}: row ids", np.array_equal(r["rows/id"], ids), "ids differ")
    x = feats.to_numpy()
    sc = MinMaxScaler().fit(x)
    xs = sc.transform(x)
    close(f"{tag}: scale factor vs MinMaxScaler", r["scale/factor"], sc.scale_, 1e-12)
    kept = int(r["@pca"]["n_kept"])
    if w is None:
        p = PCA(svd_solver="full").fit(xs)
        mu, ev, comp = p.mean_, p.explained_variance_, p.components_
    else:
        W = w.sum()
        mu = (w[:, None] * xs).sum(0) / W
        d = xs - mu
        cov = (d * w[:, None]).T @ d / W
        ev, vec = np.linalg.eigh(cov)
        order = np.argsort(ev)[::-1]
        ev, comp = ev[order], vec[:, order].T
        ev = np.maximum(ev, 0.0)
    close(f"{tag}: PCA mean", r["pca/mean"], mu, 1e-12)
    close(f"{tag}: explained variance", r["pca/explained_variance"], ev, 1e-10)
    close(f"{tag}: explained variance ratio", r["pca/explained_variance_ratio"], ev / ev.sum(), 1e-10)
    c = r["pca/components"][:kept]
    ref = comp[:kept]
    sign = np.sign(np.sum(c * ref, axis=1))
    close(f"{tag}: the {kept} kept components (up to sign)", c, ref * sign[:, None], 1e-8)
    close(f"{tag}: projection", r["projection"], ((xs - mu) @ ref.T) * sign, 1e-8)


def cmd_kmeans(res, init, wcol):
    r = read(res)
    c0 = read(init)["kmeans/centroids"]
    z = r["projection"]
    w = r["rows/weight"] if wcol else None
    if wcol:
        report(f"{res.split('/')[-1]}: /rows/weight present", w is not None and w.shape == (z.shape[0],),
               "no weights")
    km = KMeans(n_clusters=c0.shape[0], init=c0, n_init=1, algorithm="lloyd", tol=0.0,
                max_iter=300).fit(z, sample_weight=w)
    tag = f"{res.split('/')[-1]}: k-means vs KMeans({'sample_weight' if wcol else 'unweighted'})"
    diff = int((km.labels_ != r["kmeans/labels"]).sum())
    report(f"{tag}: same labels", diff == 0, f"{diff} labels differ")
    close(f"{tag}: centroids", r["kmeans/centroids"], km.cluster_centers_, 1e-10)
    ine = float(r["@kmeans"]["inertia"])
    report(f"{tag}: inertia", abs(ine - km.inertia_) <= 1e-10 * km.inertia_,
           f"{ine!r} vs {km.inertia_!r}")
    if wcol:
        ws = np.bincount(km.labels_, weights=w, minlength=c0.shape[0])
        close(f"{tag}: weight per segment", r["kmeans/weight_sizes"], ws, 1e-12)


def group_means(x, labels, w, m):
    if w is None:
        w = np.ones(x.shape[0])
    df = pd.DataFrame(x * w[:, None])
    df["_w"] = w
    df["_l"] = labels
    g = df.groupby("_l").sum().reindex(range(m))
    return g.drop(columns="_w").to_numpy() / g["_w"].to_numpy()[:, None], g["_w"].to_numpy()


def cmd_index(res, csv, prep):
    r = read(res)
    ids, orig, feats, w = prepare(csv, prep)
    x = orig.to_numpy()
    tag = f"{res.split('/')[-1]}"
    lab = r["kmeans/labels"]
    k = r["kmeans/centroids"].shape[0]
    W = np.ones(len(x)) if w is None else w
    overall = (x * W[:, None]).sum(0) / W.sum()
    close(f"{tag}: overall mean vs pandas", r["profile/overall_mean"], overall, 1e-12)
    close(f"{tag}: overall min", r["profile/overall_min"], x.min(0), 0)
    close(f"{tag}: overall max", r["profile/overall_max"], x.max(0), 0)
    levels = [("segment", lab, k, "profile/mean", "profile/index", "profile/weight")]
    if "kmeans/sub/labels" in r:
        levels.append(("sub-segment", r["kmeans/sub/labels"], r["kmeans/sub/parent"].size,
                       "profile/sub/mean", "profile/sub/index", "profile/sub/weight"))
    for what, l, m, pm, pi, pw in levels:
        mean, wsum = group_means(x, l, w, m)
        close(f"{tag}: {what} means vs pandas groupby", r[pm], mean, 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            idx = np.where(overall == 0, np.nan, 100.0 * mean / overall)
        close(f"{tag}: {what} index scores vs pandas groupby", r[pi], idx, 1e-10)
        close(f"{tag}: {what} weights", r[pw], wsum, 1e-12)


def cmd_sub(res):
    r = read(res)
    tag = f"{res.split('/')[-1]}"
    lab, sub, par = r["kmeans/labels"], r["kmeans/sub/labels"], r["kmeans/sub/parent"]
    cen, z = r["kmeans/sub/centroids"], r["projection"]
    codes = names(r["kmeans/sub/codes"])
    k = r["kmeans/centroids"].shape[0]
    report(f"{tag}: every row's sub-segment splits its segment", np.array_equal(par[sub], lab),
           f"{int((par[sub] != lab).sum())} rows")
    report(f"{tag}: parents run segment by segment, each segment at least once",
           np.array_equal(np.unique(par), np.arange(k)) and np.all(np.diff(par) >= 0), str(par))
    exp = []
    for s in range(k):
        exp += [f"{s}{chr(ord('a') + j)}" for j in range(int((par == s).sum()))]
    report(f"{tag}: codes", codes == exp, f"{codes} != {exp}")
    bad = 0
    for s in range(k):
        rows = lab == s
        subs = np.flatnonzero(par == s)
        d = ((z[rows][:, None, :] - cen[subs][None, :, :]) ** 2).sum(2)
        best = d.min(1)
        mine = d[np.arange(d.shape[0]), np.searchsorted(subs, sub[rows])]
        bad += int((mine > best * (1 + 1e-12) + 1e-300).sum())
    report(f"{tag}: each row's sub-centroid is the nearest of its segment's", bad == 0, f"{bad} rows")
    m = par.size
    report(f"{tag}: sub-segment sizes", np.array_equal(r["kmeans/sub/sizes"], np.bincount(sub, minlength=m)),
           "sizes differ")
    w = r.get("rows/weight")
    ws = np.bincount(sub, weights=w, minlength=m)
    close(f"{tag}: sub-segment weights", r["kmeans/sub/weight_sizes"], ws, 1e-12)
    # A sub-segment's centroid is the (weighted) mean of its rows, up to the
    # last Lloyd step's tolerance: the rows are far nearer it than its spread.
    mean, _ = group_means(z, sub, w, m)
    spread = np.sqrt(((z - cen[sub]) ** 2).sum(1).mean())
    e = float(np.max(np.abs(mean - cen)))
    report(f"{tag}: sub-centroids are their rows' means", e <= 0.05 * spread, f"{e:.3g} vs spread {spread:.3g}")


def cmd_repeat(wres, rres, csvr):
    a, b = read(wres), read(rres)
    rid = pd.read_csv(csvr)["CensusId"].to_numpy(np.int64)
    tag = "integer weights vs repeated rows"
    close(f"{tag}: explained variance ratio", a["pca/explained_variance_ratio"],
          b["pca/explained_variance_ratio"], 1e-10)
    kept = int(a["@pca"]["n_kept"])
    ca, cb = a["pca/components"][:kept], b["pca/components"][:kept]
    sign = np.sign(np.sum(ca * cb, axis=1))
    close(f"{tag}: kept components", ca, cb * sign[:, None], 1e-8)
    close(f"{tag}: centroids", a["kmeans/centroids"], b["kmeans/centroids"] * sign, 1e-10)
    pos = {int(i): j for j, i in enumerate(a["rows/id"])}
    orig = np.array([pos[int(i) // 10] for i in rid])
    diff = int((a["kmeans/labels"][orig] != b["kmeans/labels"]).sum())
    report(f"{tag}: every copy has its row's label", diff == 0, f"{diff} differ")
    ine_a, ine_b = float(a["@kmeans"]["inertia"]), float(b["@kmeans"]["inertia"])
    report(f"{tag}: inertia", abs(ine_a - ine_b) <= 1e-10 * ine_b, f"{ine_a!r} vs {ine_b!r}")
    close(f"{tag}: index scores", a["profile/index"], b["profile/index"], 1e-10)


def cmd_selfpredict(pred, res):
    p, r = read(pred), read(res)
    for what in ("kmeans/labels", "kmeans/sub/labels"):
        diff = int((p[what] != r[what]).sum()) if what in p else -1
        report(f"predict on the training data reproduces /{what}", diff == 0,
               "missing" if diff < 0 else f"{diff} rows differ")
    report("predict on the training data: no row changed, none new or missing",
           int(p["@predict"]["changed"]) == 0 and p["predict/new_ids"].size == 0
           and p["predict/missing_ids"].size == 0, str(p["@predict"]))
    report("predict on the training data: nothing out of range",
           int(p["@predict"]["rows_out_of_range"]) == 0, str(p["@predict"]))


def cmd_track(pred, res, csv, prep):
    p, r = read(pred), read(res)
    ids, orig, feats, w = prepare(csv, prep)
    x = orig.to_numpy()
    mid = r["rows/id"]
    pos = {int(i): j for j, i in enumerate(mid)}
    old = np.array([r["kmeans/labels"][pos[int(i)]] if int(i) in pos else -1 for i in ids])
    report("track: /predict/model_label from the model's labels by id",
           np.array_equal(p["predict/model_label"], old), "differs")
    new = np.array(sorted(set(ids.tolist()) - set(mid.tolist())), dtype=np.int64)
    missing = np.array(sorted(set(mid.tolist()) - set(ids.tolist())), dtype=np.int64)
    report("track: new ids", np.array_equal(np.sort(p["predict/new_ids"]), new),
           f"{p['predict/new_ids'][:5]} vs {new[:5]}")
    report("track: the 2017 file's Texas-Loving (48301) is new", 48301 in set(p["predict/new_ids"].tolist()),
           str(p["predict/new_ids"][:5]))
    report("track: missing ids", np.array_equal(np.sort(p["predict/missing_ids"]), missing),
           f"{p['predict/missing_ids'][:5]} vs {missing[:5]}")
    lab = p["kmeans/labels"]
    k = r["kmeans/centroids"].shape[0]
    m = old >= 0
    ct = pd.crosstab(pd.Categorical(old[m], range(k)), pd.Categorical(lab[m], range(k)),
                     dropna=False).to_numpy()
    report("track: transition table vs pandas crosstab", np.array_equal(p["predict/transition"], ct),
           "differs")
    report("track: matched and changed", int(p["@predict"]["matched"]) == int(m.sum())
           and int(p["@predict"]["changed"]) == int((old[m] != lab[m]).sum()), str(p["@predict"]))
    if w is not None and "predict/transition_weight" in p:
        tw = np.zeros((k, k))
        np.add.at(tw, (old[m], lab[m]), w[m])
        close("track: transition table in weight", p["predict/transition_weight"], tw, 1e-12)
    lo, hi = r["profile/overall_min"], r["profile/overall_max"]
    out = (x < lo) | (x > hi)
    excess = np.maximum(np.maximum(lo - x, x - hi), 0).max(0)
    report("track: rows out of range per feature vs pandas",
           np.array_equal(p["predict/out_of_range_rows"], out.sum(0)),
           f"{p['predict/out_of_range_rows'].tolist()} vs {out.sum(0).tolist()}")
    close("track: worst excess per feature", p["predict/out_of_range_excess"], excess, 1e-12)
    report(f"track: rows with some value out of range ({int(out.any(1).sum())})",
           int(p["@predict"]["rows_out_of_range"]) == int(out.any(1).sum()), str(p["@predict"]))


def cmd_make_repeat(csv, out_w, out_r):
    df = pd.read_csv(csv).dropna().iloc[::6].copy()
    rep = (np.arange(len(df)) * 7 % 3) + 1
    df.insert(3, "Rep", rep)
    df.to_csv(out_w, index=False)
    rows = []
    for (_, row), n in zip(df.iterrows(), rep):
        for j in range(n):
            row2 = row.copy()
            row2["CensusId"] = int(row["CensusId"]) * 10 + j
            rows.append(row2)
    pd.DataFrame(rows, columns=df.columns).to_csv(out_r, index=False)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "pca":
        cmd_pca(args[0], args[1], parse_prep(args[2:]))
    elif cmd == "kmeans":
        cmd_kmeans(args[0], args[1], args[2] if len(args) > 2 else None)
    elif cmd == "index":
        cmd_index(args[0], args[1], parse_prep(args[2:]))
    elif cmd == "sub":
        cmd_sub(args[0])
    elif cmd == "repeat":
        cmd_repeat(*args)
    elif cmd == "selfpredict":
        cmd_selfpredict(*args)
    elif cmd == "track":
        cmd_track(args[0], args[1], args[2], parse_prep(args[3:]))
    elif cmd == "make-repeat":
        cmd_make_repeat(*args)
    else:
        sys.exit(f"check_geo.py: unknown command {cmd}")
    return FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
