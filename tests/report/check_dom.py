"""check_dom.py - assertions on the DOM that headless Chromium rendered from an
HTML report (run with /usr/bin/python3 by tests/report/t_report.sh).

  check_dom.py DOM.html CONSOLE.log RESULTS.h5 ATLAS.json [--no-map] [--not-counties]

What the page must show, recomputed from the results file (h5py) and the
us-atlas TopoJSON, never from the page's own data:
- no console message and nothing in #errors; the script ran to its end;
- one coloured path.county.seg per row whose 5-digit FIPS id has an atlas
  shape inside the Albers USA projection (the states and DC, not Puerto Rico
  or the island areas), one path.county.neutral per other such shape;
- k legend entries; P scree bars; k x K and k x d heatmap cells; k size bars
  and k pen-portrait cards; one scatter point per drawn row;
- with a sweep: one point per k in each sweep chart and the suggested k marked;
- predictions: k x k transition cells, and the changed-counties map colouring
  exactly the rows whose segment changed.
"""
import json
import re
import sys
from html.parser import HTMLParser

import h5py
import numpy as np

FAILED = 0
NOT_ALBERS = {"60", "66", "69", "72", "78"}  # American Samoa, Guam, N. Marianas, Puerto Rico, VI


def report(name, ok, why=""):
    global FAILED
    print(f"PASS: {name}" if ok else f"FAIL: {name}: {why}")
    if not ok:
        FAILED = 1


