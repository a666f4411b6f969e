#!/usr/bin/python3
"""Checks of popseg predict against the fit and an independent numpy application
of the stored model. usage: check_predict.py FIT.h5 PRED_TRAIN.h5 PRED2017.h5 PRED2017.csv REPORT2017.md"""
import csv
import sys

import h5py
import numpy as np
import pandas as pd

fit_p, train_p, p17_p, csv17, rep17 = sys.argv[1:6]
failed = 0


def check(ok, name):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name)
    if not ok:
        failed = 1


fit, tr, p17 = h5py.File(fit_p), h5py.File(train_p), h5py.File(p17_p)
check(np.array_equal(tr["kmeans/labels"][:], fit["kmeans/labels"][:]), "predicting the training data reproduces the fitted labels exactly")
check(np.allclose(tr["projection"][:], fit["projection"][:], rtol=0, atol=1e-12), "and its projection")

# Apply the stored model with numpy to the 2017 file, renamed columns mapped by name.
with open("data/acs2017_county_data.csv", encoding="utf-8", newline="") as fh:
    rows = list(csv.reader(fh))
head = [{"CountyId": "CensusId", "VotingAgeCitizen": "Citizen"}.get(h, h) for h in rows[0]]
body = [r for r in rows[1:] if all(v != "" for v in r)]
check(len(body) == 3219 and p17["rows/id"].shape == (3219,), "2017: 3219 counties labelled")
names = [s.decode() for s in fit["feature_names"][:]]
col = [head.index(nm) for nm in names]
X = np.array([[float(r[c]) for c in col] for r in body])
Xs = (X - fit["scale/offset"][:]) * fit["scale/factor"][:]
K = int(fit["pca"].attrs["n_kept"])
Z = (Xs - fit["pca/mean"][:]) @ fit["pca/components"][:K].T
cen = fit["kmeans/centroids"][:]
lab = ((Z[:, None, :] - cen[None]) ** 2).sum(-1).argmin(1)
check(np.allclose(p17["projection"][:], Z, atol=1e-9), "2017 projection = numpy applying the stored model")
check(np.array_equal(p17["kmeans/labels"][:], lab), "2017 labels = nearest stored centroid")
check(np.allclose(p17["kmeans/distance"][:], np.sqrt(((Z - cen[lab]) ** 2).sum(1)), atol=1e-9), "2017 distances")
ids17 = np.array([int(r[0]) for r in body])
check(np.array_equal(p17["rows/id"][:], ids17), "2017 ids in input order")
fl = dict(zip(fit["rows/id"][:], fit["kmeans/labels"][:]))
matched = [i for i in range(len(ids17)) if ids17[i] in fl]
changed = sum(1 for i in matched if fl[ids17[i]] != lab[i])
text = open(rep17, encoding="utf-8").read()
check("%d rows matched, **%d changed segment**" % (len(matched), changed) in text,
      "report counts %d matched and %d changed (numpy agrees)" % (len(matched), changed))
m = p17.attrs.get("model")
check(m is not None and (m.decode() if isinstance(m, bytes) else m).endswith(fit_p.split("/")[-1]), "predictions name the model file")
s = pd.read_csv(csv17, encoding="utf-8", keep_default_na=False)
check(len(s) == 3219 and np.array_equal(s["segment"].values, lab), "predictions CSV")
sys.exit(failed)
