"""check_h5.py - h5py oracle for popseg's HDF5 files (run with /usr/bin/python3).

It regenerates the deterministic test data of tests/unit/test_h5io.c (same
integer hash, same names) and checks files written by popseg without using
popseg, and it writes files popseg must read (foreign writers) or refuse.

  check_h5.py table FILE N D SEED            layout and every value of a table file
  check_h5.py results FILE N SEED NP         documented results layout and values
  check_h5.py predictions FILE N SEED NP     documented predictions layout and values
  check_h5.py same FILE FILE...              identical datasets and attributes
                                             (n_ranks excepted)
  check_h5.py make-foreign FILE N D SEED     a table as another program would write it
  check_h5.py make-bad DIR N D SEED          malformed tables + DIR/errors.tsv
  check_h5.py make-bad-models RESULTS PREDICTIONS N SEED DIR
                                             malformed models, appended to DIR/errors.tsv,
                                             and DIR/model_vlen.h5 (a valid variant)

errors.tsv lines: kind<TAB>file<TAB>code<TAB>text, read by test_h5io error-list.
Exit status 0 when every check holds; failures are listed on stderr.
"""
import math
import os
import re
import shutil
import sys

import h5py
import numpy as np

M64 = (1 << 64) - 1
NAME_W, FNAME_W = 32, 20
T_SOURCE = "data/Doña Ana – census.csv"
T_SHA = "0123456789abcdef" * 4
T_DROPPED = "Río Arriba, Ñ"
R_CMD = "popseg run 'Doña Ana.csv' -o out.h5 --k 3"
R_MODEL = "models/fit Ñ.h5"
R_SEED = (1 << 63) + 12345
R_D, R_P, R_K, R_KC, R_RUNS = 5, 4, 3, 3, 2
PS_ERR_IO, PS_ERR_FORMAT = 2, 3

errors = []


def err(msg):
    errors.append(msg)


# ------------------------------------------------------ deterministic data
def mix(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def h3(seed, a, b):
    return mix(mix(mix(seed & M64) ^ (a & M64)) ^ ((b + 0x632BE59BD9B4E019) & M64))


def gen_value(seed, i, j):
    if j == 0 and i % 11 == 5:
        return 1.7976931348623157e308
    if j == 0 and i % 11 == 6:
        return -4.9406564584124654e-324
    h = h3(seed, i, j)
    frac = (h >> 11) * 2.0 ** -53
    return math.ldexp(frac - 0.5, (h & 63) - 32)


def gen_id(seed, i):
    return (h3(seed, i, 0xFFFFFFFF) >> 1) - (1 << 62)


def gen_name(i):
    k, num = i % 5, i % 1000000
    if k == 0:
        return f"Doña Ana {num}".encode()
    if k == 1:
        return f"Ñandú–東京 {num}".encode()
    if k == 2:
        s = f"R{num}".encode()
        return s + b"x" * (NAME_W - 1 - len(s))
    if k == 3:
        s = f"{num}:".encode()
        while len(s) + 2 <= NAME_W - 1:
            s += "é".encode()
        return s + b"y" * (NAME_W - 1 - len(s))
    return b""


def gen_fname(j):
    k, num = j % 3, j % 10000
    if k == 0:
        return f"Población {num}".encode()
    if k == 1:
        s = f"f{num}".encode()
        return s + b"z" * (FNAME_W - 1 - len(s))
    return f"feat_{num}".encode()


def table_data(n, d, seed):
    x = np.array([[gen_value(seed, i, j) for j in range(d)] for i in range(n)],
                 dtype=np.float64).reshape(n, d)
    ids = np.array([gen_id(seed, i) for i in range(n)], dtype=np.int64)
    names = [gen_name(i) for i in range(n)]
    fnames = [gen_fname(j) for j in range(d)]
    return x, ids, names, fnames


def tagged(seed, tag, i):
    return gen_value(seed, 1000 + tag, i)


def fake_results(n, seed):
    """The fake fit of test_h5io.c make_fake()."""
    r = {}
    x, ids, names, fnames = table_data(n, R_D, seed)
    r["rows/id"], r["rows/name"], r["feature_names"] = ids, names, fnames
    r["projection"] = np.array([[tagged(seed, 20 + j, i) for j in range(R_K)] for i in range(n)],
                               dtype=np.float64).reshape(n, R_K)
    r["kmeans/labels"] = np.array([(i * 7) % R_KC for i in range(n)], dtype=np.int32)
    r["kmeans/distance"] = np.array([abs(tagged(seed, 30, i)) for i in range(n)])
    vec = lambda tag, m: np.array([tagged(seed, tag, i) for i in range(m)], dtype=np.float64)
    r["scale/offset"], r["scale/factor"], r["pca/mean"] = vec(0, R_D), vec(1, R_D), vec(2, R_D)
    r["pca/components"] = vec(3, R_P * R_D).reshape(R_P, R_D)
    r["pca/explained_variance"] = vec(4, R_P)
    r["pca/explained_variance_ratio"] = vec(5, R_P)
    r["pca/singular_values"] = vec(6, R_P)
    r["kmeans/centroids"] = vec(7, R_KC * R_K).reshape(R_KC, R_K)
    r["kmeans/centroids_reconstructed"] = vec(8, R_KC * R_D).reshape(R_KC, R_D)
    r["kmeans/run_inertia"] = vec(9, R_RUNS)
    r["kmeans/run_iterations"] = np.array([17, 4], dtype=np.int32)
    r["kmeans/sizes"] = np.bincount(r["kmeans/labels"], minlength=R_KC).astype(np.int64)
    return r


def popseg_version():
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "include", "popseg",
                           "version.h")) as f:
        return re.search(r'POPSEG_VERSION "([^"]*)"', f.read()).group(1)


