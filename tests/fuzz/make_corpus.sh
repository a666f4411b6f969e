#!/bin/sh
# make_corpus.sh OUTDIR - the seed corpora of the fuzz targets, one directory
# per target: OUTDIR/csv, OUTDIR/number, OUTDIR/csv_import, OUTDIR/h5table.
# Run from the source tree root (make fuzz does). Seeds:
#   csv         slices of the census files (first lines, a middle block, the
#               last rows, a few columns, CRLF, BOM, quoted fields) and bad
#               CSVs (empty, header only, quoted newlines, a long line,
#               invalid UTF-8, ragged rows, duplicate names, NUL, bare CR,
#               stray and unterminated quotes, odd numbers and missing values)
#   csv_import  the csv seeds, and some of them behind option bytes (see
#               fuzz_csv_import.c: id and label columns, --missing, --rename)
#   number      number strings, good and bad
#   h5table     byte strings that fuzz_h5table.c decodes into valid and broken
#               tables (written by python3, which follows its byte layout)
set -eu
out=${1:?usage: make_corpus.sh OUTDIR}
PYTHON=${PYTHON:-python3}
d15=data/acs2015_county_data.csv
d17=data/acs2017_county_data.csv
for f in "$d15" "$d17"; do
  [ -r "$f" ] || {
    echo "make_corpus.sh: $f not found (run from the source tree root)" >&2
    exit 1
  }
done
mkdir -p "$out/csv" "$out/number" "$out/csv_import" "$out/h5table"

# ------------------------------------------------------------------ CSV
c=$out/csv
head -n 2 "$d15" >"$c/census15-head2.csv"
head -n 6 "$d15" >"$c/census15-head6.csv"
head -n 4 "$d17" >"$c/census17-head4.csv"
{ head -n 1 "$d15"; sed -n '1500,1520p' "$d15"; } >"$c/census15-middle.csv"
{ head -n 1 "$d17"; tail -n 4 "$d17"; } >"$c/census17-tail.csv"
head -n 30 "$d15" | cut -d, -f1-6 >"$c/census15-6cols.csv"
head -n 12 "$d17" | cut -d, -f2,3,4,14 >"$c/census17-labels-first.csv"
head -n 5 "$d15" | sed 's/$/\r/' >"$c/census15-crlf.csv"
{ printf '\357\273\277'; head -n 3 "$d17"; } >"$c/census17-bom.csv"
head -n 5 "$d15" | sed 's/^\([^,]*\),\([^,]*\),\([^,]*\),/\1,"\2","\3, County",/' \
  >"$c/census15-quoted.csv"
head -n 4 "$d17" | tr -d '\n' >"$c/census17-no-newlines.csv"

# w NAME FORMAT: a hand-made file, FORMAT in printf's escapes (no % in them).
# shellcheck disable=SC2059
w() { printf "$2" >"$c/$1"; }
w empty ''
w only-newlines '\n\n\r\n'
w header-only 'a,b,c\n'
w header-only-no-newline 'a,b,c'
w one-column 'x\n1\n2\n\n3\n'
w one-cell 'x\n1'
w quoted-newlines 'id,name,v\n1,"two\nlines",3\n2,"cr\r\nlf",4\n'
w quoted-quotes 'id,name,v\n1,"say ""hi""",3\n2,"""",4\n'
w quoted-header '"a,b","c""d",e\n1,2,3\n'
w ragged-short 'a,b,c\n1,2\n'
w ragged-long 'a,b,c\n1,2,3,4\n'
w duplicate-names 'a,b,a\n1,2,3\n'
w empty-names ',,\n1,2,3\n'
w invalid-utf8 'id,n\303\251me,v\n1,\377\376,2\n2,\303\050,3\n3,\300\257,4\n4,\355\240\200,5\n'
w nul-byte 'a,b\n1,\0002\n'
w bare-cr 'a,b\r1,2\r'
w stray-quote 'a,b\n1,2"3\n'
w unterminated-quote 'a,b\n1,"2\n3,4\n'
w junk-after-quote 'a,b\n1,"2"x\n'
w blank-line-middle 'a\n1\n\n2\n'
w trailing-blank-lines 'id,v\n1,2\n\n\n\r\n'
w utf16le '\377\376a\000,\000b\000\n\0001\000,\0002\000\n\000'
w numbers-odd 'id,v,w\n1,1e999,-0\n2,0x10, 12 \n3,"1,234",1e-999\n4,+.5,5.\n'
w missing-spellings 'id,a,b\n1,NA,2\n2,NaN,3\n3,nan,4\n4,,5\n5, na ,6\n6,1,2\n'
w inf-spellings 'id,a\n1,inf\n2,-Inf\n3,Infinity\n4,nan(1)\n5,1\n'
w all-missing 'id,a\n1,NA\n2,\n'
w ids-duplicate 'id,a\n7,1\n7,2\n'
w ids-not-integer 'id,a\n1.5,1\n2,2\n'
w ids-huge 'id,a\n99999999999999999999,1\n-9223372036854775808,2\n'
w ids-missing 'id,a\n,1\n2,2\n'
w mostly-numeric-label 'id,a,b\n1,1,2\n2,2,3\n3,x,4\n'
w labels-only 'name,state\nx,y\nz,w\n'
w many-labels 'id,s,c,t,v\n1,A,B,C,1\n2,A,B,D,2\n'
awk 'BEGIN { s = ""; for (i = 0; i < 5000; i++) s = s "9";
             print "id,long,v"; print "1," s ",2"; print "2,3,4" }' >"$c/long-line.csv"
