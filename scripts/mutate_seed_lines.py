#!/usr/bin/env python3
"""The seed command lines on randomly mutated corpus captures.

Each capture is damaged one way (bit flips, truncation, inserted bytes, a run of
random bytes, a duplicated block), then every seed line runs on it with a 10 s
limit. A crash is a signal, a panic message, or an exit code tshark never uses
(it uses 0, 1 and 2); a hang is a run past 10 s; memory is each run's peak RSS.

    scripts/mutate_seed_lines.py [--bin target/release/dorsal] [--count 300] [--seed 1]
"""
import argparse
import os
import random
import resource
import shutil
import signal
import subprocess
import tempfile
import time

SEED_LINES = [
    ["-Y", "http.request", "-T", "fields", "-e", "http.host", "-e", "http.request.uri"],
    ["-Y", "dns.flags.response == 0", "-T", "fields", "-e", "dns.qry.name"],
    ["-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tls.handshake.extensions_server_name"],
    ["-Y", "ftp.request.command == USER || ftp.request.command == PASS || http.authorization",
     "-T", "fields", "-e", "frame.number", "-e", "ftp.request.arg", "-e", "http.authorization"],
    ["-q", "-z", "io,phs"],
    ["-q", "-z", "conv,tcp"],
    ["-q", "-z", "endpoints,ip"],
    ["-q", "--export-objects", "http,{out}"],
    ["-q", "--export-objects", "smb,{out}"],
    ["--export-credentials", "{out}/creds.csv", "-q"],
    ["--report", "{out}"],
    [],
]
LIMIT_S = 10
LIMIT_KB = 2 * 1024 * 1024


def mutate(b, rnd):
    b = bytearray(b)
    kind = rnd.randrange(5)
    lo = min(24, len(b))
    if kind == 0:
        for _ in range(rnd.randint(1, 40)):
            k = rnd.randrange(lo, len(b))
            b[k] ^= 1 << rnd.randrange(8)
    elif kind == 1:
        b = b[: rnd.randrange(lo, len(b))]
    elif kind == 2:
        k = rnd.randrange(lo, len(b))
        b[k:k] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64)))
    elif kind == 3:
        k = rnd.randrange(lo, len(b))
        n = rnd.randint(1, 32)
        b[k : k + n] = bytes(rnd.randrange(256) for _ in range(n))
    else:
        k = rnd.randrange(lo, len(b))
        n = rnd.randint(16, 4096)
        b[k:k] = b[k : k + n]
    return bytes(b), ["flips", "truncated", "inserted", "random run", "duplicated block"][kind]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/dorsal")
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "../../shared/corpus"))
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-bytes", type=int, default=50_000_000)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    rows = [l.split("\t") for l in open(os.path.join(a.corpus, "INDEX.tsv")) if not l.startswith("#")]
    rows = [r for r in rows if 100 < int(r[1]) < a.max_bytes]
    rnd.shuffle(rows)
    bad, runs, worst_s, worst_kb = [], 0, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, r in enumerate(rows[: a.count]):
            data = open(os.path.join(a.corpus, r[0]), "rb").read()
            mutated, how = mutate(data, rnd)
            cap = os.path.join(tmp, "m" + os.path.splitext(r[0])[1])
            open(cap, "wb").write(mutated)
            for line in SEED_LINES:
                out = os.path.join(tmp, "out")
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                args = [a.bin, "-r", cap] + [x.replace("{out}", out) for x in line]
                start = time.monotonic()
                proc = subprocess.Popen(
                    args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
                )
                verdict = "ok"
                try:
                    _, err = proc.communicate(timeout=LIMIT_S)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    _, err = proc.communicate()
                    verdict = "hang"
                secs = time.monotonic() - start
                code = proc.returncode
                if verdict == "ok" and (code < 0 or code not in (0, 1, 2) or b"panicked" in err):
                    verdict = f"crash (exit {code})"
                # The largest peak of any child so far: a new maximum is this run's.
                kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                if kb > LIMIT_KB and kb > worst_kb:
                    verdict = f"over 2 GiB ({kb} kB)"
                runs += 1
                worst_s = max(worst_s, secs)
                worst_kb = max(worst_kb, kb)
                if verdict != "ok":
                    keep = os.path.join("/tmp", f"mutated-{n}{os.path.splitext(r[0])[1]}")
                    open(keep, "wb").write(mutated)
                    bad.append(f"{verdict}: {' '.join(args[3:])} on {r[0]} ({how}), kept as {keep}")
    for b in bad:
        print(b)
    print(f"{min(a.count, len(rows))} mutated captures x {len(SEED_LINES)} seed lines = {runs} runs: "
          f"{len(bad)} crashes/hangs/over 2 GiB; slowest {worst_s:.2f} s, largest {worst_kb // 1024} MB")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
