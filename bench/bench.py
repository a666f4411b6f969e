#!/usr/bin/python3
"""make bench: popseg against scikit-learn / numpy and against the machine's bounds.

One run, on `popseg synth` tables (4M and 10M rows unless sizes are given), the
peers on the same data with as many threads as popseg has ranks:
  - per stage: read, scale + PCA, k-means seeding, a Lloyd iteration (long fit
    minus short fit from the same centres, so seeding and set-up cancel), write;
  - bounds measured now: streaming bandwidth of P processes at once, the
    dgemm rate of P single-threaded processes at once, writing fresh memory
    (first touch), `cat FILE >/dev/null` and reading the file into fresh
    memory; each stage as a multiple of its bound;
  - end to end against the h5py + scikit-learn route;
  - peak resident memory per rank against the rank's slice of the matrix;
  - strong scaling, 1 and P ranks.
Absolute seconds on a shared VM are noise: ratios measured in the same run are
the result. Usage: bench.py BIN OUTDIR [ROWS ...]; writes OUTDIR/bench.json and
bench/results.md.
"""
import hashlib
import json
import math
import mmap
import multiprocessing as mp
import os
import platform
import re
import subprocess
import sys
import time

import h5py
import numpy as np
from threadpoolctl import threadpool_limits

BIN, OUT = sys.argv[1], sys.argv[2]
# The measuring build with plain floating-point sums (make bench builds it:
# -DPS_SUMS_FLOAT, reduce.h): what the exact, reproducible sums cost.
BIN_FLOAT = os.environ.get("POPSEG_BIN_FLOAT", "")
SIZES = [int(float(a)) for a in sys.argv[3:]] or [4_000_000, 10_000_000]
P = int(os.environ.get("BENCH_RANKS", "2"))
K_SEG = 8
LOCKSTEP = 10  # restarts in lockstep by default (--kmeans-lockstep auto: src/stages/kmeans.c)
SHORT, LONG = 2, 22  # Lloyd iterations of the short and the long fit
os.makedirs(OUT, exist_ok=True)
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_mpi_yield_when_idle="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
HERE = os.path.dirname(os.path.abspath(__file__))
LINES = []  # everything printed, for results.md


def say(s=""):
    print(s, flush=True)
    LINES.append(s)


# ---------------------------------------------------------------- bounds
def _concurrent(fn, p, *args):
    """Run fn(*args) in p processes that start together; (aggregate units/s)."""
    ctx = mp.get_context("fork")
    start = ctx.Barrier(p + 1)
    q = ctx.Queue()

    def child():
        with threadpool_limits(1):
            state = fn("setup", *args)
            start.wait()
            t0 = time.perf_counter()
            units = fn("run", state, *args)
            q.put((time.perf_counter() - t0, units))

    procs = [ctx.Process(target=child) for _ in range(p)]
    for pr in procs:
        pr.start()
    start.wait()
    res = [q.get() for _ in procs]
    for pr in procs:
        pr.join()
    return sum(u for _, u in res) / max(t for t, _ in res)


def _stream(phase, state=None, *_):
    if phase == "setup":
        a = np.ones(50_000_000)  # 400 MB, touched once here
        a.sum()
        return a
    reps = 6
    for _ in range(reps):
        state.sum()
    return reps * state.nbytes


def _dgemm(phase, state=None, *_):
    n = 1500
    if phase == "setup":
        return np.random.default_rng(0).random((n, n))
    reps = 4
    for _ in range(reps):
        state @ state
    return reps * 2.0 * n ** 3


def _fresh(nbytes, huge):
    """nbytes of fresh memory: a bytearray (4 KiB pages, like numpy's), or an
    anonymous mapping advised MADV_HUGEPAGE (2 MiB pages, as popseg allocates
    its per-row arrays: include/popseg/mem.h)."""
    if not huge:
        return bytearray(nbytes)
    # private: a shared anonymous mapping is shmem, which THP's madvise mode skips
    m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    return m


def _first_touch(phase, state=None, huge=False):
    if phase == "setup":
        return None
    buf = _fresh(400_000_000, huge)  # fresh pages: the kernel zeroes and maps each
    a = np.frombuffer(buf, dtype=np.float64)
    a.fill(1.0)
    n = a.nbytes
    del a
    return n


def _read_fresh(phase, *a):
    """Each of p processes reads its 1/p of [off, off + nbytes) into fresh memory.
    Setup gets (path, off, nbytes, p, huge), the run (part, path, off, nbytes, p, huge)."""
    if phase == "setup":
        return mp.current_process()._identity[0] % a[3]
    state, path, off, nbytes, p, huge = a
    part = nbytes // p
    buf = _fresh(part, huge)  # fresh (zeroed on allocation, like a matrix popseg allocates)
    with open(path, "rb", buffering=0) as fh:
        fh.seek(off + state * part)
        mv = memoryview(buf)
        got = 0
        while got < part:
            r = fh.readinto(mv[got:])
            if not r:
                break
            got += r
        mv.release()
    return got


def bounds(p):
    b = {}
    for q in sorted({1, p}):
        b["stream%d" % q] = _concurrent(_stream, q) / 1e9
        b["dgemm%d" % q] = _concurrent(_dgemm, q) / 1e9
        prime(q * 500_000_000)  # each touch run allocates 400 MB a process
        b["touch%d" % q] = _concurrent(_first_touch, q, False) / 1e9
        prime(q * 500_000_000)
        b["touchH%d" % q] = _concurrent(_first_touch, q, True) / 1e9
    return b


def prime(nbytes):
    """Touch nbytes of fresh memory and free it at once. On a VM whose guest
    hands freed memory back to the host (virtio-balloon free page reporting:
    this kind's kernel has page_reporting.page_reporting_order=11), memory the
    guest has not used for a few seconds must be faulted in by the host again,
    at about 1 GB/s: a run started after an idle spell pays that, one started
    right after another pays nothing. Priming before every timed run gives
    popseg and the peers the same start (measured both ways: "host faults"
    in results.md)."""
    m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    a = np.frombuffer(m, dtype=np.uint8)
    a[::4096] = 1
    del a
    m.close()