# ------------------------------------------------------------------ checks
def is_scale(obj):
    return "CLASS" in obj.attrs and bytes(obj.attrs["CLASS"]) == b"DIMENSION_SCALE"


def all_datasets(f):
    """The datasets that are not dimension scales (those: see check_dims)."""
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj)
                 if isinstance(obj, h5py.Dataset) and not is_scale(obj) else None)
    return out


def check_dims(path, f, want):
    """want: dataset -> tuple of dimension names. Every axis of every dataset
    has its dimension scale attached, named as documented, and a description."""
    for name, dims in want.items():
        if name not in f:
            continue
        ds = f[name]
        got = tuple(ds.dims[i][0].name.split("/")[-1] if len(ds.dims[i]) else None
                    for i in range(ds.ndim))
        if got != dims:
            err(f"{path}: /{name}: dimensions {got}, expected {dims}")
        if "description" not in ds.attrs:
            err(f"{path}: /{name}: no description attribute")


def all_objects(f):
    out = {"/": f}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def str_attr(obj, name):
    v = obj.attrs[name]
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8")
    return str(v)


def check_str_dtype(path, ds, width):
    info = h5py.check_string_dtype(ds.dtype)
    if info is None or info.length != width or info.encoding != "utf-8":
        err(f"{path}: {ds.name}: expected fixed-length UTF-8 strings of {width} bytes, "
            f"got {ds.dtype} {info}")


def check_shape_dtype(path, ds, shape, dtype):
    if ds.shape != shape:
        err(f"{path}: {ds.name}: shape {ds.shape}, expected {shape}")
    if dtype == "str":
        return
    if ds.dtype != np.dtype(dtype):
        err(f"{path}: {ds.name}: dtype {ds.dtype}, expected {dtype}")


def check_bytes_list(path, ds, want):
    got = [bytes(v) for v in ds[()]] if ds.shape[0] else []
    if got != want:
        bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b][:3]
        err(f"{path}: {ds.name}: strings differ (first at {bad}, {len(got)} vs {len(want)})")


def check_values(path, ds, want):
    got = ds[()]
    want = np.asarray(want)
    if got.shape != want.shape or got.dtype.kind != want.dtype.kind or \
            got.tobytes() != want.astype(got.dtype).tobytes():
        err(f"{path}: {ds.name}: values differ from the generated data")


