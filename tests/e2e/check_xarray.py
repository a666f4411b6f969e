#!/usr/bin/python3
"""Every group of a popseg file opens in xarray (h5netcdf engine) with named
dimensions, none phony, and the row ids / feature names as coordinates.

usage: check_xarray.py FILE.h5 [...]   Prints PASS:/FAIL: lines."""
import sys
import warnings

import h5py
import numpy as np
import xarray as xr

failed = 0
for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        groups = [""] + [k for k in f.keys() if isinstance(f[k], h5py.Group)]
        ids = f["rows/id"][()]
        fnames = f["feature_names"][()] if "feature_names" in f else None
    for g in groups:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                ds = xr.open_dataset(path, engine="h5netcdf", group=g or None)
            phony = [d for d in ds.sizes if str(d).startswith("phony")]
            bad = list(phony)
            if "row" in ds.sizes and not np.array_equal(ds["row"].values, ids):
                bad.append("row coordinates are not the ids")
            if "feature" in ds.sizes and fnames is not None and \
                    list(ds["feature"].values) != list(fnames):
                bad.append("feature coordinates are not the names")
            missing = [d for d in ds.sizes if d not in ds.coords]
            bad += ["no coordinates for %s" % d for d in missing]
            ok = not bad and len(ds.sizes) > 0
            print(("PASS: " if ok else "FAIL: ") + "xarray opens %s group /%s: dims %s%s"
                  % (path.split("/")[-1], g, dict(ds.sizes), (" " + "; ".join(bad)) if bad else ""))
            failed |= not ok
            ds.close()
        except Exception as e:  # noqa: BLE001 - any failure to open is the finding
            print("FAIL: xarray cannot open %s group /%s: %s" % (path, g, e))
            failed = 1
sys.exit(failed)