def warm(path, idle=0):
    """Read the file once so that its pages are in the page cache: every timed
    read (popseg's, the peer's, `cat`'s) starts warm, whatever the runs before
    it wrote (the bench's outputs run to tens of GB and can evict the input).
    Then prime() twice the file's size (what a run allocates, about), or
    with idle, wait that many seconds instead: the host takes the memory back.
    First sync: the writeback of what the bench wrote before (the table, the
    results files: GBs) would otherwise run during the timed run; at 10M rows
    it made one run's scale + PCA 0.46 s against 0.25 s."""
    os.sync()
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
    if idle:
        time.sleep(idle)
    else:
        prime(2 * os.path.getsize(path))


def sha_rate(path):
    """GB/s of SHA-256 over the warm file on one core (hashlib: OpenSSL, with
    the SHA instructions where the CPU has them, as popseg's own code), best
    of 2: what hashing the input costs whoever does it."""
    warm(path)
    best = 1e30
    for _ in range(2):
        h = hashlib.sha256()
        t0 = time.perf_counter()
        with open(path, "rb", buffering=0) as fh:
            for blk in iter(lambda: fh.read(1 << 20), b""):
                h.update(blk)
        best = min(best, time.perf_counter() - t0)
    return os.path.getsize(path) / best / 1e9


def table_read_bytes(path):
    """The bytes popseg's read stage takes from a table: /features, /rows/id
    and /rows/name, every byte of each (their storage sizes; the rest of the
    file is metadata and the row dimension scale). `cat` reads the file's
    bytes, so the read's throughput is over these, not the features alone."""
    with h5py.File(path, "r") as f:
        return sum(f[d].id.get_storage_size() for d in ("features", "rows/id", "rows/name") if d in f)


def cat_rate(path):
    warm(path)
    best = 1e30
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t0)
    return os.path.getsize(path) / best / 1e9