def check_attrs(path, obj, want):
    """want: name -> (kind, value); kind 'str', 'i64', 'u64' or 'f64'."""
    names = set(obj.attrs.keys())
    if names != set(want):
        err(f"{path}: {obj.name}: attributes {sorted(names)}, expected {sorted(want)}")
    for name, (kind, value) in want.items():
        if name not in obj.attrs:
            continue
        v = obj.attrs[name]
        if kind == "str":
            if not isinstance(v, (bytes, np.bytes_)) or str_attr(obj, name) != value:
                err(f"{path}: {obj.name}: attribute {name} = {v!r}, expected {value!r}")
            continue
        dt = {"i64": np.int64, "u64": np.uint64, "f64": np.float64}[kind]
        if np.asarray(v).dtype != dt or np.asarray(v).shape != () or v != value:
            err(f"{path}: {obj.name}: attribute {name} = {v!r} ({np.asarray(v).dtype}), "
                f"expected {value!r} ({np.dtype(dt)})")


def check_table(path, n, d, seed):
    x, ids, names, fnames = table_data(n, d, seed)
    with h5py.File(path, "r") as f:
        ds = all_datasets(f)
        check_dims(path, f, {"features": ("row", "feature"), "rows/id": ("row",),
                             "rows/name": ("row",), "feature_names": ("feature",)})
        if "row" in f and n and not np.array_equal(f["row"][()], ids):
            err(f"{path}: /row: coordinates are not the row ids")
        want = {"features", "rows/id", "rows/name", "feature_names"}
        if set(ds) != want:
            err(f"{path}: datasets {sorted(ds)}, expected {sorted(want)}")
            return
        check_shape_dtype(path, f["features"], (n, d), "<f8")
        if f["features"].chunks is not None:
            err(f"{path}: /features is chunked, not contiguous")
        check_shape_dtype(path, f["rows/id"], (n,), "<i8")
        check_str_dtype(path, f["rows/name"], NAME_W)
        check_str_dtype(path, f["feature_names"], FNAME_W)
        check_shape_dtype(path, f["rows/name"], (n,), "str")
        check_shape_dtype(path, f["feature_names"], (d,), "str")
        check_values(path, f["features"], x)
        check_values(path, f["rows/id"], ids)
        check_bytes_list(path, f["rows/name"], names)
        check_bytes_list(path, f["feature_names"], fnames)
        check_attrs(path, f, {"popseg_file": ("str", "table"),
                              "source": ("str", T_SOURCE), "source_sha256": ("str", T_SHA),
                              "popseg_version": ("str", popseg_version()),
                              "n_read": ("i64", n + 2), "n_dropped": ("i64", 2),
                              "dropped_examples": ("str", T_DROPPED)})


# The results layout comes from README's table (written down once there);
# the synthetic results of test_h5io have no /profile, /prep or /predict (the
# pipeline's stages write those) and none of the "only when" datasets.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from check_layout import parse as parse_layout, parse_optional  # noqa: E402

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
_TYPES = {"float64": "<f8", "int64": "<i8", "int32": "<i4", "string": "str"}


def _shapes(kind):
    sets, _ = parse_layout(README, kind)
    optional = parse_optional(README, kind)
    out = {}
    for name, (typ, dims) in sets.items():
        if name.startswith(("profile/", "prep/", "predict/")) or name in optional or (
                "/" not in name and name in ("row", "feature", "component", "segment")):
            continue
        if name in ("pca/component", "kmeans/run"):
            continue
        sym = tuple({"row": "n", "feature": "d", "segment": "k", "run": "runs",
                     "component": "p" if name.startswith("pca/") else "K"}[x] for x in dims)
        out[name] = (sym, _TYPES[typ])
    return out


