#!/usr/bin/python3
"""Run README's Python examples ("### Reading the files") as pasted, in order,
in one namespace, in a directory holding results.h5.

usage: readme_examples.py README.md DIR    Prints PASS:/FAIL: lines.
"""
import contextlib
import io
import os
import re
import sys
import traceback

readme, where = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
section = text.split("### Reading the files", 1)[-1].split("\n## ", 1)[0]
blocks = re.findall(r"```python\n(.*?)```", section, re.S)
failed = 0
print(("PASS: " if len(blocks) >= 3 else "FAIL: ") + "README has %d Python examples (h5py, pandas, xarray)" % len(blocks))
failed |= len(blocks) < 3
os.chdir(where)
ns = {}
for i, code in enumerate(blocks, 1):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README example %d" % i, "exec"), ns)
        ok = bool(out.getvalue().strip())
        print(("PASS: " if ok else "FAIL: ") + "README example %d runs as pasted and prints: %s"
              % (i, out.getvalue().strip().splitlines()[0][:80] if ok else "(nothing)"))
        failed |= not ok
    except Exception:
        print("FAIL: README example %d: %s" % (i, traceback.format_exc().strip().splitlines()[-1]))
        failed = 1
sys.exit(failed)
