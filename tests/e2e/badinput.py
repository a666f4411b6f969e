#!/usr/bin/python3
"""The bad-input matrix of tests/t_badinput.sh: writes the input files into
DIR/in and the cases into DIR/cases.tsv, one per line:

    name <TAB> expect <TAB> arg <TAB> arg ...

expect is "error:STATUS:REGEX" (one 'popseg: error' line matching REGEX, exit
STATUS, nothing written) or "ok:REGEX" (exit 0, stdout matching REGEX).
In the arguments, @IN is DIR/in and @OUT an empty output directory.

usage: badinput.py DIR CENSUS.csv CENSUS2017.csv BAD_OPTIONS.tsv
"""
import csv
import os
import sys

import h5py
import numpy as np

d, census, c17, badopts = sys.argv[1:5]
IN = os.path.join(d, "in")
os.makedirs(IN, exist_ok=True)
cases = []


def case(name, expect, *args):
    cases.append((name, expect) + args)


def write(name, data, mode="w"):
    with open(os.path.join(IN, name), mode + ("b" if isinstance(data, bytes) else ""),
              **({} if isinstance(data, bytes) else {"encoding": "utf-8", "newline": ""})) as f:
        f.write(data)


RUN = ("run",)
OUTS = ("-o", "@OUT/r.h5", "--csv", "@OUT/s.csv", "--report", "@OUT/r.md")


def run_csv(name, expect, text, *extra):
    fname = name + ".csv"
    write(fname, text)
    case("csv " + name, expect, *RUN, "@IN/" + fname, *OUTS, *extra)


# A small well-formed table to vary: id, name, three features, six rows.
def table(rows, header="id,name,a,b,c"):
    return header + "\n" + "\n".join(rows) + "\n"


GOOD = ["%d,r%d,%d,%d.5,%d" % (i, i, i * 3 % 7, i, (i * i) % 5) for i in range(1, 7)]

# ---------------------------------------------------------------- CSV
run_csv("empty", "error:3:empty file", "")
run_csv("header_only", "error:3:no data rows", "id,name,a,b\n")
run_csv("quoted_newline", "ok:segments", table(GOOD[:5] + ['6,"two\nlines",1,2,3']), "--k", "2")
write("long_line.csv", table(GOOD + ["7,r7,1," + "1" * 10_000_000 + ",3"]))
case("csv a 10 MB number", "error:3:long_line.csv:8: column 4 \\('b'\\): '1+' is not a number",
     *RUN, "@IN/long_line.csv", *OUTS)
write("long_name.csv", table(GOOD + ["7,r" + "x" * 10_000_000 + ",1,2,3"]))
case("csv a 10 MB name", "ok:segments", *RUN, "@IN/long_name.csv", *OUTS, "--k", "2")
run_csv("invalid_utf8", "error:3:invalid_utf8.csv:3: column 2 \\('name'\\): not valid UTF-8",
        (table(GOOD[:1]) + "2,caf\xe9,1,2,3\n" + "\n".join(GOOD[2:]) + "\n").encode("latin-1"))
run_csv("ragged", "error:3:ragged.csv:4: ragged row", table(GOOD[:2] + ["3,r3,1,2"] + GOOD[3:]))
run_csv("duplicate_names", "error:3:duplicate column name 'a'", table(GOOD, "id,name,a,a,c"))
run_csv("number_1e999", "error:3:'1e999' is not a number", table(GOOD[:3] + ["4,r4,1e999,2,3"] + GOOD[4:]))
run_csv("number_minus_zero", "ok:segments", table(GOOD[:3] + ["4,r4,-0,2,3"] + GOOD[4:]), "--k", "2")
run_csv("number_hex", "error:3:'0x10' is not a number", table(GOOD[:3] + ["4,r4,0x10,2,3"] + GOOD[4:]))
run_csv("number_blanks", "ok:segments", table(GOOD[:3] + ["4,r4, 12 ,2,3"] + GOOD[4:]), "--k", "2")
run_csv("number_thousands", "error:3:'1,234' is not a number",
        table(GOOD[:3] + ['4,r4,"1,234",2,3'] + GOOD[4:]))
run_csv("nan_spellings_dropped", "ok:dropped 3 of 9 rows",
        table(GOOD + ["7,r7,NaN,1,1", "8,r8,nan,1,1", "9,r9,NA,1,1"]), "--k", "2")
for spell in ("inf", "-Infinity", "nan(0x1)"):
    run_csv("spelled_" + spell.strip("-()").replace("(", "_"), "error:3:'%s' is not a number" %
            spell.replace("(", "\\(").replace(")", "\\)"),
            table(GOOD[:3] + ["4,r4,%s,2,3" % spell] + GOOD[4:]))