RESULT_SHAPES = _shapes("results")
# /feature_names of a predictions file is written by the pipeline's tracking
# step, which the synthetic predictions of test_h5io do not run.
PREDICTION_SETS = set(_shapes("predictions")) - {"feature_names"}
# The dimension names of each axis (netCDF-4 dimension scales).
DIM_NAMES = {"n": "row", "d": "feature", "p": "component", "K": "component", "k": "segment",
             "runs": "run"}


def root_attrs(n, np_, extra):
    a = {"popseg_file": ("str", "predictions" if "model" in extra else "results"),
         "input": ("str", ""), "input_digest": ("str", ""),
         "popseg_version": ("str", popseg_version()), "sums": ("str", "exact"),
         "command_line": ("str", R_CMD),
         "n_ranks": ("i64", np_), "time_read_s": ("f64", 0.5), "time_scale_s": ("f64", 0.25),
         "time_pca_s": ("f64", 1.5), "time_kmeans_s": ("f64", 2.0),
         "time_write_s": ("f64", 0.125), "time_digest_s": ("f64", 0.0625), "source": ("str", T_SOURCE),
         "source_sha256": ("str", T_SHA), "n_rows": ("i64", n)}
    a.update(extra)
    return a


def check_results(path, n, seed, np_, predictions):
    r = fake_results(n, seed)
    dims = {"n": n, "d": R_D, "p": R_P, "K": R_K, "k": R_KC, "runs": R_RUNS}
    names = PREDICTION_SETS if predictions else set(RESULT_SHAPES)
    with h5py.File(path, "r") as f:
        ds = all_datasets(f)
        if set(ds) != names:
            err(f"{path}: datasets {sorted(ds)}, expected {sorted(names)}")
        check_dims(path, f, {name: tuple(DIM_NAMES[s] for s in RESULT_SHAPES[name][0])
                             for name in names})
        groups = {k for k, v in all_objects(f).items() if isinstance(v, h5py.Group)}
        want_groups = {"/", "rows", "kmeans"} | (set() if predictions else {"scale", "pca"})
        if groups != want_groups:
            err(f"{path}: groups {sorted(groups)}, expected {sorted(want_groups)}")
        for name in sorted(names & set(ds)):
            shape, dtype = RESULT_SHAPES[name]
            check_shape_dtype(path, f[name], tuple(dims[s] for s in shape), dtype)
            if name == "rows/name":
                check_str_dtype(path, f[name], NAME_W)
                check_bytes_list(path, f[name], r[name])
            elif name == "feature_names":
                check_str_dtype(path, f[name], FNAME_W)
                check_bytes_list(path, f[name], r[name])
            else:
                check_values(path, f[name], r[name])
        if predictions:
            check_attrs(path, f, root_attrs(n, np_, {"model": ("str", R_MODEL)}))
            check_attrs(path, f["rows"], {})
            check_attrs(path, f["kmeans"], {})
            return
        check_attrs(path, f, root_attrs(n, np_, {"n_read": ("i64", n + 2),
                                                 "n_dropped": ("i64", 2)}))
        check_attrs(path, f["rows"], {})
        if f["pca/component"].shape != (R_P,) or f["component"].shape != (R_K,):
            err(f"{path}: /pca/component must be 1..p and /component 1..K")
        check_attrs(path, f["scale"], {"kind": ("str", "standard")})
        check_attrs(path, f["pca"], {"n_kept": ("i64", R_K), "n_samples": ("i64", n),
                                     "solver": ("str", "scalapack"),
                                     "total_variance": ("f64", 12.5)})
        check_attrs(path, f["kmeans"], {"inertia": ("f64", 123.25), "iterations": ("i64", 17),
                                        "converged": ("i64", 1), "seed": ("u64", R_SEED),
                                        "init": ("str", "kmeans++"), "n_init": ("i64", 2),
                                        "best_run": ("i64", 0), "total_iterations": ("i64", 0),
                                        "time_seed_s": ("f64", 0.0),
                                        "time_lloyd_s": ("f64", 0.0),
                                        "algorithm": ("str", "hamerly"), "distances": ("i64", 0),
                                        "distances_lloyd": ("i64", 0)})


