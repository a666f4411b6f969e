#!/usr/bin/python3
"""leakcheck.py - read LeakSanitizer and valgrind logs for tests/leaks/run.sh.

Usage:
  leakcheck.py lsan NAME LOG...          LeakSanitizer logs (ASAN_OPTIONS log_path)
  leakcheck.py valgrind NAME REPO LOG... valgrind --log-file logs, one per rank

Prints "PASS: ..." or "FAIL: ..." lines (and "#" detail lines), exits 1 on
a failure.

lsan: any leak record left after tests/leaks/lsan.supp is a failure.
valgrind: a "definitely lost" record with a frame in popseg's own code (a
function named ps_* or a source file under REPO/src/) is a failure, as is a
memory error (invalid read/write/free, uninitialised value) with such a
frame, and a log without its LEAK SUMMARY (the rank died). Indirect and
possible losses in popseg's code, and losses outside it, are reported.
"""
import os
import re
import sys

TOP = 10  # frames shown per record


def fmt_bytes(n):
    return f"{n} B"


# ---------------------------------------------------------------- LSan
LSAN_REC = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\)")
LSAN_FRAME = re.compile(r"^\s+#(\d+) 0x[0-9a-f]+ in (.*)$")
LSAN_SUPP = re.compile(r"^\s+(\d+)\s+(\d+)\s+(\S+)\s*$")


def lsan(name, logs):
    kinds = {"Direct": [0, 0, 0], "Indirect": [0, 0, 0]}  # records, objects, bytes
    supp = {}
    records = []
    other_errors = []
    for path in logs:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        in_supp = False
        cur = None
        for ln in lines:
            m = LSAN_REC.match(ln)
            if m:
                k, b, n = m.group(1), int(m.group(2)), int(m.group(3))
                kinds[k][0] += 1
                kinds[k][1] += n
                kinds[k][2] += b
                cur = [ln.rstrip(":").replace(" allocated from", ""), []]
                records.append(cur)
                continue
            m = LSAN_FRAME.match(ln)
            if m and cur is not None:
                fr = m.group(2)
                if "__interceptor_" not in fr and len(cur[1]) < TOP:
                    cur[1].append(fr)
                continue
            if ln.strip() == "":
                cur = None
            if "Suppressions used:" in ln:
                in_supp = True
                continue
            if in_supp:
                m = LSAN_SUPP.match(ln)
                if m:
                    c, b, t = int(m.group(1)), int(m.group(2)), m.group(3)
                    s = supp.setdefault(t, [0, 0])
                    s[0] += c
                    s[1] += b
                elif ln.startswith("---") and supp:
                    in_supp = False
            m = re.search(r"ERROR: AddressSanitizer: (\S+)", ln)
            if m:
                other_errors.append(m.group(1))
    ns = sum(v[0] for v in supp.values())
    bs = sum(v[1] for v in supp.values())
    sdesc = ", ".join(f"{t} {v[0]}/{v[1]} B" for t, v in sorted(supp.items())) or "none"
    d, i = kinds["Direct"], kinds["Indirect"]
    print(f"# lsan {name}: unsuppressed direct {d[0]} records ({d[1]} objects, {d[2]} B), "
          f"indirect {i[0]} records ({i[1]} objects, {i[2]} B); "
          f"suppressed {ns} allocations, {bs} B ({sdesc})")
    if other_errors:
        print(f"FAIL: lsan {name}: AddressSanitizer error {other_errors[0]} (see the log)")
        return 1
    if records:
        print(f"FAIL: lsan {name}: {d[0]} direct ({d[2]} B) and {i[0]} indirect ({i[2]} B) "
              f"leaks not suppressed")
        for head, frames in records[:5]:
            print(f"#   {head}")
            for fr in frames:
                print(f"#       {fr}")
        if len(records) > 5:
            print(f"#   ... {len(records) - 5} more records")
        return 1
    print(f"PASS: lsan {name}: no leak outside tests/leaks/lsan.supp "
          f"({ns} allocations, {bs} B suppressed)")
    return 0


# ------------------------------------------------------------ valgrind
VG_PREFIX = re.compile(r"^==(\d+)== ?(.*)$")
VG_LEAK = re.compile(r"^([\d,]+) (?:\(([\d,]+) direct, ([\d,]+) indirect\) )?bytes in ([\d,]+) "
                     r"blocks are (definitely|indirectly|possibly) lost in loss record")
VG_FRAME = re.compile(r"^\s*(?:at|by) 0x[0-9A-Fa-f]+: (.*?) \((.*)\)$")
VG_SUMMARY = re.compile(r"^\s*(definitely lost|indirectly lost|possibly lost|still reachable|"
                        r"suppressed): ([\d,]+) bytes in ([\d,]+) blocks")


