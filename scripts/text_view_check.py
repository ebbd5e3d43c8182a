#!/usr/bin/env python3
"""Default view (`-r FILE`, no options) of dorsal beside tshark 4.0.17's over
every corpus capture the text suite's summary template could pick (protocols
within its MISSION list, at most 2 MB), not only the 200 it sampled: an
estimate of the pass rate on captures nobody recorded.

    python3 scripts/text_view_check.py target/release/dorsal [../shared/corpus] [CACHE]

tshark's outputs are kept in CACHE (default /tmp/text-view-cache), so later
runs only run dorsal. Prints the differing captures and the rate, with the
captures the suite already holds counted apart.
"""

import concurrent.futures
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def mission(shared):
    scope = {}
    with open(os.path.join(shared, "conformance", "templates.py")) as f:
        src = f.read()
    # Only the protocol lists: the module's templates need the generator.
    head = src.split("TEMPLATES = []")[0]
    exec(head, scope)
    return set(scope["MISSION"])


def candidates(corpus, allowed):
    out = []
    with open(os.path.join(corpus, "INDEX.tsv")) as f:
        for line in f:
            if line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            path, size, protos = parts[0], int(parts[1]), set(parts[4].split(","))
            if size <= 2_000_000 and protos <= allowed:
                out.append(path)
    return out


def run(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=60)
        return r.stdout
    except subprocess.TimeoutExpired:
        return b"<timeout>"


def main():
    dorsal = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "shared", "corpus")
    cache = sys.argv[3] if len(sys.argv) > 3 else "/tmp/text-view-cache"
    shared = os.path.dirname(os.path.abspath(corpus))
    os.makedirs(cache, exist_ok=True)
    caps = candidates(corpus, mission(shared))
    with open(os.path.join(shared, "conformance", "cases", "text.jsonl")) as f:
        text = f.read()
    suite = {c for c in caps if c in text}

    def one(c):
        f = os.path.join(corpus, c)
        key = os.path.join(cache, hashlib.sha1(c.encode()).hexdigest())
        if not os.path.exists(key):
            with open(key, "wb") as out:
                out.write(run(["tshark", "-r", f]))
        with open(key, "rb") as t:
            want = t.read()
        return c, want == run([dorsal, "-r", f])

    jobs = int(os.environ.get("JOBS", "2"))
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        results = list(ex.map(one, caps))
    bad = [c for c, ok in results if not ok]
    for c in bad:
        print(("suite  " if c in suite else "unseen ") + c)
    unseen = [r for r in results if r[0] not in suite]
    seen = [r for r in results if r[0] in suite]
    for label, rs in (("unseen", unseen), ("in suite", seen), ("all", results)):
        ok = sum(1 for _, k in rs if k)
        rate = 100.0 * ok / len(rs) if rs else 0.0
        print(f"{label}: {ok}/{len(rs)} equal ({rate:.1f}%)")


if __name__ == "__main__":
    main()
