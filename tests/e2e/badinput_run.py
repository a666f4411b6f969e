#!/usr/bin/python3
"""Run the bad-input matrix (cases.tsv from badinput.py) at the given rank
counts. For every case and rank count: the documented exit status in time; for
an error, exactly one 'popseg: error' line matching the case's pattern and
nothing written (no output, no temporary file); for every case, every input
file byte-identical afterwards (sha256), apart from the outputs a passing case
names. Prints PASS:/FAIL: lines.

usage: badinput_run.py DIR POPSEG NP [NP ...]

Cases that name a file of the input directory as an output run first, one at
a time; the others run BADINPUT_JOBS (default 4) at a time: an mpirun spends
most of its second waiting, not computing."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

d, popseg = sys.argv[1], sys.argv[2]
nps = [int(x) for x in sys.argv[3:]]
IN = os.path.join(d, "in")
failed = 0
CRASH = re.compile(r"Sanitizer|runtime error|Segmentation|signal \d+|core dumped")


def hashes():
    out = {}
    for name in os.listdir(IN):
        p = os.path.join(IN, name)
        try:
            with open(p, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
        except (FileNotFoundError, IsADirectoryError):
            pass  # gone since listdir (another case's transient file), or a folder
    return out


def outputs(args):
    """Input-directory files a passing case may write: what follows -o, --csv,
    --report, and import's second positional."""
    named = {args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-o", "--csv", "--report")}
    if args and args[0] == "import":
        pos = [a for a in args[1:] if not a.startswith("-")]
        if len(pos) >= 2:
            named.add(pos[1])
    return {os.path.basename(p) for p in named if p.startswith(IN)}


def report(ok, name):
    global failed
    print(("PASS: " if ok else "FAIL: ") + name)
    failed |= not ok


cases = [line.rstrip("\n").split("\t") for line in open(os.path.join(d, "cases.tsv"), encoding="utf-8")]
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_mpi_yield_when_idle="1", OPENBLAS_NUM_THREADS="1")


def run_case(np_, name, expect, args, alone=True):
    """One case at one rank count: (ok, line). alone: no other case runs at the
    same time, so a file new in the input directory is this case's. Cases run
    side by side check only that the files already there are unchanged: Open
    MPI's MPI_File_open makes and removes FILE.locktest.RANK beside an input
    (its lockedfile component), which another case's snapshot may catch; the
    input directory as a whole is checked after they have all ended."""
    out = tempfile.mkdtemp(prefix="popseg-bad.", dir=d)
    args = [a.replace("@IN", IN).replace("@OUT", out) for a in args]
    tag = "%s [np=%d]" % (name, np_)
    before = hashes()
    try:
        r = subprocess.run(["mpirun", "--oversubscribe", "-np", str(np_), popseg] + args,
                           capture_output=True, timeout=90, env=env)
    except subprocess.TimeoutExpired:
        shutil.rmtree(out, ignore_errors=True)
        return False, tag + ": timed out (hang)"
    rc, so, se = r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    after = hashes()
    left = os.listdir(out)
    shutil.rmtree(out, ignore_errors=True)
    kind, _, rest = expect.partition(":")
    problems = []
    if CRASH.search(se):
        problems.append("crashed: " + CRASH.search(se).group(0))
    if kind == "error":
        status, _, pat = rest.partition(":")
        lines = [l for l in se.splitlines() if l.startswith("popseg: error")]
        if rc != int(status):
            # The whole of both streams' tails: a status with no popseg line
            # (a launch that failed, say) must say what did print.
            problems.append("exit status %d, documented %s; stdout %r; stderr %r"
                            % (rc, status, so[-400:], se[-400:]))
        if len(lines) != 1 or not re.search(pat, lines[0]):
            problems.append("stderr %r lacks one line /%s/" % (" | ".join(lines)[:300], pat))
        if left:
            problems.append("files left: %s" % left)
        if alone and after != before:
            problems.append("inputs changed: %s" % sorted(set(after.items()) ^ set(before.items()))[:3])
        elif not alone and any(after.get(f) != h for f, h in before.items()):
            problems.append("inputs changed: %s" % sorted(f for f, h in before.items() if after.get(f) != h)[:3])
    else:
        writes = outputs(args)
        if rc != 0:
            problems.append("exit status %d: %s" % (rc, se.strip().splitlines()[0][:200] if se.strip() else ""))
        elif not re.search(rest, so):
            problems.append("stdout lacks /%s/" % rest)
        changed = [f for f, h in before.items() if f not in writes and after.get(f) != h]
        if changed:
            problems.append("inputs changed: %s" % changed)
    return not problems, tag + (": " + "; ".join(problems) if problems else "")


def touches_input_dir(args):
    return bool(outputs([a.replace("@IN", IN) for a in args]))


for np_ in nps:
    serial = [c for c in cases if touches_input_dir(c[2:])]
    rest = [c for c in cases if not touches_input_dir(c[2:])]
    results = [run_case(np_, c[0], c[1], c[2:]) for c in serial]
    start = hashes()
    with ThreadPoolExecutor(max_workers=int(os.environ.get("BADINPUT_JOBS", "4"))) as pool:
        results += list(pool.map(lambda c: run_case(np_, c[0], c[1], c[2:], alone=False), rest))
    end = hashes()
    results.append((end == start, "the input directory after the %d cases run side by side [np=%d]%s"
                    % (len(rest), np_, "" if end == start else
                       ": changed: %s" % sorted(set(end.items()) ^ set(start.items()))[:3])))
    for ok, line in results:
        report(ok, line)
sys.exit(failed)
