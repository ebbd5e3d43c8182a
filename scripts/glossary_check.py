#!/usr/bin/env python3
"""Compares `dorsal -G fields` and `-G protocols` with tshark 4.0.17's.

For every abbreviation both list, the type and the parent must be equal;
prints the count, the differences, and dorsal's fields tshark does not know.
Exit status 1 when a type or parent differs.

    scripts/glossary_check.py [target/release/dorsal]
"""
import subprocess
import sys


def glossary(cmd):
    out = subprocess.run(cmd + ["-G", "fields"], capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if cols[0] == "F" and len(cols) >= 5:
            rows[cols[2]] = (cols[3], cols[4])
        elif cols[0] == "P" and len(cols) >= 3:
            # A protocol row: its name stands where a field's parent would.
            rows[cols[2]] = ("FT_PROTOCOL", cols[1])
    return rows


def main():
    dorsal = sys.argv[1] if len(sys.argv) > 1 else "target/release/dorsal"
    ours = glossary([dorsal])
    theirs = glossary(["tshark"])
    both = sorted(set(ours) & set(theirs))
    bad = [(a, ours[a], theirs[a]) for a in both if ours[a] != theirs[a]]
    for a, o, t in bad:
        print(f"DIFF {a}: dorsal {o[0]} under {o[1] or '-'}, tshark {t[0]} under {t[1] or '-'}")
    only = sorted(set(ours) - set(theirs))
    for a in only:
        print(f"ONLY {a}")
    print(f"{len(ours)} dorsal fields, {len(both)} also in tshark, {len(bad)} differ in type or parent, {len(only)} dorsal's own")
    protocols = lambda cmd: {
        line.split("\t")[2]: line
        for line in subprocess.run(cmd + ["-G", "protocols"], capture_output=True, text=True, check=True).stdout.splitlines()
    }
    ours_p, theirs_p = protocols([dorsal]), protocols(["tshark"])
    bad_p = [a for a in ours_p if theirs_p.get(a) != ours_p[a]]
    for a in bad_p:
        print(f"DIFF protocol {a}: dorsal {ours_p[a]!r}, tshark {theirs_p.get(a)!r}")
    print(f"{len(ours_p)} dorsal protocols, {len(bad_p)} differ from tshark's -G protocols row")
    return 1 if bad or bad_p else 0


if __name__ == "__main__":
    sys.exit(main())
