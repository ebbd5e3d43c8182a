#!/usr/bin/env python3
"""Sets the design card's crates beside dorsal over the corpus (DEPENDENCIES.md).

    cargo build --release --manifest-path tools/design-card/Cargo.toml
    python3 tools/design-card/compare.py target/release/dorsal ../shared/corpus

records: pcap-parser's records against dorsal's reader (every capture);
l2l4: etherparse's first IPv4 pair and ports against dorsal's fields;
tls: tls-parser's ClientHello SNI against dorsal's (frames where either has one);
http: httparse's request method/URI/Host against dorsal's (Ethernet captures).
Prints per check how many captures agree and the first that do not.
"""
import os
import subprocess
import sys

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target/release/design-card")


def run(args):
    p = subprocess.run(args, capture_output=True, timeout=120)
    return p.stdout.decode("utf-8", "replace")


def dorsal_rows(dorsal, cap, fields, flt=None):
    args = [dorsal, "-r", cap, "-T", "fields", "-E", "occurrence=f"]
    if flt:
        args += ["-Y", flt]
    for f in fields:
        args += ["-e", f]
    return run(args)


def main():
    dorsal, corpus = sys.argv[1], sys.argv[2]
    only = sys.argv[3:] or ["records", "l2l4", "tls", "http"]
    caps, ether = [], set()
    for line in open(os.path.join(corpus, "INDEX.tsv")):
        c = line.rstrip("\n").split("\t")
        if line.startswith("#") or len(c) < 5:
            continue
        path = os.path.join(corpus, c[0])
        caps.append(path)
        if c[3] == "ether":
            ether.add(path)
    for check in only:
        agree, differ, examples = 0, 0, []
        for cap in caps:
            if check != "records" and cap not in ether:
                continue
            if check == "records":
                out = run([TOOL, "records-diff", cap]).strip()
                ok = out.startswith("same")
                why = out
            elif check == "l2l4":
                theirs = run([TOOL, "l2l4", cap]).splitlines()
                ours = dorsal_rows(dorsal, cap, ["frame.number", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport"]).splitlines()
                ours_udp = dorsal_rows(dorsal, cap, ["udp.srcport", "udp.dstport"]).splitlines()
                merged = []
                for o, u in zip(ours, ours_udp):
                    f = o.split("\t")
                    uf = u.split("\t")
                    sp, dp = (f[3], f[4]) if f[3] else (uf[0], uf[1] if len(uf) > 1 else "")
                    merged.append("\t".join([f[0], f[1], f[2], sp, dp]))
                ok = theirs == merged
                why = next((f"frame {t.split(chr(9))[0]}: etherparse {t!r}, dorsal {o!r}" for t, o in zip(theirs, merged) if t != o), "row count")
            elif check == "tls":
                theirs = dict(l.split("\t", 1) for l in run([TOOL, "tls", cap]).splitlines())
                ours = dict(l.split("\t", 1) for l in dorsal_rows(dorsal, cap, ["frame.number", "tls.handshake.extensions_server_name"], "tls.handshake.type == 1").splitlines() if "\t" in l)
                ours = {k: v for k, v in ours.items() if v}
                ok = theirs == ours
                why = f"tls-parser {sorted(set(theirs.items()) - set(ours.items()))[:2]}, dorsal {sorted(set(ours.items()) - set(theirs.items()))[:2]}"
            else:
                theirs = dict(l.split("\t", 1) for l in run([TOOL, "http", cap]).splitlines())
                ours = dict(l.split("\t", 1) for l in dorsal_rows(dorsal, cap, ["frame.number", "http.request.method", "http.request.uri", "http.host"], "http.request").splitlines() if "\t" in l)
                ok = theirs == ours
                why = f"httparse {sorted(set(theirs.items()) - set(ours.items()))[:1]}, dorsal {sorted(set(ours.items()) - set(theirs.items()))[:1]}"
            if ok:
                agree += 1
            else:
                differ += 1
                if len(examples) < 5:
                    examples.append(f"  {os.path.relpath(cap, corpus)}: {why[:300]}")
        print(f"{check}: {agree} captures agree, {differ} differ")
        for e in examples:
            print(e)


if __name__ == "__main__":
    main()
