#!/usr/bin/env python3
"""The Spark job in local mode on a folder of generated captures: its four
answers must equal what dorsal prints for the merged set (`-r FOLDER`).

    python3 -m venv /tmp/spark-venv && /tmp/spark-venv/bin/pip install pyspark pyarrow
    cargo build --release -p dorsal -p dorsal-fixtures   # and editcap (wireshark)
    /tmp/spark-venv/bin/python contrib/spark/test_local.py target/release
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# The same questions asked of dorsal on the merged set.
LINES = {
    "top_talkers": (None, "ip.src"),
    "dns_queries": ("dns.flags.response == 0", "dns.qry.name"),
    "http_hosts": ("http.request", "http.host"),
    "tls_sni": ("tls.handshake.type == 1", "tls.handshake.extensions_server_name"),
}


def dorsal_counts(dorsal, folder, flt, field):
    args = [dorsal, "-r", folder, "-T", "fields", "-E", "occurrence=f", "-e", field]
    if flt:
        args += ["-Y", flt]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return collections.Counter(line for line in out.splitlines() if line)


def main():
    bins = sys.argv[1] if len(sys.argv) > 1 else "target/release"
    dorsal = os.path.abspath(os.path.join(bins, "dorsal"))
    gen = os.path.abspath(os.path.join(bins, "gen-fixtures"))
    with tempfile.TemporaryDirectory() as tmp:
        caps = os.path.join(tmp, "caps")
        os.makedirs(caps)
        # A rotated set, as tcpdump -C leaves one: a generated capture cut
        # every 300 packets by editcap (Wireshark's). (Captures that repeat
        # one another's packets would not do: merged, the copies are TCP
        # retransmissions, which is not what the pieces say one by one.)
        subprocess.run([gen, tmp, "--repeat", "12"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["editcap", "-c", "300", os.path.join(tmp, "big.pcap"),
                        os.path.join(caps, "rot.pcap")], check=True)

        out = os.path.join(tmp, "pq")
        answers = os.path.join(tmp, "answers.json")
        subprocess.run(
            [sys.executable, os.path.join(HERE, "dorsal_spark.py"), "--master", "local[2]",
             "--dorsal", dorsal, "--out", out, "--json", answers, caps],
            check=True,
        )
        with open(answers) as f:
            got = json.load(f)
        parts = sorted(os.listdir(out))
        want_parts = sorted(f"capture={c}" for c in os.listdir(caps))
        assert [p for p in parts if p.startswith("capture=")] == want_parts, parts
        print(f"{len(want_parts)} captures, one partition each")
        bad = 0
        for name, (flt, field) in LINES.items():
            want = dorsal_counts(dorsal, caps, flt, field)
            have = collections.Counter({k: n for k, n in got[name]})
            same = want == have
            bad += not same
            print(f"{name}: {len(have)} keys, {sum(have.values())} frames: "
                  f"{'equal' if same else 'DIFFER'} to dorsal -r FOLDER")
            if not same:
                print("  spark only:", dict(have - want), " dorsal only:", dict(want - have))
        # The same dataset in DuckDB, partitions and all.
        try:
            import duckdb
        except ImportError:
            duckdb = None
            print("duckdb not installed: DuckDB check skipped")
        if duckdb:
            rows = duckdb.sql(
                f"SELECT \"ip.src\", count(*) FROM read_parquet('{out}/**/*.parquet', "
                "hive_partitioning = true) WHERE \"ip.src\" IS NOT NULL GROUP BY 1"
            ).fetchall()
            same = collections.Counter(dict(rows)) == collections.Counter(dict(got["top_talkers"]))
            bad += not same
            print(f"duckdb top talkers: {'equal' if same else 'DIFFER'} to Spark's")
        if not all(sum(dict(got[n]).values()) if got[n] else 0 for n in LINES):
            print("an answer is empty: the captures lack a protocol")
            bad += 1
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
