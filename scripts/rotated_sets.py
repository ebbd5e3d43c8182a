#!/usr/bin/env python3
"""Rotated capture sets read as one: each recorded case's capture is cut with
`editcap -c` into 3 to 5 pieces named as tcpdump -C -W names them
(capture.pcap0, capture.pcap1, ...), then the case runs with the pieces as
shuffled -r options and as one -r FOLDER; both must print exactly what was
recorded for the whole capture.

usage: scripts/rotated_sets.py --bin target/release/dorsal [--suite seed]
       [--limit N] [--only-passing tests/conformance.passing] [-v]
"""
import argparse, hashlib, json, random, shutil, subprocess, sys, tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


def objects_of(outdir):
    objs = []
    root = Path(outdir)
    if root.exists():
        for p in sorted(root.rglob("*")):
            if p.is_file():
                d = p.read_bytes()
                objs.append([str(p.relative_to(root)), len(d), hashlib.sha256(d).hexdigest()])
    return objs


def expected_stdout(case):
    import base64
    if "stdout_b64" in case:
        return base64.b64decode(case["stdout_b64"])
    return case.get("stdout", "").encode()


def frames(binary, pcap):
    p = subprocess.run([binary, "-r", str(pcap), "-T", "fields", "-e", "frame.number"],
                       capture_output=True)
    lines = p.stdout.split()
    return len(lines)


def split(pcap, n_frames, rng, into):
    """Pieces of the capture in `into` named capture.pcapN; their paths."""
    k = rng.randint(3, 5)
    per = max(1, -(-n_frames // k))
    tmp = into / "raw"
    tmp.mkdir()
    subprocess.run(["editcap", "-c", str(per), str(pcap), str(tmp / "piece")],
                   capture_output=True, check=False)
    pieces = sorted(tmp.iterdir())
    out = []
    for i, p in enumerate(pieces):
        dst = into / "set" / ("capture.pcap%d" % i)
        dst.parent.mkdir(exist_ok=True)
        p.rename(dst)
        out.append(dst)
    tmp.rmdir()
    return out


def run(binary, case, inputs, tmp):
    outdir = tmp / "objects"
    shutil.rmtree(outdir, ignore_errors=True)
    args = []
    it = iter(case["args"])
    for a in it:
        if a == "-r":
            next(it)
            for i in inputs:
                args += ["-r", str(i)]
        else:
            args.append(a.replace("{outdir}", str(outdir)))
    p = subprocess.run([binary] + args, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    if case["kind"] == "objects":
        got = objects_of(outdir) == case["objects"]
    else:
        got = p.stdout == expected_stdout(case)
    return got and p.returncode == case["rc"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--suite", action="append", default=None)
    ap.add_argument("--corpus", default=str(SHARED / "corpus"))
    ap.add_argument("--cases", default=str(SHARED / "conformance" / "cases"))
    ap.add_argument("--only-passing", default=None,
                    help="ratchet file: only cases that pass on the whole capture")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    passing = set(Path(a.only_passing).read_text().split()) if a.only_passing else None
    cases = []
    for suite in a.suite or ["seed"]:
        for line in open(Path(a.cases) / (suite + ".jsonl")):
            c = json.loads(line)
            if c["kind"] not in ("stdout", "objects") or not c.get("pcap"):
                continue
            if c["args"].count("-r") != 1 or (passing is not None and c["id"] not in passing):
                continue
            cases.append(c)
    if a.limit:
        rng.shuffle(cases)
        cases = cases[: a.limit]
    binary = str(Path(a.bin).resolve())
    ok = {"shuffled": 0, "folder": 0}
    tried = 0
    by_pcap = {}
    for c in cases:
        by_pcap.setdefault(c["pcap"], []).append(c)
    for pcap, cs in sorted(by_pcap.items()):
        src = Path(a.corpus) / pcap
        n = frames(binary, src)
        if n < 3:
            continue
        with tempfile.TemporaryDirectory(prefix="sets-") as t:
            t = Path(t)
            pieces = split(src, n, rng, t)
            if len(pieces) < 2:
                continue
            for c in cs:
                tried += 1
                shuffled = pieces[:]
                rng.shuffle(shuffled)
                for mode, inputs in (("shuffled", shuffled), ("folder", [pieces[0].parent])):
                    if run(binary, c, inputs, t):
                        ok[mode] += 1
                    elif a.v:
                        print("FAIL %s %s (%d pieces)" % (mode, c["id"], len(pieces)))
    for mode in ok:
        rate = 100.0 * ok[mode] / tried if tried else 0.0
        print("%-9s %d/%d %.1f%%" % (mode, ok[mode], tried, rate))


if __name__ == "__main__":
    sys.exit(main())