def check_same(paths):
    def content(path):
        out = {}
        with h5py.File(path, "r") as f:
            for name, obj in all_objects(f).items():
                # Dimension-scale attributes hold object addresses, which differ
                # between files; the scales are compared by name instead.
                attrs = {k: (np.asarray(v).dtype.str, np.asarray(v).tobytes())
                         for k, v in obj.attrs.items() if not (name == "/" and k == "n_ranks")
                         and k not in ("DIMENSION_LIST", "REFERENCE_LIST")}
                if isinstance(obj, h5py.Dataset):
                    attrs["dims"] = tuple(obj.dims[i][0].name if len(obj.dims[i]) else None
                                          for i in range(obj.ndim))
                if isinstance(obj, h5py.Dataset):
                    data = obj[()]
                    out[name] = ("dataset", obj.dtype.str, obj.shape, data.tobytes(), attrs)
                else:
                    out[name] = ("group", attrs)
        return out
    first = content(paths[0])
    if len(first) < 3:
        err(f"{paths[0]}: almost empty")
    for p in paths[1:]:
        other = content(p)
        if set(other) != set(first):
            err(f"{p}: objects {sorted(other)} differ from {paths[0]}'s {sorted(first)}")
            continue
        for name in first:
            if first[name] != other[name]:
                err(f"{p}: {name} differs from {paths[0]}")


# --------------------------------------------------------- written by us
def write_table(path, n, d, seed, drop=(), change=None, name_width=NAME_W - 1,
                fname_width=FNAME_W - 1, features_dtype="<f4", ids_dtype=">i8"):
    """A table as another program writes it: float32 features, big-endian
    ids, names exactly filling their (narrower) width, ASCII-tagged strings,
    variable-length string attributes, an int32 attribute."""
    x, ids, names, fnames = table_data(n, d, seed)
    with np.errstate(over="ignore"):
        items = {"features": x.astype(features_dtype), "rows/id": ids.astype(ids_dtype),
                 "rows/name": np.array(names, dtype=f"S{name_width}"),
                 "feature_names": np.array(fnames, dtype=f"S{fname_width}")}
    if change:
        change(items)
    with h5py.File(path, "w") as f:
        for name, value in items.items():
            if name not in drop:
                f.create_dataset(name, data=value)
        f.attrs["source"] = T_SOURCE  # h5py: variable-length UTF-8
        f.attrs["source_sha256"] = T_SHA
        f.attrs["dropped_examples"] = T_DROPPED
        f.attrs["n_read"] = np.int32(n + 2)
        f.attrs["n_dropped"] = np.int16(2)


