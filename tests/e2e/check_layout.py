#!/usr/bin/python3
"""README's layout tables ("Files popseg writes") against files popseg wrote.

usage: check_layout.py README.md KIND FILE.h5 [KIND FILE.h5 ...]   (KIND: table,
results, predictions). For each table <!-- layout: KIND --> ... <!-- /layout -->:
the datasets (dimension scales included) are exactly the rows, with the dtype
and the dimension names given, and the attributes of each object are exactly
those listed. Prints PASS:/FAIL: lines.
"""
import re
import sys

import h5py
import numpy as np

SKIP_ATTRS = {"description", "CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST"}
TYPES = {"float64": "<f8", "int64": "<i8", "int32": "<i4", "string": "S"}
failed = 0


def check(ok, name):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name)
    failed |= not ok


def parse(readme, kind):
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"<!-- layout: %s -->\n(.*?)<!-- /layout -->" % kind, text, re.S)
    if not m:
        return None, None
    sets, attrs = {}, {}
    for line in m.group(1).splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) < 4 or not cols[0].startswith("`"):
            continue
        path = cols[0].split("`")[1].lstrip("/")
        if cols[0].endswith("attributes"):
            # names are the backticked words, not a value ("= `x`") nor a note in ()
            txt = re.sub(r"\([^)]*\)", "", cols[3])
            txt = re.sub(r"= `[^`]*`", "", txt)
            attrs[path] = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", txt))
        else:
            sets[path] = (cols[1], tuple(d.strip() for d in cols[2].split(",")))
    return sets, attrs


def objects(f):
    """Every dataset and group by one name: an object reached through several
    hard links (a dimension scale linked into the groups that use it) under its
    shortest path, which is where the README lists it."""
    links = []
    def walk(g, prefix):
        for key in g.keys():
            name = prefix + key
            links.append(name)
            if isinstance(g[key], h5py.Group):
                walk(g[key], name + "/")
    walk(f, "")
    out, seen = {"": f}, {}
    for name in sorted(links, key=lambda n: (n.count("/"), n)):
        addr = h5py.h5o.get_info(f[name].id).addr
        if addr not in seen:
            seen[addr] = name
            out[name] = f[name]
    return out


def dims_of(ds):
    if "CLASS" in ds.attrs and bytes(ds.attrs["CLASS"]) == b"DIMENSION_SCALE":
        return (bytes(ds.attrs["NAME"]).rstrip(b"\0").decode(),)
    return tuple(ds.dims[i][0].name.split("/")[-1] if len(ds.dims[i]) else None
                 for i in range(ds.ndim))


def parse_kinds(readme, kind, f):
    """KIND or KIND+KIND...: the union of the tables; a path with k<K> stands
    for every k of the file's /sweep/k; a row whose text starts with "only
    when" may be absent. Returns (sets, attrs, optional) or (None, None, None)."""
    sets, attrs, optional = {}, {}, set()
    ks = [int(k) for k in f["sweep/k"][()]] if "sweep/k" in f else []
    for kd in kind.split("+"):
        s, a = parse(readme, kd)
        if s is None:
            return None, None, None
        opt = parse_optional(readme, kd)
        for name, v in s.items():
            for n in ([name.replace("k<K>", "k%d" % k) for k in ks] if "k<K>" in name else [name]):
                sets[n] = v
                if name in opt:
                    optional.add(n)
        for name, v in a.items():
            for n in ([name.replace("k<K>", "k%d" % k) for k in ks] if "k<K>" in name else [name]):
                attrs[n] = attrs.get(n, set()) | v
    return sets, attrs, optional


def parse_optional(readme, kind):
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"<!-- layout: %s -->\n(.*?)<!-- /layout -->" % kind, text, re.S)
    out = set()
    for line in m.group(1).splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) >= 4 and cols[0].startswith("`") and cols[3].startswith("only when"):
            out.add(cols[0].split("`")[1].lstrip("/"))
    return out


def check_file(readme, kind, path):
    with h5py.File(path, "r") as f:
        sets, attrs, optional = parse_kinds(readme, kind, f)
        if sets is None:
            check(False, "README has a layout table for %s" % kind)
            return
        objs = objects(f)
        got_sets = {n for n, o in objs.items() if isinstance(o, h5py.Dataset)}
        sets = {n: v for n, v in sets.items() if n not in optional or n in got_sets}
        check(got_sets == set(sets), "%s: datasets are README's (only in file: %s; only in README: %s)"
              % (kind, sorted(got_sets - set(sets)), sorted(set(sets) - got_sets)))
        bad = []
        for name, (typ, dims) in sets.items():
            if name not in f:
                continue
            ds = f[name]
            want = TYPES.get(typ)
            if want == "S":
                ok_type = h5py.check_string_dtype(ds.dtype) is not None
            else:
                ok_type = ds.dtype == np.dtype(want)
            if not ok_type or dims_of(ds) != dims:
                bad.append("%s (%s %s vs %s %s)" % (name, ds.dtype, dims_of(ds), typ, dims))
        check(not bad, "%s: types and dimensions as in README%s" % (kind, ": " + "; ".join(bad) if bad else ""))
        bad = []
        for name, o in objs.items():
            if isinstance(o, h5py.Dataset):
                continue
            got = set(o.attrs.keys()) - SKIP_ATTRS
            want = attrs.get(name, set())
            if got != want:
                bad.append("/%s: file %s, README %s" % (name, sorted(got - want), sorted(want - got)))
        check(not bad, "%s: attributes as in README%s" % (kind, ": " + "; ".join(bad) if bad else ""))
        nodesc = [n for n, o in objs.items() if isinstance(o, h5py.Dataset) and "description" not in o.attrs]
        check(not nodesc, "%s: every dataset has a description%s" % (kind, " (not: %s)" % nodesc if nodesc else ""))


if __name__ == "__main__":
    a = sys.argv[1:]
    for i in range(1, len(a), 2):
        check_file(a[0], a[i], a[i + 1])
    sys.exit(failed)