# ---------------------------------------------------------------- popseg
def popseg(np_, args, tag, binary=None, env=None, idle=0):
    """Run popseg under mpirun; each rank's peak RSS via bench/rss.py. Returns
    (wall seconds, stdout, [peak RSS KiB per rank])."""
    rss = os.path.join(OUT, "rss-" + tag)
    for f in os.listdir(OUT):
        if f.startswith("rss-" + tag + "."):
            os.unlink(os.path.join(OUT, f))
    if args and args[0] == "run":
        # A new output, as a batch job writes: ext4 (auto_da_alloc) flushes a
        # file renamed over an existing one, 0.2 s at 4M rows, outside the
        # write stage but inside the wall; the peer's file is removed too.
        if "-o" in args:
            try:
                os.unlink(args[args.index("-o") + 1])
            except FileNotFoundError:
                pass
        warm(args[1], idle)
    cmd = ["mpirun", "--oversubscribe", "-np", str(np_), "/usr/bin/python3",
           os.path.join(HERE, "rss.py"), rss, os.path.join(binary or BIN, "popseg"), *args]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=dict(ENV, **(env or {})), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit("bench: popseg %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr[-2000:]))
    peaks = []
    for i in range(np_):
        with open("%s.%d" % (rss, i)) as fh:
            peaks.append(int(fh.read()))
    return wall, r.stdout, peaks


def same_fit(a, b):
    """Whether two results files hold the same labels and centroids, bit for bit."""
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        return bool(np.array_equal(fa["kmeans/labels"][()], fb["kmeans/labels"][()]) and
                    np.array_equal(fa["kmeans/centroids"][()], fb["kmeans/centroids"][()]))


def stage_times(path, stdout):
    with h5py.File(path, "r") as f:
        a, km = f.attrs, f["kmeans"].attrs
        t = dict(read=float(a["time_read_s"]), scale=float(a["time_scale_s"]),
                 pca=float(a["time_pca_s"]), kmeans=float(a["time_kmeans_s"]),
                 seed=float(km["time_seed_s"]), lloyd=float(km["time_lloyd_s"]),
                 total_iterations=int(km["total_iterations"]), iterations=int(km["iterations"]),
                 inertia=float(km["inertia"]), K=int(f["pca"].attrs["n_kept"]),
                 converged=int(km["converged"]), n_init=int(km["n_init"]),
                 distances=int(km["distances"]), distances_lloyd=int(km["distances_lloyd"]),
                 run_iterations=[int(v) for v in f["kmeans/run_iterations"][()]],
                 sums=a["sums"].decode() if isinstance(a.get("sums"), bytes) else str(a.get("sums", "?")))
        # The input's digest, every rank hashing its share of the file's
        # blocks just before the write, timed apart from it (README, results
        # layout).
        t["digest"] = float(a["time_digest_s"])
    m = re.search(r"^write .*\(([0-9.]+) s(?:, after [0-9.]+ s[^)]*)?\)", stdout, re.M)
    t["write"] = float(m.group(1)) if m else float("nan")
    return t


# ---------------------------------------------------------------- peers
def peer_route(path, K, n_init, threads):
    """The h5py + scikit-learn route, end to end, timed per stage."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import MinMaxScaler
    t = {}
    warm(path)
    with threadpool_limits(threads):
        t0 = time.perf_counter()
        with h5py.File(path, "r") as f:
            X = f["features"][()]
            ids = f["rows/id"][()]
        t["read"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        Xs = MinMaxScaler().fit_transform(X)
        t["scale"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        Z = PCA(n_components=K, svd_solver="full").fit_transform(Xs)
        t["pca"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        km = KMeans(K_SEG, n_init=n_init, random_state=0, algorithm="lloyd").fit(Z)
        t["kmeans"] = time.perf_counter() - t0
        out = os.path.join(OUT, "peer.h5")
        if os.path.exists(out):
            os.unlink(out)  # a new file, as popseg's (popseg() says why)
        t0 = time.perf_counter()
        with h5py.File(out, "w") as f:
            f["projection"] = Z
            f["labels"] = km.labels_.astype(np.int32)
            f["distance"] = np.sqrt(((Z - km.cluster_centers_[km.labels_]) ** 2).sum(1))
            f["ids"] = ids
        t["write"] = time.perf_counter() - t0
        t["inertia"] = float(km.inertia_)
        del X, Xs
    return t


def numpy_pca(path, K, threads):
    """numpy's covariance route: minmax, np.cov, eigh, projection."""
    with h5py.File(path, "r") as f:
        X = f["features"][()]
    with threadpool_limits(threads):
        t0 = time.perf_counter()
        mn, mx = X.min(0), X.max(0)
        Xs = (X - mn) / np.where(mx > mn, mx - mn, 1.0)
        w, v = np.linalg.eigh(np.cov(Xs, rowvar=False))
        Z = (Xs - Xs.mean(0)) @ v[:, ::-1][:, :K]
        return time.perf_counter() - t0, Z.shape


def peer_lloyd(Z, C0, threads):
    """scikit-learn's Lloyd from the same centres: (seconds per iteration, labels of the long fit)."""
    from sklearn.cluster import KMeans
    with threadpool_limits(threads):
        t = {}
        for it in (SHORT, LONG):
            best = 1e30
            for _ in range(2):
                km = KMeans(K_SEG, init=C0, n_init=1, max_iter=it, tol=0, algorithm="lloyd")
                t0 = time.perf_counter()
                km.fit(Z)
                best = min(best, time.perf_counter() - t0)
            t[it] = (best, km)
    return (t[LONG][0] - t[SHORT][0]) / (LONG - SHORT), t[LONG][1]


def peer_seed(Z, threads):
    from sklearn.cluster import kmeans_plusplus
    with threadpool_limits(threads):
        t0 = time.perf_counter()
        kmeans_plusplus(Z, K_SEG, random_state=0)
        return time.perf_counter() - t0


# ---------------------------------------------------------------- one size
def _write_new(phase, *a):
    """Each of p processes writes its 1/p of nbytes to a new file in OUT (no
    fsync, as popseg): what any writer of that many bytes pays, the write
    bound. Setup gets (nbytes, p), the run (part, nbytes, p)."""
    if phase == "setup":
        return mp.current_process()._identity[0] % a[1]
    state, nbytes, p = a
    part, chunk = nbytes // p, 8 << 20
    buf = bytes(chunk)
    path = os.path.join(OUT, "write-bound-%d.tmp" % state)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    done = 0
    while done < part:
        done += os.write(fd, buf[:min(chunk, part - done)])
    os.close(fd)
    return done


def write_rate(nbytes):
    """GB/s of writing nbytes to new files with P processes, primed like a run
    (the best of 2; the files are removed after each)."""
    best = 0.0
    for _ in range(2):
        os.sync()
        prime(2 * nbytes)
        best = max(best, _concurrent(_write_new, P, nbytes, P) / 1e9)
        for f in os.listdir(OUT):
            if f.startswith("write-bound-"):
                os.unlink(os.path.join(OUT, f))
    return best



# The stages whose code differs between the exact and the float build.
SUM_STAGES = ("scale", "pca", "seed", "lloyd")


def sums_cost(cost):
    """The exact sums' cost in percent of the float build's end-to-end run: the
    summing stages' extra time (best of 3 each). The whole runs' difference is
    reported too, but the read and the write (the same code in both builds)
    vary by more than the sums cost on this VM."""
    ce, cf = cost["e2e"]["exact"], cost["e2e"]["float"]
    return 100 * sum(ce[s_] - cf[s_] for s_ in SUM_STAGES) / cf["wall"]


def bench_size(n, b):
    say("\n## %d x 34 (`popseg synth --rows %d --seed 1`), %d ranks vs %d threads\n" % (n, n, P, P))
    tab = os.path.join(OUT, "synth-%d.h5" % n)
    w, _, _ = popseg(P, ["synth", "--rows", str(n), "-o", tab, "--seed", "1", "--force"], "synth")
    fbytes = os.path.getsize(tab)
    xbytes = n * 34 * 8
    rbytes = table_read_bytes(tab)
    say("synth: %.1f s for %.2f GB (%.2f GB/s written)" % (w, fbytes / 1e9, fbytes / w / 1e9))
    res = {}
    # End to end with the defaults (k-means++, 10 restarts), P ranks and 1,
    # twice each (alternated): the best of 2 per stage and for the wall, as
    # for every other figure here (one run's stages varied up to 2x on this VM).
    runs = {}

    def variant(key, np_, extra=(), env=None):
        """One end-to-end run into runs[key]: its stages, wall and peaks."""
        out = os.path.join(OUT, "run-%s.h5" % key)
        wall, so, peaks = popseg(np_, ["run", tab, "-o", out, "--k", str(K_SEG), "--force"] + list(extra),
                                 "run%s" % key, env=env)
        t = stage_times(out, so)
        t.update(wall=wall, peaks=peaks)
        runs.setdefault(key, []).append(t)

    for _ in range(2):
        for np_ in sorted({P, 1}, reverse=True):
            variant(np_, np_)
        # The features kept in memory to the end (README, "Memory: the
        # features released after the projection").
        variant("kept", P, env={"POPSEG_RELEASE_FEATURES": "0"})
        # The restarts one after another (--kmeans-lockstep 1) against the
        # default, LOCKSTEP at a time (src/stages/kmeans.c, fit_runs).
        variant("seq", P, ["--kmeans-lockstep", "1"])
        # Plain Lloyd in lockstep (--kmeans-algorithm lloyd) against the
        # default, Hamerly: the per-iteration rows below time one run alone,
        # where the two trade places with the rank count and n; this is the
        # default schedule, which decides the default algorithm.
        variant("plain", P, ["--kmeans-algorithm", "lloyd"])
    same_plain = same_fit(os.path.join(OUT, "run-%d.h5" % P), os.path.join(OUT, "run-plain.h5"))
    for key, v in runs.items():
        t = dict(v[0])
        for k_ in ("wall", "read", "scale", "pca", "seed", "lloyd", "kmeans", "write"):
            t[k_] = min(x[k_] for x in v)
        t["peaks"] = [max(p_) for p_ in zip(*(x["peaks"] for x in v))]
        runs[key] = t
    kept, seq, plain = runs.pop("kept"), runs.pop("seq"), runs.pop("plain")
    res.update(runs)  # by rank count
    K = res[P]["K"]
    # Lloyd per iteration: centres after one iteration, then a short and a long
    # fit from them (tolerance 0); the difference of their Lloyd times.
    init = os.path.join(OUT, "init.h5")
    popseg(P, ["run", tab, "-o", init, "--k", str(K_SEG), "--kmeans-n-init", "1",
               "--kmeans-max-iter", "1", "--force", "--quiet"], "init")
    # Both algorithms (the same labels; Hamerly skips distances), P ranks and 1.
    lloyd, skipped = {}, {}
    for alg in ("hamerly", "lloyd"):
        for np_ in sorted({P, 1}, reverse=True):
            tt = {}
            for it in (SHORT, LONG):
                out = os.path.join(OUT, "lloyd-%s-%d-%d.h5" % (alg, np_, it))
                best = None
                for _ in range(2 if np_ == P else 1):
                    _, so, _ = popseg(np_, ["run", tab, "-o", out, "--k", str(K_SEG), "--kmeans-init-from",
                                            init, "--kmeans-algorithm", alg, "--kmeans-max-iter", str(it),
                                            "--kmeans-tol", "0", "--force"], "lloyd")
                    s_ = stage_times(out, so)
                    best = s_ if best is None or s_["lloyd"] < best["lloyd"] else best
                tt[it] = best
            lloyd[alg, np_] = (tt[LONG]["lloyd"] - tt[SHORT]["lloyd"]) / (LONG - SHORT)
            dl = tt[LONG]["distances_lloyd"] - tt[SHORT]["distances_lloyd"]
            skipped[alg, np_] = 1 - (tt[LONG]["distances"] - tt[SHORT]["distances"]) / dl if dl else 0.0
            if tt[LONG]["iterations"] != LONG:
                say("WARNING: the long fit converged after %d iterations: the per-iteration figure is low"
                    % tt[LONG]["iterations"])
    same_alg = same_fit(os.path.join(OUT, "lloyd-hamerly-%d-%d.h5" % (P, LONG)),
                        os.path.join(OUT, "lloyd-lloyd-%d-%d.h5" % (P, LONG)))
    # What the exact sums cost: the measuring build with float sums on the same
    # Huge pages for the per-row arrays (include/popseg/mem.h) against 4 KiB
    # pages (POPSEG_HUGEPAGES=0): one seeding and 2 Lloyd iterations, each
    # mode twice, alternated, best of 2 per stage.
    hp = {"2 MiB": [], "4 KiB": []}
    for _ in range(2):
        for mode, val in (("2 MiB", "1"), ("4 KiB", "0")):
            out = os.path.join(OUT, "hp.h5")
            wall, so, _ = popseg(P, ["run", tab, "-o", out, "--k", str(K_SEG), "--kmeans-n-init", "1",
                                     "--kmeans-max-iter", str(SHORT), "--force"], "hp",
                                 env={"POPSEG_HUGEPAGES": val})
            t = stage_times(out, so)
            t["wall"] = wall
            hp[mode].append(t)
    hp = {m: {k_: min(t[k_] for t in v) for k_ in ("wall", "read", "scale", "pca", "kmeans", "write")}
          for m, v in hp.items()}
    # Host faults (prime()): the same short run primed, as every timed run
    # here is, and after 30 s idle, alternated, best of 2 per stage.
    hf = {"primed": [], "idle": []}
    for _ in range(2):
        for mode in ("primed", "idle"):
            out = os.path.join(OUT, "hf.h5")
            wall, so, _ = popseg(P, ["run", tab, "-o", out, "--k", str(K_SEG), "--kmeans-n-init", "1",
                                     "--kmeans-max-iter", str(SHORT), "--force"], "hf",
                                 idle=30 if mode == "idle" else 0)
            t = stage_times(out, so)
            t["wall"] = wall
            hf[mode].append(t)
    hf = {m: {k_: min(t[k_] for t in v) for k_ in ("wall", "read", "scale", "pca", "kmeans", "write")}
          for m, v in hf.items()}
    # runs (end to end, and a Lloyd iteration), alternated with the exact one.
    cost = None
    if BIN_FLOAT:
        e2e = {"exact": [], "float": []}
        for _ in range(3):
            for mode, binary in (("exact", BIN), ("float", BIN_FLOAT)):
                out = os.path.join(OUT, "mode-%s.h5" % mode)
                wall, so, _ = popseg(P, ["run", tab, "-o", out, "--k", str(K_SEG), "--force"], "mode",
                                     binary)
                t = stage_times(out, so)
                t["wall"] = wall
                e2e[mode].append(t)
        ll = {}
        for mode, binary in (("exact", BIN), ("float", BIN_FLOAT)):
            tt = {}
            for it in (SHORT, LONG):
                out = os.path.join(OUT, "mode-lloyd-%s-%d.h5" % (mode, it))
                best = None
                for _ in range(2):
                    _, so, _ = popseg(P, ["run", tab, "-o", out, "--k", str(K_SEG), "--kmeans-init-from",
                                          init, "--kmeans-max-iter", str(it), "--kmeans-tol", "0",
                                          "--force"], "mode", binary)
                    s_ = stage_times(out, so)
                    best = s_ if best is None or s_["lloyd"] < best["lloyd"] else best
                tt[it] = best
            ll[mode] = (tt[LONG]["lloyd"] - tt[SHORT]["lloyd"]) / (LONG - SHORT)
        cost = dict(e2e={m: {k_: min(t[k_] for t in v) for k_ in
                             ("wall", "read", "scale", "pca", "seed", "lloyd", "kmeans", "write")}
                         for m, v in e2e.items()}, lloyd=ll,
                    sums={m: v[0]["sums"] for m, v in e2e.items()})
    # The peers on popseg's own projection and centres, so labels can be compared.
    with h5py.File(os.path.join(OUT, "lloyd-hamerly-%d-%d.h5" % (P, LONG)), "r") as f:
        Z = f["projection"][()]
        lab = f["kmeans/labels"][()]
    with h5py.File(init, "r") as f:
        C0 = f["kmeans/centroids"][()]
    per_peer, km = peer_lloyd(Z, C0, P)
    same = float((km.labels_ == lab).mean())
    seed_peer = peer_seed(Z, P)
    del Z
    # k-means seeding, one run: greedy k-means++ and k-means|| (popseg).
    seeds = {}
    for init_kind in ("kmeans++", "kmeans-parallel"):
        out = os.path.join(OUT, "seed.h5")
        _, so, _ = popseg(P, ["run", tab, "-o", out, "--k", str(K_SEG), "--kmeans-init", init_kind,
                              "--force"], "seed")
        seeds[init_kind] = stage_times(out, so)
    peer = peer_route(tab, K, 10, P)
    np_pca, _ = numpy_pca(tab, K, P)
    cat = cat_rate(tab)
    sha = sha_rate(tab)
    hash_s = fbytes / 1e9 / sha
    # Reading the file's bytes into fresh memory, P processes at once: what
    # any reader that allocates its matrix pays (page faults), the read bound.
    # Both page sizes: the bound is the better (popseg asks for huge pages).
    warm(tab)
    fresh4k = _concurrent(_read_fresh, P, tab, 0, fbytes, P, False) / 1e9
    # 2 MiB pages: the best of 3, each warm and primed: a single run measured
    # 3.4 GB/s at 10M rows on 2026-12-06 12:44, against 14.1 GB/s on the run
    # before, its pages host faults all the same (bench/README.md).
    freshH = 0.0
    for _ in range(3):
        warm(tab)
        freshH = max(freshH, _concurrent(_read_fresh, P, tab, 0, fbytes, P, True) / 1e9)
    fresh = max(fresh4k, freshH)
    # Writing as many bytes as the results file holds, P processes at once.
    obytes = os.path.getsize(os.path.join(OUT, "run-%d.h5" % P))
    wrate = write_rate(obytes)

    # Start-up and exit: mpirun, the rss.py wrapper and popseg doing nothing
    # (--version), P ranks and 1, the best of 3: in every run's wall, and no
    # more ranks shorten it.
    start = {np_: min(popseg(np_, ["--version"], "start")[0] for _ in range(3)) for np_ in {P, 1}}

    r = res[P]
    sb, db, tb = b["stream%d" % P], b["dgemm%d" % P], b["touch%d" % P]
    bound = {
        "read": rbytes / 1e9 / min(cat, fresh),
        "scale+pca": max(2 * xbytes / 1e9 / sb, (n * 34 * 35 + 2.0 * n * 34 * K) / 1e9 / db),
        "lloyd": max(n * K * 8 / 1e9 / sb, 3.0 * n * K_SEG * K / 1e9 / db),
        "write": obytes / 1e9 / wrate,
        # Greedy k-means++, one run: each of the k centres needs every row's
        # distance to it (the first centre's for the weights, each later one
        # for its candidates' potentials and the new weights), so at least k
        # passes over the projection; popseg makes two a centre after the
        # first (candidates, then the weights).
        "seed": max(K_SEG * n * K * 8 / 1e9 / sb,
                    (1 + (K_SEG - 1) * (2 + math.floor(math.log(K_SEG)))) * 3.0 * n * K / 1e9 / db),
    }
    n_runs = seeds["kmeans++"]["n_init"]
    peer_e2e = sum(peer[s_] for s_ in ("read", "scale", "pca", "kmeans", "write"))
    rows = [
        ("read (HDF5 -> memory)", r["read"], peer["read"], bound["read"]),
        ("scale + PCA (+ projection)", r["scale"] + r["pca"], peer["scale"] + peer["pca"], bound["scale+pca"]),
        ("  numpy cov + eigh route", r["scale"] + r["pca"], np_pca, bound["scale+pca"]),
        ("k-means++ seeding, a run's share", seeds["kmeans++"]["seed"] / n_runs, seed_peer, bound["seed"]),
        ("Lloyd iteration (Hamerly, default)", lloyd["hamerly", P], per_peer, bound["lloyd"]),
        ("Lloyd iteration (plain Lloyd)", lloyd["lloyd", P], per_peer, bound["lloyd"]),
        ("  a run's iteration in lockstep (Hamerly, the default run)", r["lloyd"] / r["total_iterations"],
         per_peer, bound["lloyd"]),
        ("write", r["write"], peer["write"], bound["write"]),
        ("end to end (10 restarts)", r["wall"], peer_e2e, None),
    ]
    say("| stage | popseg (s) | peer (s) | peer / popseg | bound (s) | popseg / bound |")
    say("|---|---:|---:|---:|---:|---:|")
    for name, a, pe, bo in rows:
        say("| %s | %.4f | %.4f | %.2fx | %s | %s |" % (
            name, a, pe, pe / a, "%.4f" % bo if bo else "", "%.2fx" % (a / bo) if bo else ""))
    say("")
    say("- bounds (this run, %d processes at once): streaming %.1f GB/s, dgemm %.1f GFLOP/s, "
        "first touch %.1f GB/s (4 KiB pages) / %.1f GB/s (2 MiB pages); 1 process: %.1f GB/s, "
        "%.1f GFLOP/s, %.1f / %.1f GB/s" % (
            P, sb, db, tb, b["touchH%d" % P], b["stream1"], b["dgemm1"], b["touch1"], b["touchH1"]))
    say("- scale + PCA bound: max(two passes over %.2f GB at %.1f GB/s, n d (d+1) + 2 n d K flops at the "
        "dgemm rate); Lloyd: max(n K 8 bytes at the stream rate, 3 n k K flops at the dgemm rate)"
        % (xbytes / 1e9, sb))
    # The read's throughput over the bytes it takes (the line and the target below).
    read_gbs = rbytes / r["read"] / 1e9
    say("- read: %.2f GB/s (the %.3f GB of features, ids and names the read stage takes from the %.3f GB "
        "file, in %.4f s) = %.0f%% of `cat` (%.2f GB/s, warm, into one reused buffer) and %.0f%% of reading "
        "the file into fresh memory with %d processes (%.2f GB/s, the read bound; %.2f GB/s into 4 KiB "
        "pages, %.2f GB/s into 2 MiB pages, the best of 3); counting the features alone (%.3f GB), as "
        "results.md did before 2026-12-07 08:00: %.2f GB/s, %.0f%% of `cat`" % (
            read_gbs, rbytes / 1e9, fbytes / 1e9, r["read"], 100 * read_gbs / cat,
            cat, 100 * read_gbs / fresh, P, fresh, fresh4k, freshH, xbytes / 1e9,
            xbytes / r["read"] / 1e9, 100 * xbytes / r["read"] / 1e9 / cat))
    say("- write: %.2f GB (the results file) at %.2f GB/s; writing as many bytes to new files with %d "
        "processes, primed: %.2f GB/s, the write bound (page cache, no fsync; the features released by the "
        "projection, the default from an HDF5 table, the page cache takes the pages of the tail each rank "
        "kept, freed just before the write, and fresh ones beyond, each a host fault on this VM: see the "
        "released / kept line)" % (
            obytes / 1e9, obytes / r["write"] / 1e9, P, wrate))
    say("- the input's digest (provenance: the sha256 of its 4 MiB blocks' sha256s, each rank hashing its "
        "share of the blocks just before the write): %.3f s (`time_digest_s`, not in the write row), %.2f "
        "GB/s over the %.2f GB file; hashlib's sha256 of the warm file runs at %.2f GB/s on one core, so "
        "one such stream on each of the %d ranks would take %.3f s (popseg hashes four streams a rank: "
        "%.2fx that)" % (
            r["digest"], fbytes / 1e9 / r["digest"], fbytes / 1e9, sha, P, hash_s / P,
            r["digest"] / (hash_s / P)))
    e2e_seq = (start[P] + bound["read"] + bound["scale+pca"] + n_runs * bound["seed"]
               + r["total_iterations"] * bound["lloyd"] + bound["write"] + hash_s / P)
    # Restarts in lockstep, LOCKSTEP at a time: a group's seeding streams the
    # projection k times for all its runs, and each of its iterations (as
    # many as its longest run's) once; the runs' own arrays (weights, bounds)
    # are left out, so this is a floor for that schedule.
    ri = r["run_iterations"]
    groups = [ri[g:g + LOCKSTEP] for g in range(0, len(ri), LOCKSTEP)]
    group_iters = sum(max(g) for g in groups)
    e2e_bounds = (start[P] + bound["read"] + bound["scale+pca"] + len(groups) * bound["seed"]
                  + group_iters * bound["lloyd"] + bound["write"] + hash_s / P)
    say("- seeding bound (a run alone): k = %d passes over the projection at the stream rate (each centre "
        "needs every row's distance to it), or the candidates' distances at the dgemm rate if more; popseg "
        "makes 2 passes a centre after the first, each serving the %d runs seeded together (a run's share "
        "of the seeding is in the table): %.2fx the bound" % (
            K_SEG, min(LOCKSTEP, n_runs), seeds["kmeans++"]["seed"] / n_runs / bound["seed"]))
    say("- end to end at the bounds: start-up (mpirun and popseg --version, %.3f s), read, scale + PCA, "
        "seeding, Lloyd and the write each at its bound, the digest hashed at one core's rate on every rank. With the restarts in "
        "lockstep (%d groups of at most %d, %d group iterations: each group's longest run), each group "
        "streaming the projection k times to seed and once an iteration: %.3f s, at most %.2fx the peer; "
        "popseg's run is %.2fx that. With the %d restarts one after another (%d iterations, each streaming "
        "the projection): %.3f s, at most %.2fx. Not a cap: Hamerly's pruned iterations can beat the "
        "streaming bound (they skip rows), as they do when the projection fits in cache" % (
            start[P], len(groups), LOCKSTEP, group_iters, e2e_bounds, peer_e2e / e2e_bounds,
            r["wall"] / e2e_bounds, n_runs, r["total_iterations"], e2e_seq, peer_e2e / e2e_seq))
    say("- restarts in lockstep (the default, %d at a time: one pass over the rows serves them all) against "
        "one after another (--kmeans-lockstep 1), %d ranks, best of 2, the same results: seeding %.3f vs "
        "%.3f s (%.2fx), Lloyd (all runs) %.3f vs %.3f s (%.2fx), end to end %.3f vs %.3f s (%.2fx); peak "
        "per rank %.0f vs %.0f MiB" % (
            LOCKSTEP, P, r["seed"], seq["seed"], seq["seed"] / r["seed"], r["lloyd"], seq["lloyd"],
            seq["lloyd"] / r["lloyd"], r["wall"], seq["wall"], seq["wall"] / r["wall"],
            max(r["peaks"]) / 1024, max(seq["peaks"]) / 1024))
    say("- Hamerly against plain Lloyd in lockstep (the default run and the same with --kmeans-algorithm "
        "lloyd), %d ranks, best of 2, the same labels and centroids: %s; Lloyd (all runs) %.3f vs %.3f s "
        "(%.2fx), end to end %.3f vs %.3f s (%.2fx); %.1f%% of the distances skipped over the run; a run's "
        "iteration %.4f s, %.2fx its streaming bound (the table's lockstep row)" % (
            P, "yes" if same_plain else "NO", r["lloyd"], plain["lloyd"], plain["lloyd"] / r["lloyd"],
            r["wall"], plain["wall"], plain["wall"] / r["wall"],
            100 * (1 - r["distances"] / max(r["distances_lloyd"], 1)),
            r["lloyd"] / r["total_iterations"], r["lloyd"] / r["total_iterations"] / bound["lloyd"]))
    say("- Hamerly: %.1f%% of the distances skipped per iteration at %d ranks (%.1f%% at 1), the same labels "
        "and centroids as plain Lloyd: %s; plain Lloyd / Hamerly per iteration: %.2fx at %d ranks, %.2fx at 1"
        % (100 * skipped["hamerly", P], P, 100 * skipped["hamerly", 1], "yes" if same_alg else "NO",
           lloyd["lloyd", P] / lloyd["hamerly", P], P, lloyd["lloyd", 1] / lloyd["hamerly", 1]))
    say("- huge pages for the per-row arrays (madvise, include/popseg/mem.h) against 4 KiB pages "
        "(POPSEG_HUGEPAGES=0), a short run (1 seeding, %d iterations), best of 2 each: %s" % (
            SHORT, ", ".join("%s %.3f s vs %.3f s (%.2fx)" % (nm, hp["2 MiB"][k_], hp["4 KiB"][k_],
                                                             hp["4 KiB"][k_] / max(hp["2 MiB"][k_], 1e-9))
                             for nm, k_ in (("read", "read"), ("scale", "scale"), ("PCA", "pca"),
                                            ("k-means", "kmeans"), ("write", "write"), ("wall", "wall")))))
    say("- host faults (see prime() in bench/bench.py: this VM hands memory idle for a few seconds "
        "back to its host): the short run primed, as every timed run in this file, against the same "
        "run after 30 s idle, best of 2 each: %s" % (
            ", ".join("%s %.3f s vs %.3f s (%.2fx)" % (nm, hf["primed"][k_], hf["idle"][k_],
                                                     hf["idle"][k_] / max(hf["primed"][k_], 1e-9))
                      for nm, k_ in (("read", "read"), ("scale", "scale"), ("PCA", "pca"),
                                     ("k-means", "kmeans"), ("write", "write"), ("wall", "wall")))))
    if cost:
        ce, cf = cost["e2e"]["exact"], cost["e2e"]["float"]
        parts = ", ".join("%s %+.1f%%" % (nm, 100 * (ce[k_] / cf[k_] - 1)) for nm, k_ in (
            ("read", "read"), ("scale", "scale"), ("PCA", "pca"), ("seeding", "seed"),
            ("Lloyd (all runs)", "lloyd"), ("write", "write")) if cf[k_] > 0)
        say("- cost of exact sums (reproducible at any rank count; results say sums = %s) against the "
            "float-sum measuring build (sums = %s), best of 3 each, %d ranks: end to end %.3f s vs %.3f s "
            "(%+.1f%%); per stage: %s; the stages that sum (scale, PCA, seeding, Lloyd) %.3f s vs %.3f s, "
            "%+.1f%% of the float build's run (the read and the write run the same code in both builds, and "
            "their noise swamps the difference); a Lloyd iteration %.4f s vs %.4f s (%+.1f%%)" % (
                cost["sums"]["exact"], cost["sums"]["float"], P, ce["wall"], cf["wall"],
                100 * (ce["wall"] / cf["wall"] - 1), parts, sum(ce[s_] for s_ in SUM_STAGES),
                sum(cf[s_] for s_ in SUM_STAGES), sums_cost(cost), cost["lloyd"]["exact"],
                cost["lloyd"]["float"], 100 * (cost["lloyd"]["exact"] / cost["lloyd"]["float"] - 1)))
    say("- Lloyd from the same centres: %.1f%% of scikit-learn's labels are popseg's after %d iterations"
        % (100 * same, LONG))
    ss = seeds["kmeans++"]["inertia"], seeds["kmeans-parallel"]["inertia"]
    say("- seeding, 10 restarts (all runs): k-means++ %.3f s (inertia %.6g), k-means|| %.3f s (inertia %.6g, %+.3f%%)" % (
        seeds["kmeans++"]["seed"], ss[0], seeds["kmeans-parallel"]["seed"], ss[1], 100 * (ss[1] / ss[0] - 1)))
    say("- inertia: popseg %.6g, scikit-learn %.6g (10 restarts each, different random streams)"
        % (r["inertia"], peer["inertia"]))
    slice_mib = xbytes / P / 2 ** 20
    say("- peak resident memory per rank: %s MiB; the rank's slice %.0f MiB; the target 1.3 x slice + "
        "64 MiB = %.0f MiB" % (", ".join("%.0f" % (k / 1024) for k in r["peaks"]), slice_mib,
                               1.3 * slice_mib + 64))
    say("- the features released by the projection, but for the tail that fits under the read's peak, "
        "and read back for the profiles (the default from an HDF5 table) against kept in memory to the "
        "end (POPSEG_RELEASE_FEATURES=0), %d ranks, best of 2: peak per rank %.0f vs %.0f MiB, end to end "
        "%.3f s vs %.3f s (%+.1f%%; the profiles and the key figures read the released rows once each), "
        "write %.3f vs %.3f s (README: the write's pages)" % (
            P, max(r["peaks"]) / 1024, max(kept["peaks"]) / 1024, r["wall"], kept["wall"],
            100 * (r["wall"] / kept["wall"] - 1), r["write"], kept["write"]))
    scaling_cap = None
    if 1 in res and P != 1:
        one = res[1]
        say("- strong scaling 1 -> %d ranks: end to end %.2fx, read %.2fx, scale + PCA %.2fx, "
            "Lloyd iteration %.2fx, k-means stage %.2fx; hardware: streaming %.2fx, dgemm %.2fx" % (
                P, one["wall"] / r["wall"], one["read"] / r["read"],
                (one["scale"] + one["pca"]) / (r["scale"] + r["pca"]),
                lloyd["hamerly", 1] / lloyd["hamerly", P],
                one["kmeans"] / r["kmeans"], sb / b["stream1"], db / b["dgemm1"]))
        # What no code can change: the start-up (mpirun and popseg doing
        # nothing, measured above) does not shrink with more ranks; every
        # other second of the one-rank run (the digest included: each rank
        # hashes its share) is taken to scale perfectly. The first touches of fresh memory (the read, the
        # write's page cache) scale worse still on this VM (the bounds line:
        # 1 and P processes), left out as their 1-rank figures are noisy.
        rest1 = one["wall"] - start[1]
        t_cap = start[P] + rest1 / P
        scaling_cap = one["wall"] / t_cap
        say("- what this machine allows: the start-up takes %.3f s at 1 rank and %.3f s at %d (mpirun and "
            "popseg --version, best of 3); with the rest of the one-rank run (%.3f s) shared perfectly, %d "
            "ranks take at least %.3f s: at most %.2fx one rank" % (
                start[1], start[P], P, rest1, P, t_cap, scaling_cap))
    # The targets, each met or not, with the figure and, where it is
    # below the target, the most this machine allows (the lines above say how
    # each is measured).
    tg = [
        ("Lloyd iteration >= 3x scikit-learn's", per_peer / lloyd["hamerly", P], 3.0, "x", ""),
        ("plain Lloyd iteration within 1.5x of its bound", lloyd["lloyd", P] / bound["lloyd"], -1.5, "x", ""),
        ("scale + PCA within 2x of the two-pass bound", (r["scale"] + r["pca"]) / bound["scale+pca"], -2.0,
         "x", ""),
        ("end to end >= 10x the h5py + scikit-learn route",
         peer_e2e / r["wall"], 10.0, "x",
         "not capped: %.2fx with every stage at its bound" % (peer_e2e / e2e_bounds)),
        ("HDF5 read >= 70% of `cat`", 100 * read_gbs / cat, 70.0, "%",
         "reading into fresh memory: at most %.0f%%" % (100 * fresh / cat)),
        ("peak memory per rank <= 1.3 x slice + 64 MiB",
         max(r["peaks"]) / 1024 / (1.3 * slice_mib + 64), -1.0, "x of the target", ""),
    ]
    if 1 in res and P != 1:
        tg.append(("%d ranks >= 1.9x one rank (end to end)" % P, res[1]["wall"] / r["wall"], 1.9, "x",
                   "start-up: at most %.2fx" % scaling_cap))
    if cost:
        tg.append(("exact sums cost < 5% of the run (the summing stages' extra time)", sums_cost(cost),
                   -5.0, "%", ""))
    say("\n| target | measured | met | this machine allows |\n|---|---:|---|---|")
    for name, v, want, unit, cap in tg:
        ok = v >= want if want > 0 else v <= -want
        say("| %s | %.2f%s | %s | %s |" % (name, v, unit if unit != "x of the target" else "x of it",
                                           "yes" if ok else "**no**", cap))
    return dict(n=n, popseg=res, lloyd={"%s-%d" % k_: v for k_, v in lloyd.items()},
                skipped={"%s-%d" % k_: v for k_, v in skipped.items()}, same_alg=same_alg, cost=cost,
                peer=peer, numpy_pca=np_pca, peer_lloyd=per_peer, same_labels=same, seeds=seeds,
                kept=kept, plain=plain, same_plain=same_plain, cat=cat, read_bytes=rbytes, sha=sha, e2e_bounds=e2e_bounds, start=start, scaling_cap=scaling_cap, fresh=fresh, fresh4k=fresh4k, fresh_huge=freshH, hugepages=hp, bound=bound)


def bench_sweep():
    """popseg sweep k = 2..16 on the census against one run (k = 8), P ranks:
    the read, scaling and PCA are shared, so a sweep costs per k about one run's
    k-means (twice: the stability fit), not one run."""
    census = os.path.join(os.path.dirname(HERE), "data", "acs2015_county_data.csv")
    say("\n## Choosing k: `popseg sweep` on the census (3,218 x 34), k = 2..16, %d ranks\n" % P)
    runs = {}
    for tag, args in (("run", ["run", census, "-o", os.path.join(OUT, "c-run.h5"), "--force"]),
                      ("sweep", ["sweep", census, "-o", os.path.join(OUT, "c-sweep.h5"), "--k", "2..16",
                                 "--force"])):
        best = None
        for _ in range(2):
            wall, _, _ = popseg(P, args, tag)
            with h5py.File(args[3], "r") as f:
                t = dict(wall=wall, kmeans=float(f.attrs["time_kmeans_s"]),
                         shared=sum(float(f.attrs[a]) for a in ("time_read_s", "time_scale_s",
                                                               "time_pca_s")))
                if tag == "sweep":
                    t["per_k"] = f["sweep/time_s"][()].tolist()
                    t["n_init"] = int(f["sweep"].attrs["n_init_max"])
            best = t if best is None or t["wall"] < best["wall"] else best
        runs[tag] = best
    r, sw = runs["run"], runs["sweep"]
    m = len(sw["per_k"])
    say("| | wall (s) | read + scale + PCA (s) | k-means (s) | per k (s) |")
    say("|---|---:|---:|---:|---:|")
    say("| run, k = 8 | %.3f | %.3f | %.3f | |" % (r["wall"], r["shared"], r["kmeans"]))
    say("| sweep, k = 2..16 (%d values, 2 fits each) | %.3f | %.3f | %.3f | %.3f |" % (
        m, sw["wall"], sw["shared"], sw["kmeans"], sw["kmeans"] / m))
    say("")
    say("- per k the sweep costs %.2fx one run's k-means (two fits per k: the best of %d restarts and the "
        "stability fit from seed + 1, plus the metrics); the read, scaling and PCA are done once: "
        "%d separate runs would cost %.1f s, the sweep %.1f s"
        % (sw["kmeans"] / m / r["kmeans"], sw["n_init"], m, m * r["wall"], sw["wall"]))
    return dict(run=r, sweep=sw)


def main():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = re.search(r"model name\s*:\s*(.*)", fh.read()).group(1)
    except (OSError, AttributeError):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    # The vector instructions popseg's kernels pick (kmeans_nearest.c's
    # simd_level): the figures of an AVX2-only processor and of an AVX-512 one
    # differ by more than this VM's noise.
    flags = set()
    try:
        with open("/proc/cpuinfo") as fh:
            flags = set(re.search(r"flags\s*:\s*(.*)", fh.read()).group(1).split())
    except (OSError, AttributeError):
        pass
    isa = ("AVX-512" if {"avx512f", "avx512dq"} <= flags else
           "AVX2 + FMA, no AVX-512" if {"avx2", "fma"} <= flags else "neither AVX2 nor AVX-512")
    forced = [v for v in ("POPSEG_NO_AVX512", "POPSEG_KMEANS_NO_AVX512", "POPSEG_KMEANS_PORTABLE")
              if os.environ.get(v, "0") not in ("", "0")]
    if forced:
        isa += "; the kernels held back by %s" % ", ".join(v + "=1" for v in forced)
    say("# popseg benchmark results\n")
    say("- command: `make bench%s` (bench/bench.py %s)" % (
        " ROWS=\"%s\"" % " ".join(map(str, SIZES)) if sys.argv[3:] else "", " ".join(sys.argv[1:])))
    say("- machine: %s (%s), %d CPUs, %.0f GiB; %s" % (cpu, isa, os.cpu_count(), mem,
                                                       time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    say("- popseg: %d ranks (Open MPI, OpenBLAS one thread each); peers: scikit-learn / numpy with "
        "%d threads (threadpoolctl)" % (P, P))
    b = bounds(P)
    out = [bench_size(n, b) for n in SIZES]
    sweep = bench_sweep()
    with open(os.path.join(OUT, "bench.json"), "w") as fh:
        json.dump(dict(bounds=b, sizes=out, sweep=sweep), fh, indent=1, default=str)
    with open(os.path.join(HERE, "results.md"), "w") as fh:
        fh.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