def make_bad(d_out, n, d, seed):
    os.makedirs(d_out, exist_ok=True)
    lines = []

    def case(fname, kind, code, text, **kw):
        p = os.path.join(d_out, fname)
        write_table(p, n, d, seed, **kw)
        lines.append(f"{kind}\t{p}\t{code}\t{text}")
        return p

    case("missing_features.h5", "table", PS_ERR_FORMAT, "/features: dataset not found",
         drop=("features",))
    # Tables without /rows/id or /rows/name are read (ids 0..n-1, names from
    # the ids, with a note): see t_badinput. A /rows/id of the wrong length is not.
    case("missing_fnames.h5", "table", PS_ERR_FORMAT, "/feature_names: dataset not found",
         drop=("feature_names",))

    def setter(name, value):
        return lambda items: items.__setitem__(name, value)
    rng = np.random.default_rng(seed)
    case("features_1d.h5", "table", PS_ERR_FORMAT, "/features: expected a 2-D dataset",
         change=setter("features", rng.random(n)))
    case("features_3d.h5", "table", PS_ERR_FORMAT, "/features: expected a 2-D dataset",
         change=setter("features", rng.random((n, d, 2))))
    case("features_str.h5", "table", PS_ERR_FORMAT,
         "/features: expected numbers, found strings",
         change=setter("features", np.array([[b"1.5"] * d] * n, dtype="S4")))
    case("id_short.h5", "table", PS_ERR_FORMAT, f"/rows/id: has {n - 1} entries",
         change=setter("rows/id", np.arange(n - 1, dtype=np.int64)))
    case("id_float.h5", "table", PS_ERR_FORMAT, "/rows/id: expected integers, found floating",
         change=setter("rows/id", np.arange(n, dtype=np.float64)))
    case("id_2d.h5", "table", PS_ERR_FORMAT, "/rows/id: expected a 1-D dataset",
         change=setter("rows/id", np.arange(2 * n, dtype=np.int64).reshape(n, 2)))
    case("name_long.h5", "table", PS_ERR_FORMAT, f"/rows/name: has {n + 1} entries",
         change=setter("rows/name", np.array([b"a"] * (n + 1), dtype="S4")))
    case("names_vlen.h5", "table", PS_ERR_FORMAT, "/rows/name: variable-length strings",
         change=setter("rows/name", np.array(["Doña"] * n, dtype=h5py.string_dtype())))
    case("names_float.h5", "table", PS_ERR_FORMAT, "/rows/name: expected strings",
         change=setter("rows/name", np.zeros(n)))
    case("fnames_wrong.h5", "table", PS_ERR_FORMAT,
         f"/feature_names: has {d + 1} entries but /features has {d} columns",
         change=setter("feature_names", np.array([b"f"] * (d + 1), dtype="S2")))

    p = os.path.join(d_out, "empty.h5")
    with h5py.File(p, "w"):
        pass
    lines.append(f"table\t{p}\t{PS_ERR_FORMAT}\t/features: dataset not found")
    p = os.path.join(d_out, "text.h5")
    with open(p, "w") as f:
        f.write("id,name,x\n1,Doña Ana,2.5\n")
    lines.append(f"table\t{p}\t{PS_ERR_FORMAT}\tnot an HDF5 file")
    lines.append(f"model\t{p}\t{PS_ERR_FORMAT}\tnot an HDF5 file")
    p = os.path.join(d_out, "empty_file.h5")
    open(p, "w").close()
    lines.append(f"table\t{p}\t{PS_ERR_FORMAT}\tnot an HDF5 file")
    p = os.path.join(d_out, "truncated.h5")  # the signature, then nothing usable
    good = os.path.join(d_out, "good.h5")
    write_table(good, n, d, seed)
    with open(good, "rb") as src, open(p, "wb") as dst:
        dst.write(src.read(96))
    lines.append(f"table\t{p}\t{PS_ERR_IO}\tcannot open as an HDF5 file")
    p = os.path.join(d_out, "missing_file.h5")
    lines.append(f"table\t{p}\t{PS_ERR_IO}\tcannot open")
    lines.append(f"model\t{p}\t{PS_ERR_IO}\tcannot open")
    lines.append(f"labels\t{p}\t{PS_ERR_IO}\tcannot open")
    p = os.path.join(d_out, "dir.h5")
    os.makedirs(p, exist_ok=True)
    lines.append(f"table\t{p}\t{PS_ERR_IO}\tis a directory")
    lines.append(f"model\t{good}\t{PS_ERR_FORMAT}\t/scale: group not found")
    lines.append(f"labels\t{good}\t{PS_ERR_FORMAT}\t/kmeans/labels: dataset not found")
    with open(os.path.join(d_out, "errors.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")


def make_bad_models(results, predictions, n, seed, d_out):
    os.makedirs(d_out, exist_ok=True)
    lines = []

    def variant(fname, kind, code, text, edit):
        p = os.path.join(d_out, fname)
        shutil.copyfile(results, p)
        with h5py.File(p, "a") as f:
            edit(f)
        if kind:
            lines.append(f"{kind}\t{p}\t{code}\t{text}")

    def replace(name, value):
        def edit(f):
            del f[name]
            f.create_dataset(name, data=value)
        return edit

    def set_attr(obj, name, value):
        def edit(f):
            f[obj].attrs[name] = value
        return edit

    def del_attr(obj, name):
        def edit(f):
            del f[obj].attrs[name]
        return edit
    F = PS_ERR_FORMAT
    variant("comp_shape.h5", "model", F,
            f"/pca/components: expected [p][{R_D}], found [{R_P}][{R_D + 1}]",
            replace("pca/components", np.zeros((R_P, R_D + 1))))
    variant("comp_1d.h5", "model", F, f"/pca/components: expected a 2-D dataset [p][{R_D}]",
            replace("pca/components", np.zeros(R_P)))
    variant("comp_int.h5", "model", F, "/pca/components: expected floating-point",
            replace("pca/components", np.zeros((R_P, R_D), dtype=np.int32)))
    variant("mean_len.h5", "model", F, f"/pca/mean: expected [{R_D}], found [{R_D - 1}]",
            replace("pca/mean", np.zeros(R_D - 1)))
    variant("ev_len.h5", "model", F,
            f"/pca/explained_variance: expected [{R_P}], found [{R_P + 1}]",
            replace("pca/explained_variance", np.zeros(R_P + 1)))
    variant("sv_missing.h5", "model", F, "/pca/singular_values: dataset not found",
            lambda f: f.__delitem__("pca/singular_values"))
    variant("offset_len.h5", "model", F, f"/scale/factor: expected [{R_D}], found [2]",
            replace("scale/factor", np.zeros(2)))
    variant("cent_shape.h5", "model", F,
            f"/kmeans/centroids: expected [k][{R_K}], found [{R_KC}][{R_K + 1}]",
            replace("kmeans/centroids", np.zeros((R_KC, R_K + 1))))
    variant("no_scale.h5", "model", F, "/scale: group not found",
            lambda f: f.__delitem__("scale"))
    variant("bad_kind.h5", "model", F, "/scale: unknown scaling kind 'fancy'",
            set_attr("scale", "kind", np.bytes_(b"fancy")))
    variant("no_kind.h5", "model", F, "/scale: attribute 'kind' not found",
            del_attr("scale", "kind"))
    variant("kind_number.h5", "model", F, "/scale: attribute 'kind' should be one string",
            set_attr("scale", "kind", np.int64(3)))
    variant("n_kept_big.h5", "model", F,
            f"/pca: attribute n_kept = {R_P + 1} must be between 1 and {R_P}",
            set_attr("pca", "n_kept", np.int64(R_P + 1)))
    variant("no_n_kept.h5", "model", F, "/pca: attribute 'n_kept' not found",
            del_attr("pca", "n_kept"))
    variant("fnames_vlen.h5", "model", F, "/feature_names: variable-length strings",
            replace("feature_names", np.array(["a"] * R_D, dtype=h5py.string_dtype())))
    variant("labels_len.h5", "labels", F, f"/kmeans/labels: expected [{n}], found [{n - 1}]",
            replace("kmeans/labels", np.zeros(n - 1, dtype=np.int32)))
    variant("labels_float.h5", "labels", F, "/kmeans/labels: expected integers",
            replace("kmeans/labels", np.zeros(n)))
    lines.append(f"model\t{predictions}\t{F}\tis a predictions file")
    # Valid variant: variable-length UTF-8 attributes, as h5py writes by default.
    variant("model_vlen.h5", None, 0, "", lambda f: (
        f["scale"].attrs.__setitem__("kind", "standard"),
        f["pca"].attrs.__setitem__("solver", "scalapack"),
        f["pca"].attrs.__setitem__("n_kept", np.int32(R_K))))
    with open(os.path.join(d_out, "errors.tsv"), "a") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    a = argv[2:]
    if cmd == "table":
        check_table(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd in ("results", "predictions"):
        check_results(a[0], int(a[1]), int(a[2]), int(a[3]), cmd == "predictions")
    elif cmd == "same":
        check_same(a)
    elif cmd == "make-foreign":
        write_table(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "make-bad":
        make_bad(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "make-bad-models":
        make_bad_models(a[0], a[1], int(a[2]), int(a[3]), a[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for e in errors[:20]:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