awk 'BEGIN { h = "c0"; r = "0"; for (i = 1; i < 600; i++) { h = h ",c" i; r = r "," i }
             print h; print r; print r }' >"$c/many-columns.csv"

# --------------------------------------------------------- CSV import
ci=$out/csv_import
cp "$c"/* "$ci/"
# opt NAME A B FILE: the option bytes A and B (octal) in front of FILE.
# shellcheck disable=SC2059
opt() { { printf "\\001\\$2\\$3"; cat "$c/$4"; } >"$ci/opt-$1"; }
opt missing-error 001 000 missing-spellings
opt id-none 002 000 census15-head6.csv
opt id-col2 004 002 census15-head6.csv
opt id-missing-name 006 000 census15-head2.csv
opt labels-none 010 000 census15-head6.csv
opt labels-col1 020 020 census17-head4.csv
opt labels-col0-col1 030 020 census15-head6.csv
opt labels-blanks 040 040 census15-head6.csv
opt labels-leading-comma 050 020 many-labels
opt labels-trailing-comma 060 020 many-labels
opt labels-missing-name 070 000 census15-head2.csv
opt rename 100 000 census15-head6.csv
opt rename-clash 200 020 census15-head6.csv
opt rename-twice 300 001 census15-head6.csv
opt rename-bad-spec 300 020 census15-head6.csv
opt everything 377 041 missing-spellings

# --------------------------------------------------------------- numbers
n=$out/number
i=0
while IFS= read -r s; do
  i=$((i + 1))
  printf '%s' "$s" >"$n/num-$i"
done <<'EOF'
0
-0
+1
1.
.5
-.5
+.e1
1e5
1E-5
1e+308
1.7976931348623157e308
1.7976931348623159e308
1e999
-1e999
1e-999
4.9e-324
0x10
-0X1p3
 12 
	3	
1,234
NaN
nan
NA
inf
-Infinity
nan(123)

 
+
-
.
e5
1e
1e+
12abc
1 2
00012
123456789012345678901234567890
0.000000000000000000000000000000000001
EOF
printf '\n1' >"$n/num-lf-before"
printf '1\n' >"$n/num-lf-after"
printf '1\0002' >"$n/num-nul"
printf '\303\251' >"$n/num-utf8"

# --------------------------------------------------------- HDF5 tables
"$PYTHON" - "$out/h5table" <<'EOF'
# The byte layout of tests/fuzz/fuzz_h5table.c, in Python.
import os, struct, sys

out = sys.argv[1]
# element kinds (indices into the harness's per-dataset lists)
FEAT = ["f64", "f32", "i32", "i64", "u8", "f64be", "i16be", "u64", "str", "vstr", "enum",
        "compound", "array", "opaque", "bitfield"]
IDS = ["i64", "i32", "u8", "u64", "i16be", "f64", "str", "vstr", "enum", "bitfield"]
NAMES = ["str", "vstr", "f64", "i32", "enum", "compound", "opaque"]
PACK = {"f64": "<d", "f32": "<f", "i32": "<i", "i64": "<q", "u8": "<B", "f64be": "<d",
        "i16be": "<h", "u64": "<Q", "enum": "<b", "compound": "<d", "array": "<dd",
        "opaque": "<I", "bitfield": "<B"}
ATTR_KINDS = ["fixed", "vstr", "vnull", "i64", "f64", "i8", "array", "nullspace", "u64max", "f32"]
# source, source_sha256, dropped_examples, n_read, n_dropped, popseg_file
ATTR_MAX = [6000, 80, 700, 0, 0, 24]


def pack(kind, v):
    """One native element; integers wrap like the harness's C casts."""
    fmt = PACK[kind]
    if fmt[1] in "df":
        return struct.pack(fmt, *([v] * (len(fmt) - 1)))
    unsigned = "<" + fmt[1].upper()
    return struct.pack(unsigned, int(v) & ((1 << (8 * struct.calcsize(unsigned))) - 1))


def dset(which, kind=None, shape=0, layout=0, skip=0, fill=None, unlim=0, width=0, pad=0,
         ascii=0, exact=0, rank_ext=None, values=None, n=3, d=2):
    """One dataset's spec and elements; which is features/fnames/ids/names."""
    kinds = {"features": FEAT, "fnames": NAMES, "ids": IDS, "names": NAMES}[which]
    kind = kind or kinds[0]
    s0 = shape | layout << 3 | skip << 5 | (fill is not None) << 6 | unlim << 7
    b = bytes([s0, kinds.index(kind), width, pad | ascii << 2 | exact << 3])
    want = {"features": [n, d], "fnames": [d], "ids": [n], "names": [n]}[which]
    ext = list(want)
    if shape == 1:
        ext = []
    elif shape == 2:
        ext = None
    elif shape == 3:
        ext = ext + [2]
    elif shape == 4:
        ext = ext[:-1]
    elif shape == 5:
        ext[0] += 1
    elif shape == 6:
        ext[0] = ext[0] - 1 if ext[0] else 2
    elif shape == 7:
        b += bytes([len(rank_ext)] + rank_ext)
        ext = rank_ext
    count = 0 if ext is None else 1
    for e in ext or []:
        count *= e
    if kind in ("str", "vstr"):
        limit = width or 32
        stem = b"feature" if which == "fnames" else b"row"
        vals = values if values is not None else [b"%s %d" % (stem, i) for i in range(count)]
        for v in vals[:count]:
            assert len(v) <= limit
            b += bytes([len(v)]) + v
    else:
        default = [(i + 1000 if which == "ids" else i * 0.5 + 1.0) for i in range(count)]
        vals = values if values is not None else default
        for v in vals[:count]:
            b += pack(kind, v)
    if fill is not None and kind != "vstr":
        if kind == "str":
            b += fill.ljust(width or 1, b"\0")[: width or 1]
        else:
            b += pack(kind, fill)
    return b


def attr(i, kind, value=None):
    numeric = i in (3, 4)
    k = ATTR_KINDS.index(kind)
    raw = {3: 0, 0: 3}.get(k, k) if numeric else k
    b = bytes([raw])
    if kind in ("fixed", "vstr", "vnull", "nullspace"):
        # the harness takes L * max / 255 bytes: the shortest that holds v, NUL-padded
        v = value if value is not None else b""
        mx = ATTR_MAX[i]
        L = next(L for L in range(256) if L * mx // 255 >= len(v))
        b += bytes([L]) + v.ljust(L * mx // 255, b"\0")
    elif kind == "i64":
        b += struct.pack("<q", value if value is not None else 42)
    elif kind == "f64":
        b += struct.pack("<d", value if value is not None else 3.5)
    elif kind == "i8":
        b += struct.pack("<b", value if value is not None else -3)
    elif kind == "f32":
        b += struct.pack("<f", value if value is not None else 1e30)
    return b


def popseg_file(sel):
    """popseg_file by the harness's selector: 0 table, 1 results, 2 predictions."""
    return bytes([ATTR_KINDS.index("fixed"), 0, sel])


def table(name, n=3, d=2, omit=0, rows_dset=0, soft=0, kmeans=0, latest=0, chunk=0,
          dangling=0, ascii_attrs=0, sets=None, attrs=None, pfile=None, tail=b""):
    """sets: {which: dict of dset() options}; attrs: {index: (kind, value)}."""
    attrs = attrs or {}
    h2 = sum(1 << i for i in attrs) | (pfile is not None) << 5 | dangling << 6 | ascii_attrs << 7
    b = bytes([omit | rows_dset << 4 | soft << 5 | kmeans << 6 | latest << 7,
               n | d << 3 | chunk << 6, h2])
    sets = sets or {}
    for bit, which in enumerate(["features", "fnames", "ids", "names"]):
        if omit & (1 << bit) or (rows_dset and which in ("ids", "names")):
            continue
        b += dset(which, n=n, d=d, **sets.get(which, {}))
    for i in sorted(attrs):
        b += attr(i, *attrs[i])
    if pfile is not None:
        b += popseg_file(pfile)
    with open(os.path.join(out, name), "wb") as f:
        f.write(b + tail)


sha = b"0" * 64
# valid tables
table("valid-3x2", n=3, d=2)
table("valid-7x7", n=7, d=7)
table("valid-0-rows", n=0, d=2)
table("valid-1x1", n=1, d=1)
table("valid-popseg-attrs", n=4, d=3,
      attrs={0: ("fixed", b"data/acs2015_county_data.csv"), 1: ("fixed", sha),
             2: ("fixed", b"Alabama-Autauga, Texas-Loving"), 3: ("i64", 6), 4: ("i64", 2)},
      pfile=0)
for k in ["f32", "i32", "i64", "u8", "f64be", "i16be", "u64"]:
    table("valid-features-" + k, n=3, d=2, sets={"features": {"kind": k}})
table("valid-features-special", n=2, d=3,
      sets={"features": {"values": [float("nan"), float("inf"), -0.0, 5e-324, 1.7e308, -1e-300]}})
for k in ["i32", "u8", "u64", "i16be"]:
    table("valid-ids-" + k, n=3, d=2, sets={"ids": {"kind": k}})
table("valid-ids-u64-huge", n=2, d=1, sets={"ids": {"kind": "u64", "values": [2**64 - 1, 2**63]}})
table("valid-names-full-width", n=3, d=2, sets={"names": {"exact": 1}, "fnames": {"exact": 1}})
table("valid-names-width-4", n=3, d=2,
      sets={"names": {"width": 4, "values": [b"abcd", b"ab", b""]},
            "fnames": {"width": 4, "values": [b"x", b"yyyy"]}})
table("valid-names-bad-utf8", n=3, d=2,
      sets={"names": {"values": [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80"]},
            "fnames": {"values": [b"\xc0\xaf", b"ok"]}})
table("valid-names-nul-inside", n=2, d=2,
      sets={"names": {"width": 5, "values": [b"ab\0cd", b"\0\0\0\0x"]},
            "fnames": {"values": [b"a\0b", b"a\0c"]}})
table("valid-names-duplicate", n=2, d=2, sets={"fnames": {"values": [b"same", b"same"]}})
table("valid-names-empty", n=2, d=2,
      sets={"fnames": {"values": [b"", b""]}, "names": {"values": [b"", b""]}})
table("valid-names-nullterm", n=2, d=2, sets={"names": {"pad": 1}, "fnames": {"pad": 1}})
table("valid-names-spacepad", n=2, d=2,
      sets={"names": {"pad": 2, "width": 8, "values": [b"a  ", b" b"]}})
table("valid-names-ascii", n=2, d=2, sets={"names": {"ascii": 1}, "fnames": {"ascii": 1}})
table("valid-names-wide", n=2, d=1, sets={"names": {"width": 255, "values": [b"n" * 255, b"m"]}})
table("valid-chunked", n=7, d=5,
      sets={"features": {"layout": 1}, "ids": {"layout": 1}, "names": {"layout": 1}})
table("valid-compact", n=3, d=2, sets={"features": {"layout": 2}, "fnames": {"layout": 2}})
table("valid-deflate", n=7, d=7, sets={"features": {"layout": 3}, "names": {"layout": 3}})
table("valid-unlimited", n=5, d=3, sets={"features": {"unlim": 1}, "ids": {"unlim": 1}})
table("valid-unwritten-fill", n=3, d=2, sets={"features": {"layout": 1, "skip": 1, "fill": 7.25}})
table("valid-unwritten-chunked", n=3, d=2, sets={"features": {"layout": 1, "skip": 1}})
table("valid-unwritten-names", n=3, d=2, sets={"names": {"layout": 1, "skip": 1}})
table("valid-latest-format", n=3, d=2, latest=1)
table("valid-io-chunk-1", n=7, d=3, chunk=1)
table("valid-io-chunk-24", n=7, d=3, chunk=2)
table("valid-io-chunk-invalid", n=7, d=3, chunk=3)
table("valid-soft-link", n=3, d=2, soft=1)
table("valid-kmeans-group", n=3, d=2, kmeans=1)
table("valid-attrs-long", n=2, d=1,
      attrs={0: ("fixed", b"s" * 6000), 2: ("fixed", b"d" * 700), 1: ("fixed", b"h" * 80)})
table("valid-attrs-vlen", n=2, d=1,
      attrs={0: ("vstr", b"src.csv"), 1: ("vnull", b""), 2: ("vstr", b"")})
table("valid-attrs-counts", n=2, d=1, attrs={3: ("u64max",), 4: ("i8", -5)})
table("valid-attrs-ascii", n=2, d=1, ascii_attrs=1, attrs={0: ("fixed", b"\xff\xfe bytes")})
# broken tables
table("no-features", omit=1)
table("no-features-results", omit=1, kmeans=1)
table("no-features-popseg-results", omit=1, pfile=1)
table("no-features-popseg-predictions", omit=1, pfile=2)
table("no-features-popseg-table", omit=1, pfile=0)
table("no-feature-names", omit=2)
table("no-ids", omit=4)
table("no-names", omit=8)
table("no-rows", omit=12)
table("nothing", omit=15)
table("rows-is-a-dataset", rows_dset=1)
table("soft-link-dangling", soft=1, dangling=1)
table("no-features-columns", n=4, d=0)
for shape, what in [(1, "scalar"), (2, "null"), (3, "extra-dim"), (4, "fewer-dims"),
                    (5, "longer"), (6, "shorter")]:
    for which in ["features", "fnames", "ids", "names"]:
        table("%s-%s" % (which, what), n=3, d=2, sets={which: {"shape": shape}})
table("features-random-shape", n=3, d=2, sets={"features": {"shape": 7, "rank_ext": [3, 2, 2]}})
table("ids-random-shape", n=3, d=2, sets={"ids": {"shape": 7, "rank_ext": [0]}})
for k in ["str", "vstr", "enum", "compound", "array", "opaque", "bitfield"]:
    table("features-" + k, n=3, d=2, sets={"features": {"kind": k}})
for k in ["f64", "str", "vstr", "enum", "bitfield"]:
    table("ids-" + k, n=3, d=2, sets={"ids": {"kind": k}})
for k in ["vstr", "f64", "i32", "enum", "compound", "opaque"]:
    table("names-" + k, n=3, d=2, sets={"names": {"kind": k}})
    table("fnames-" + k, n=3, d=2, sets={"fnames": {"kind": k}})
table("attr-source-int", attrs={0: ("i64", 1)})
table("attr-source-nullspace", attrs={0: ("nullspace", b"x")})
table("attr-n-read-string", attrs={3: ("fixed", b"")})
table("attr-n-read-array", attrs={3: ("array",)})
table("attr-n-read-float", attrs={3: ("f64", float("nan"))})
table("attr-n-dropped-f32", attrs={4: ("f32", 1e30)})
table("compact-too-big", n=7, d=7,
      sets={"names": {"layout": 2, "width": 255, "shape": 7, "rank_ext": [8, 8, 8]}})
EOF
count() { find "$out/$1" -type f | wc -l | tr -d ' '; }
echo "make_corpus.sh: seeds in $out: $(count csv) csv, $(count csv_import) csv_import," \
  "$(count number) number, $(count h5table) h5table"