class Dom(HTMLParser):
    """Elements as (tag, classes, id of the nearest ancestor with an id, attrs)."""

    VOID = {"meta", "br", "img", "input", "hr", "link"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.elems, self.text_of = [], [], {}
        self.cur_text_id = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        anc = [x for x in self.stack if x]
        self.elems.append((tag, set((a.get("class") or "").split()), anc, a))
        if tag not in self.VOID and not tag.endswith("/"):
            self.stack.append(a.get("id"))
        if a.get("id"):
            self.text_of.setdefault(a["id"], "")

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        self.elems.append((tag, set((a.get("class") or "").split()), [x for x in self.stack if x], a))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for i in self.stack:
            if i:
                self.text_of[i] = self.text_of.get(i, "") + data

    def count(self, tag, cls=None, within=None, attr=None):
        n = 0
        for t, c, anc, a in self.elems:
            if t != tag or (cls and not cls <= c) or (within and within not in anc):
                continue
            if attr and attr[0] not in a:
                continue
            n += 1
        return n

    def ids(self, tag, cls, within, key):
        return [a.get(key) for t, c, anc, a in self.elems if t == tag and cls <= c and within in anc]


def main(argv):
    dom_path, console, res, atlas_path = argv[1:5]
    no_map = "--no-map" in argv
    not_counties = "--not-counties" in argv
    tag = res.split("/")[-1]
    dom = Dom()
    dom.feed(open(dom_path, encoding="utf-8").read())
    # The page's own messages (source file://...), not the browser's internal pages'.
    msgs = [l for l in open(console, encoding="utf-8", errors="replace")
            if "CONSOLE" in l and "source: file://" in l]
    report(f"{tag}: no console message from the page", not msgs, "".join(msgs[:3]))
    err_text = dom.text_of.get("errors", "").strip()
    report(f"{tag}: nothing in #errors", err_text == "", err_text[:300])
    report(f"{tag}: the script ran to its end", any(t == "body" and "data-rendered" in a
                                                    for t, c, anc, a in dom.elems), "no data-rendered")
    with h5py.File(res, "r") as f:
        pred = f.attrs["popseg_file"] in (b"predictions", "predictions")
        ids = f["rows/id"][()]
        lab = f["kmeans/labels"][()]
        k = f["segment"].shape[0]
        K = f["projection"].shape[1]
        d = f["feature_names"].shape[0]
        n = ids.size
        stride = 1 if n <= 20000 else -(-n // 20000)
        if not pred:
            P = f["pca/explained_variance_ratio"].shape[0]
            report(f"{tag}: {P} scree bars", dom.count("rect", {"scree-bar"}, "scree-chart") == P,
                   str(dom.count("rect", {"scree-bar"}, "scree-chart")))
            report(f"{tag}: centroid heatmap {k} x {K} cells",
                   dom.count("rect", {"hm-cell"}, "heat-centroids-chart") == k * K,
                   str(dom.count("rect", {"hm-cell"}, "heat-centroids-chart")))
            report(f"{tag}: index heatmap {k} x {d} cells", dom.count("rect", {"hm-cell"}, "heat-index-chart") == k * d,
                   str(dom.count("rect", {"hm-cell"}, "heat-index-chart")))
            report(f"{tag}: component selector with {K} components",
                   dom.count("option", None, "component-select") == K and dom.count("rect", {"makeup-bar"}, "makeup-chart") == min(10, d),
                   f"{dom.count('option', None, 'component-select')} options")
            report(f"{tag}: {k} pen-portrait cards", dom.count("div", {"card"}) == k, str(dom.count("div", {"card"})))
        report(f"{tag}: {k} size bars", dom.count("rect", {"size-bar"}, "sizes-chart") == k,
               str(dom.count("rect", {"size-bar"}, "sizes-chart")))
        nd = -(-n // stride)
        report(f"{tag}: {nd} scatter points", dom.count("circle", {"pt"}, "scatter-chart") == nd,
               str(dom.count("circle", {"pt"}, "scatter-chart")))
        if "sweep/k" in f:
            nk = f["sweep/k"].shape[0]
            sug = int(f["sweep"].attrs["suggested_k"])
            for chart in ("elbow-chart", "silhouette-chart"):
                report(f"{tag}: {chart}: {nk} points, the suggested k = {sug} marked",
                       dom.count("circle", {"sweep-pt"}, chart) == nk and dom.count("circle", {"suggested"}, chart) == 1,
                       f"{dom.count('circle', {'sweep-pt'}, chart)} points")
        if pred:
            report(f"{tag}: transition chart {k} x {k} cells", dom.count("rect", {"hm-cell"}, "transition-chart") == k * k,
                   str(dom.count("rect", {"hm-cell"}, "transition-chart")))
        if no_map or not_counties:
            report(f"{tag}: no map, and the page says why",
                   dom.count("path", {"county"}) == 0 and "No map" in dom.text_of.get("map-svg-missing", ""),
                   dom.text_of.get("map-svg-missing", "(no #map-svg-missing)")[:200])
            return FAILED
        atlas = json.load(open(atlas_path))
        shapes = {g["id"] for g in atlas["objects"]["counties"]["geometries"] if g["id"][:2] not in NOT_ALBERS}
        drawn = {f"{int(i):05d}" for i in ids[::stride]}
        want_seg = len(drawn & shapes)
        want_neutral = len(shapes - drawn)
        got_seg = dom.count("path", {"county", "seg"}, "map-svg")
        got_neutral = dom.count("path", {"county", "neutral"}, "map-svg")
        report(f"{tag}: {want_seg} coloured counties (rows with a shape)", got_seg == want_seg, str(got_seg))
        report(f"{tag}: {want_neutral} neutral counties (shapes without a row)", got_neutral == want_neutral,
               str(got_neutral))
        report(f"{tag}: {k} legend entries", dom.count("li", {"legend-item"}, "map-svg-legend") == k,
               str(dom.count("li", {"legend-item"}, "map-svg-legend")))
        seg_of = {f"{int(i):05d}": int(c) for i, c in zip(ids[::stride], lab[::stride])}
        coloured = dom.ids("path", {"county", "seg"}, "map-svg", "data-id")
        segs = dom.ids("path", {"county", "seg"}, "map-svg", "data-seg")
        bad = sum(1 for i, s in zip(coloured, segs) if seg_of.get(i) != int(s))
        report(f"{tag}: each county coloured by its own segment", bad == 0, f"{bad} wrong")
        unmatched = len(drawn - shapes)
        if unmatched:
            listed = dom.text_of.get("map-svg-unmatched", "")
            report(f"{tag}: the {unmatched} rows without a shape are listed under the map",
                   listed.count("(") == unmatched, f"{listed.count('(')} listed")
        if pred:
            old = f["predict/model_label"][()]
            changed = {f"{int(i):05d}" for i, o, c in zip(ids, old, lab) if o >= 0 and o != c}
            want = len(changed & shapes)
            got = dom.count("path", {"county", "changed"}, "map-changed")
            report(f"{tag}: changed-counties map colours the {want} changed rows with a shape", got == want, str(got))
    return FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