run_csv("all_missing_column", "error:3:every one of the 6 rows has a missing value",
        table(["%d,r%d,%d,,1" % (i, i, i) for i in range(1, 7)]))
run_csv("one_row", "error:3:one_row.csv: 1 row: PCA and k-means need at least 2 rows", table(GOOD[:1]))
run_csv("two_rows", "ok:segments", table(GOOD[:2]), "--k", "2")

# ---------------------------------------------------------------- HDF5
def h5(name, feats, fnames=("a", "b", "c"), rows=True, extra=None):
    p = os.path.join(IN, name)
    with h5py.File(p, "w") as f:
        if feats is not None:
            f["features"] = feats
        f["feature_names"] = np.array([s.encode() for s in fnames])
        if rows:
            n = len(feats) if feats is not None else 6
            f["rows/id"] = np.arange(100, 100 + n, dtype=np.int64)
            f["rows/name"] = np.array([b"r%d" % i for i in range(n)], dtype="S8")
        if extra:
            extra(f)
    return "@IN/" + name


X = np.arange(18, dtype=float).reshape(6, 3) ** 1.5
write("not_hdf5.h5", "id,name,a\n1,x,2\n")
case("hdf5 not an HDF5 file", "error:3:not_hdf5.h5: not an HDF5 file", *RUN, "@IN/not_hdf5.h5", *OUTS)
good = h5("good.h5", X)
with open(os.path.join(IN, "good.h5"), "rb") as f:
    write("truncated.h5", f.read(800))
case("hdf5 truncated", "error:2:truncated.h5: cannot open as an HDF5 file", *RUN, "@IN/truncated.h5", *OUTS)
case("hdf5 wrong dataset names", "error:3:wrong_names.h5: /features: dataset not found", *RUN,
     h5("wrong_names.h5", None, extra=lambda f: f.__setitem__("data", X)), *OUTS)
case("hdf5 strings as features", "error:3:/features: expected numbers, found strings", *RUN,
     h5("string_features.h5", np.array([[b"1"] * 3] * 6)), *OUTS)
case("hdf5 integer features are converted", "ok:segments", *RUN,
     h5("int_features.h5", (X * 10).astype(np.int32)), *OUTS, "--k", "2")
case("hdf5 float32 features are converted", "ok:segments", *RUN,
     h5("f32_features.h5", X.astype(np.float32)), *OUTS, "--k", "2")
case("hdf5 wrong rank", "error:3:/features: expected a 2-D dataset", *RUN,
     h5("rank3.h5", X.reshape(6, 3, 1)), *OUTS)
case("hdf5 zero rows", "error:3:zero_rows.h5: the table has no rows", *RUN,
     h5("zero_rows.h5", np.zeros((0, 3))), *OUTS)
case("hdf5 one feature", "ok:segments", *RUN, h5("one_feature.h5", X[:, :1], fnames=("a",)),
     *OUTS, "--k", "2")
case("hdf5 without /rows gets ids 0..n-1", "ok:note +.*no_rows.h5 has no /rows: rows are numbered", *RUN,
     h5("no_rows.h5", X, rows=False), *OUTS, "--k", "2")
case("hdf5 duplicate feature names", "error:3:dup_features.h5: feature 'a' appears twice", *RUN,
     h5("dup_features.h5", X, fnames=("a", "b", "a")), *OUTS)
def latin1_names(f):
    del f["feature_names"]
    f["feature_names"] = np.array([b"a", b"b\xff", b"c"])


case("hdf5 invalid UTF-8 feature name", "error:3:feature 2: the name is not valid UTF-8", *RUN,
     h5("utf8_feature.h5", X, extra=latin1_names), *OUTS)
def latin1_row(f):
    del f["rows/name"]
    f["rows/name"] = np.array([b"r0", b"r1", b"r2", b"Pe\xf1a", b"r4", b"r5"], dtype="S8")


def utf8_rows(f):
    del f["rows/name"]
    f["rows/name"] = np.array([s.encode() for s in ("Doña Ana", "Bayamón", "r2", "r3", "日本", "r5")],
                              dtype="S12")


# Row names: all-ASCII blocks skip the decoder (table.c), the others take it.
case("hdf5 invalid UTF-8 row name", "error:3:utf8_row.h5: row 4 \\(id 103\\): the name is not valid "
     "UTF-8 \\(byte 0xF1 at position 3\\)", *RUN, h5("utf8_row.h5", X, extra=latin1_row), *OUTS)