def num(s):
    return int(s.replace(",", ""))


def is_ours(fn, loc, src):
    if fn.startswith("ps_"):
        return True
    if loc.startswith("in "):
        return False
    path = loc.rsplit(":", 1)[0]
    if not os.path.isabs(path):
        return path.startswith("src/")
    return os.path.realpath(path).startswith(src + os.sep)


def vg_blocks(lines):
    """Split one log into blocks separated by empty '==PID==' lines."""
    block = []
    for ln in lines:
        m = VG_PREFIX.match(ln)
        if not m:
            continue
        body = m.group(2)
        if body.strip() == "":
            if block:
                yield block
            block = []
        else:
            block.append(body)
    if block:
        yield block


def valgrind(name, repo, logs):
    src = os.path.realpath(os.path.join(repo, "src"))
    kinds = ("definitely", "indirectly", "possibly")
    ours = {k: [0, 0, 0] for k in kinds}    # records, blocks, bytes with a popseg frame
    theirs = {k: [0, 0, 0] for k in kinds}  # the others (not suppressed either)
    total = {}                              # LEAK SUMMARY, summed over ranks
    bad_records, bad_errors, n_errors = [], [], 0
    incomplete = []
    for path in logs:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        summary = False
        for block in vg_blocks(lines):
            while block and re.match(r"^Thread \d+", block[0]):
                block = block[1:]
            if not block:
                continue
            if block[0].startswith("LEAK SUMMARY") or block[0].startswith("All heap blocks were freed"):
                summary = True
            for ln in block:
                m = VG_SUMMARY.match(ln)
                if m:
                    t = total.setdefault(m.group(1), [0, 0])
                    t[0] += num(m.group(2))
                    t[1] += num(m.group(3))
            if len(block) < 2 or not VG_FRAME.match(block[1]):
                continue
            frames = []
            for ln in block[1:]:
                m = VG_FRAME.match(ln)
                if not m:
                    break  # "Address ... alloc'd" and its own stack follow
                frames.append((m.group(1), m.group(2)))
            mine = any(is_ours(fn, loc, src) for fn, loc in frames)
            shown = [f"{fn} ({loc})" for fn, loc in frames[:TOP]]
            m = VG_LEAK.match(block[0])
            if m:
                kind = m.group(5)
                own = num(m.group(2)) if m.group(2) else num(m.group(1))
                acc = ours if mine else theirs
                acc[kind][0] += 1
                acc[kind][1] += num(m.group(4))
                acc[kind][2] += own
                if mine and kind == "definitely":
                    bad_records.append((block[0], shown))
                continue
            n_errors += 1
            if mine:
                bad_errors.append((block[0], shown))
        if not summary:
            incomplete.append(path)

    def desc(acc):
        return ", ".join(f"{k} {acc[k][2]} B in {acc[k][1]} blocks ({acc[k][0]} records)"
                         for k in kinds)
    sup = total.get("suppressed", [0, 0])
    print(f"# valgrind {name}: in popseg's code: {desc(ours)}")
    print(f"# valgrind {name}: elsewhere, not suppressed: {desc(theirs)}; "
          f"suppressed {sup[0]} B in {sup[1]} blocks (tests/leaks/valgrind.supp); "
          f"{n_errors} memory errors outside popseg's code")
    rc = 0
    if incomplete:
        print(f"FAIL: valgrind {name}: no LEAK SUMMARY in {len(incomplete)} of {len(logs)} logs "
              f"(a rank died?): {' '.join(os.path.basename(p) for p in incomplete)}")
        rc = 1
    if bad_records:
        b = ours["definitely"]
        print(f"FAIL: valgrind {name}: {b[2]} B definitely lost in {b[1]} blocks "
              f"({b[0]} records) allocated by popseg's code")
        for head, frames in bad_records[:5]:
            print(f"#   {head}")
            for fr in frames:
                print(f"#       {fr}")
        rc = 1
    elif not incomplete:
        print(f"PASS: valgrind {name}: nothing definitely lost by popseg's code "
              f"({len(logs)} ranks; {sup[0]} B suppressed)")
    if bad_errors:
        print(f"FAIL: valgrind {name}: {len(bad_errors)} memory errors in popseg's code")
        for head, frames in bad_errors[:5]:
            print(f"#   {head}")
            for fr in frames:
                print(f"#       {fr}")
        rc = 1
    elif not incomplete:
        print(f"PASS: valgrind {name}: no memory error in popseg's code")
    return rc


def main(argv):
    if len(argv) >= 3 and argv[1] == "lsan":
        return lsan(argv[2], argv[3:])
    if len(argv) >= 5 and argv[1] == "valgrind":
        return valgrind(argv[2], argv[3], argv[4:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
