#!/usr/bin/env python3
"""Checks `-T parquet` against `-T fields` on corpus captures, read by DuckDB.

For each capture, writes the Parquet file and the fields rows for the same
fields with `-E occurrence=f`, reads the file with DuckDB and checks the row
count and every value: integers and decimals cast to text, booleans as 1/0,
timestamps as the epoch nanoseconds `frame.time_epoch` prints, binary as
hex, null as an empty cell. Also checks that integer fields have integer
types.

    python3 -m venv /tmp/pqv && /tmp/pqv/bin/pip install duckdb
    /tmp/pqv/bin/python scripts/parquet_check.py target/release/dorsal ../shared/corpus 60
"""
import os
import subprocess
import sys
import tempfile
from decimal import Decimal

import duckdb

FIELDS = [
    "frame.number", "frame.len", "frame.time_epoch", "frame.time_relative", "frame.time",
    "eth.src", "ip.src", "ip.ttl", "ip.flags.df", "ip.proto", "tcp.srcport", "tcp.seq",
    "tcp.stream", "tcp.flags.syn", "udp.length", "dns.qry.name", "dns.id", "http.host",
    "tls.handshake.extensions_server_name", "tcp.payload",
]
INTEGERS = {"frame.number", "frame.len", "ip.ttl", "ip.proto", "tcp.srcport", "tcp.seq",
            "tcp.stream", "udp.length"}


def text(v, kind):
    if v is None:
        return ""
    if kind == "BOOLEAN":
        return "1" if v else "0"
    if kind == "BLOB":
        return bytes(v).hex()
    if kind.startswith("DECIMAL"):
        return format(Decimal(v), "f")
    return str(v)


def check(dorsal, cap, tmp):
    args = [dorsal, "-r", cap, "-E", "occurrence=f"]
    for f in FIELDS:
        args += ["-e", f]
    pq = os.path.join(tmp, "out.parquet")
    with open(pq, "wb") as out:
        if subprocess.run(args + ["-T", "parquet"], stdout=out, stderr=subprocess.DEVNULL).returncode != 0:
            return None
    rows = subprocess.run(args + ["-T", "fields"], capture_output=True, text=True).stdout.splitlines()
    con = duckdb.connect()
    cols = ", ".join(
        f'epoch_ns("{f}") AS "{f}"' if f == "frame.time" else f'"{f}"' for f in FIELDS
    )
    rel = con.sql(f"SELECT {cols} FROM read_parquet('{pq}')")
    kinds = dict(con.sql(f"DESCRIBE SELECT * FROM read_parquet('{pq}')").fetchall() and
                 [(r[0], r[1]) for r in con.sql(f"DESCRIBE SELECT * FROM read_parquet('{pq}')").fetchall()])
    for f in INTEGERS:
        if not any(t in kinds[f] for t in ("INT", "UINTEGER", "USMALLINT", "UTINYINT", "UBIGINT")):
            return f"{f} has type {kinds[f]}"
    got = rel.fetchall()
    if len(got) != len(rows):
        return f"{len(got)} rows, fields printed {len(rows)}"
    for n, (g, line) in enumerate(zip(got, rows), 1):
        want = line.split("\t")
        for i, f in enumerate(FIELDS):
            w = want[i] if i < len(want) else ""
            if f == "frame.time":
                # The timestamp as nanoseconds against frame.time_epoch.
                w = want[FIELDS.index("frame.time_epoch")].replace(".", "").lstrip("0") or "0"
            have = text(g[i], kinds[f])
            if f == "frame.time":
                have = str(g[i])
            if have != w:
                return f"row {n} {f}: parquet {have!r}, fields {w!r}"
    return len(rows)


def main():
    dorsal, corpus, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    caps = []
    with open(os.path.join(corpus, "INDEX.tsv")) as idx:
        for line in idx:
            cols = line.rstrip("\n").split("\t")
            if line.startswith("#") or len(cols) < 3 or cols[2] in ("", "0"):
                continue
            caps.append(os.path.join(corpus, cols[0]))
    ok = bad = rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        for cap in caps:
            if ok + bad >= count:
                break
            r = check(dorsal, cap, tmp)
            if r is None:
                continue
            if isinstance(r, int):
                ok += 1
                rows += r
            else:
                bad += 1
                print(f"FAIL {cap}: {r}")
    print(f"{ok} captures equal ({rows} rows), {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
