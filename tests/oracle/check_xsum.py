#!/usr/bin/python3
"""The exact sum (reduce.h) against Python's exact arithmetic.

check_xsum.py TEST_XSUM NP...: builds adversarial cases, runs
`mpirun -np NP TEST_XSUM --sum` on them for each NP, and compares every sum
with the exact rational sum correctly rounded (fractions.Fraction; int / int
division is correctly rounded in CPython), bit for bit; math.fsum is checked
too where it is defined. Prints PASS/FAIL lines per case family and NP.
"""
import math
import os
import random
import struct
import subprocess
import sys
from fractions import Fraction

BIN, NPS = sys.argv[1], [int(a) for a in sys.argv[2:]] or [1]
MAX = sys.float_info.max
TINY = 5e-324  # the least subnormal
rng = random.Random(20261202)


def exact(xs):
    """Correctly rounded sum (specials as IEEE: nan, +-inf)."""
    if any(math.isnan(x) for x in xs):
        return math.nan
    pinf, ninf = any(x == math.inf for x in xs), any(x == -math.inf for x in xs)
    if pinf and ninf:
        return math.nan
    if pinf or ninf:
        return math.inf if pinf else -math.inf
    s = sum((Fraction(x) for x in xs), Fraction(0))
    try:
        return float(s)  # numerator / denominator: correctly rounded
    except OverflowError:
        return math.inf if s > 0 else -math.inf


def bits(x):
    return struct.pack("<d", x)


def cases():
    fam = {}
    # Magnitudes over the whole range, both signs.
    fam["spanning 1e-300..1e300"] = [
        [rng.choice((-1, 1)) * 10.0 ** rng.uniform(-300, 300) for _ in range(rng.randint(1, 300))]
        for _ in range(40)]
    # Heavy cancellation: pairs that cancel, leaving something tiny.
    c = []
    for _ in range(40):
        big = [rng.choice((-1, 1)) * 10.0 ** rng.uniform(0, 300) for _ in range(50)]
        rest = [rng.uniform(-1, 1) * 10.0 ** rng.uniform(-300, -200) for _ in range(5)]
        xs = big + [-b for b in big] + rest
        rng.shuffle(xs)
        c.append(xs)
    c.append([1e300, 1.0, -1e300])
    c.append([2.0 ** 1023, 2.0 ** 1023, -(2.0 ** 1023), -(2.0 ** 1023), 1e-310])
    c.append([MAX, MAX, -MAX])  # a float sum gives inf
    fam["heavy cancellation"] = c
    # Many tiny terms, and tiny terms next to large ones.
    fam["many tiny terms"] = [
        [TINY] * 100000,
        [1.0] + [2.0 ** -60] * 50000,
        [2.0 ** -1022 / 3] * 3000 + [-(2.0 ** -1000)],
        [1e-320 * rng.random() for _ in range(20000)],
    ]
    # Subnormals: sums staying subnormal, crossing into the normal range.
    sub = [[rng.choice((-1, 1)) * rng.randint(1, 2 ** 52 - 1) * TINY for _ in range(rng.randint(1, 60))]
           for _ in range(30)]
    sub.append([2.0 ** -1023, 2.0 ** -1023])  # two subnormals make the least normal
    sub.append([TINY, -TINY])
    sub.append([-TINY])
    fam["subnormals"] = sub
    # Exactly halfway between two doubles: ties go to even; any bit below breaks the tie.
    u = 2.0 ** -53
    fam["halfway"] = [
        [1.0, u],                      # 1 + half ulp: stays 1 (even)
        [1.0 + 2 * u, u],              # odd + half ulp: rounds up
        [1.0, u, 2.0 ** -300],         # just above half: up
        [1.0, u, -(2.0 ** -300)],      # just below half: down
        [2.0 ** 53, 1.0],              # 2^53 + 1: tie, stays 2^53
        [2.0 ** 53, 3.0],              # 2^53 + 3: tie, to 2^53 + 4
        [MAX, 2.0 ** 970],             # DBL_MAX + half ulp: tie to even = 2^1024 -> inf
        [MAX, 2.0 ** 970, -TINY],      # just below the tie: DBL_MAX
        [-1.0, -u],
        [2.0 ** -1022, 2.0 ** -1075 if 2.0 ** -1075 else 0.0],
    ] + [[m, m * 2.0 ** -53 * (1 + 2 * rng.randint(0, 1))] for m in (rng.uniform(1, 2) * 2.0 ** rng.randint(-900, 900) for _ in range(30))]
    # Specials and the empty sum.
    fam["specials"] = [[math.inf, 1.0], [-math.inf, 2.0], [math.inf, -math.inf], [math.nan, 1.0],
                       [0.0], [-0.0], [0.0, -0.0]]
    # Large random cases.
    fam["100,000 random terms"] = [[rng.gauss(0, 1) * 10.0 ** rng.randint(-20, 20) for _ in range(100000)]]
    return fam


def run(np_, allcases):
    text = "".join("".join("%s\n" % float.hex(x) for x in xs) + "\n" for xs in allcases)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_mpi_yield_when_idle="1")
    r = subprocess.run(["mpirun", "--oversubscribe", "-np", str(np_), BIN, "--sum"], input=text,
                       capture_output=True, text=True, env=env, timeout=300)
    if r.returncode != 0:
        return None, r.stderr[-500:]
    return [float.fromhex(l) if l not in ("nan", "-nan", "inf", "-inf") else float(l)
            for l in r.stdout.split()], ""


def main():
    fam = cases()
    order = list(fam)
    allcases = [xs for f in order for xs in fam[f]]
    want = [exact(xs) for xs in allcases]
    failed = 0
    # fsum agrees with Fraction wherever fsum is defined (a check of the oracle).
    fs_ok = True
    for xs, w in zip(allcases, want):
        try:
            f = math.fsum(xs)
        except (OverflowError, ValueError):
            continue
        if not (math.isnan(w) and math.isnan(f)) and bits(f) != bits(w) and not (f == 0 and w == 0):
            fs_ok = False
    print("%s: the oracle: math.fsum = the rounded Fraction sum wherever fsum is defined"
          % ("PASS" if fs_ok else "FAIL"))
    failed += not fs_ok
    for np_ in NPS:
        got, err = run(np_, allcases)
        if got is None or len(got) != len(allcases):
            print("FAIL: test_xsum --sum [np=%d]: %s" % (np_, err or "%d sums for %d cases" % (len(got or []), len(allcases))))
            failed += 1
            continue
        i = 0
        for f in order:
            bad = []
            for xs in fam[f]:
                g, w = got[i], want[i]
                same = (math.isnan(g) and math.isnan(w)) or bits(g) == bits(w)
                if not same:
                    bad.append("case %d: %r, want %r" % (i, g, w))
                i += 1
            ok = not bad
            failed += not ok
            print("%s: exact sum, %s (%d cases), bit for bit [np=%d]%s" % (
                "PASS" if ok else "FAIL", f, len(fam[f]), np_, "" if ok else ": " + "; ".join(bad[:3])))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