case("hdf5 UTF-8 row names", "ok:segments", *RUN, h5("utf8_rows.h5", X, extra=utf8_rows), *OUTS,
     "--k", "2")
case("hdf5 --id-column is refused", "error:1:--id-column applies to CSV input only", *RUN, good,
     *OUTS, "--id-column", "id")
case("hdf5 --missing is refused", "error:1:--missing applies to CSV input only", *RUN, good,
     *OUTS, "--missing", "error")

# ----------------------------------------------------------- options
CENSUS = "@IN/census.csv"
with open(census, "rb") as src:
    write("census.csv", src.read())
with open(c17, "rb") as src:
    write("census2017.csv", src.read())
for line in open(badopts, encoding="utf-8"):
    flag, value = line.rstrip("\n").split("\t")
    case("option %s %s" % (flag, value), "error:1:%s '%s' must be" % (flag, value.replace("+", "\\+")),
         *RUN, CENSUS, *OUTS, flag, value)
case("unknown option", "error:1:unknown option '--frobnicate'", *RUN, CENSUS, *OUTS, "--frobnicate")
case("repeated option", "error:1:--k is given twice", *RUN, CENSUS, *OUTS, "--k", "3", "--k", "4")
case("contradicting options", "error:1:--pca-keep and --pca-variance contradict each other", *RUN,
     CENSUS, *OUTS, "--pca-keep", "3", "--pca-variance", "0.9")
case("option without its value", "error:1:--k needs a value", *RUN, CENSUS, *OUTS, "--k")

# ------------------------------------------------- outputs naming inputs
for spelling in ("@IN/census.csv", "@IN/./census.csv", "@IN/link.csv", "@IN/hard.csv"):
    case("-o %s (the input) is refused even with --force" % spelling.split("/")[-1],
         "error:1:is the input .*never writes over an input", *RUN, CENSUS, "-o", spelling, "--force")
os.symlink("census.csv", os.path.join(IN, "link.csv"))
os.link(os.path.join(IN, "census.csv"), os.path.join(IN, "hard.csv"))
case("--csv naming the input is refused", "error:1:--csv '.*census.csv' is the input", *RUN, CENSUS,
     "-o", "@OUT/r.h5", "--csv", "@IN/census.csv", "--force")
case("--report naming the input is refused", "error:1:--report '.*hard.csv' is the input", *RUN,
     CENSUS, "--report", "@IN/hard.csv", "--force")
case("import onto its own input is refused", "error:1:the output '.*census.csv' is the input",
     "import", CENSUS, "@IN/./census.csv", "--force")
case("two outputs naming one file", "error:1:--csv and --report name the same file", *RUN, CENSUS,
     "--csv", "@OUT/x.txt", "--report", "@OUT/./x.txt")

# predict: the model and the new data are inputs too; --rename applies to HDF5 new data
case("fit for predict", "ok:segments", *RUN, CENSUS, "-o", "@IN/model.h5", "--force", "--kmeans-n-init", "2")
case("predict -o naming the model is refused", "error:1:-o '.*model.h5' is the model", "predict",
     "@IN/model.h5", "@IN/census2017.csv", "-o", "@IN/model.h5", "--force",
     "--rename", "CountyId=CensusId", "--rename", "VotingAgeCitizen=Citizen")
case("predict --csv naming the new data is refused", "error:1:--csv '.*census2017.csv' is the new data",
     "predict", "@IN/model.h5", "@IN/census2017.csv", "--csv", "@IN/census2017.csv", "--force",
     "--rename", "CountyId=CensusId", "--rename", "VotingAgeCitizen=Citizen")
case("import 2017", "ok:wrote", "import", "@IN/census2017.csv", "@IN/c17.h5", "--force",
     "--id-column", "CountyId")
case("predict on HDF5 new data applies --rename", "ok:3219 rows labelled", "predict", "@IN/model.h5",
     "@IN/c17.h5", "-o", "@OUT/p.h5", "--rename", "VotingAgeCitizen=Citizen")
case("predict on HDF5 new data without --rename names the feature", "error:3:missing: Citizen; extra: VotingAgeCitizen",
     "predict", "@IN/model.h5", "@IN/c17.h5", "-o", "@OUT/p.h5")
case("a results file is not a table", "error:3:model.h5: is a popseg results file, not a table",
     *RUN, "@IN/model.h5", *OUTS)
case("info on a results file names it", "error:3:model.h5: is a popseg results file", "info", "@IN/model.h5")

with open(os.path.join(d, "cases.tsv"), "w", encoding="utf-8") as f:
    for c in cases:
        assert all("\t" not in x and "\n" not in x for x in c), c
        f.write("\t".join(c) + "\n")
print(len(cases))
