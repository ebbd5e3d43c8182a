#!/usr/bin/env python3
"""Captures to one Parquet dataset with dorsal, then the seed questions in Spark SQL.

Each capture (local, hdfs:// or s3:// paths; folders are listed) is turned into
Parquet by `dorsal -T parquet` on an executor: local files are read by dorsal
itself, remote ones streamed to its standard input. The files land in
OUT/capture=NAME/part-0.parquet, one partition per capture, which Spark and
DuckDB (`SELECT ... FROM 'OUT/**/*.parquet'`) both read. Then the job answers
top talkers, DNS queries, HTTP hosts and TLS server names with Spark SQL.

    spark-submit contrib/spark/dorsal_spark.py --out /data/pq /data/captures/
    python3 contrib/spark/dorsal_spark.py --master 'local[2]' --out /tmp/pq caps/ --json answers.json

dorsal must be on every executor (--dorsal PATH, default `dorsal` on PATH).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading

# The columns of the dataset: one value per frame (-E occurrence=f).
FIELDS = [
    "frame.number", "frame.time", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "dns.flags.response",
    "dns.qry.name", "http.request", "http.host", "http.request.uri", "tls.handshake.type",
    "tls.handshake.extensions_server_name",
]

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz", ".zst", ".lz4")
ROTATED = re.compile(r"\.pcap\d+$")

QUERIES = {
    "top_talkers": """
        SELECT `ip.src` AS key, COUNT(*) AS n FROM packets
        WHERE `ip.src` IS NOT NULL GROUP BY `ip.src`""",
    "dns_queries": """
        SELECT `dns.qry.name` AS key, COUNT(*) AS n FROM packets
        WHERE `dns.flags.response` = false AND `dns.qry.name` IS NOT NULL
        GROUP BY `dns.qry.name`""",
    "http_hosts": """
        SELECT `http.host` AS key, COUNT(*) AS n FROM packets
        WHERE `http.request` AND `http.host` IS NOT NULL GROUP BY `http.host`""",
    "tls_sni": """
        SELECT `tls.handshake.extensions_server_name` AS key, COUNT(*) AS n FROM packets
        WHERE `tls.handshake.type` = 1 AND `tls.handshake.extensions_server_name` IS NOT NULL
        GROUP BY `tls.handshake.extensions_server_name`""",
}


def filesystem(path):
    """The pyarrow filesystem of a path and the path inside it."""
    from pyarrow import fs

    if "://" in path:
        return fs.FileSystem.from_uri(path)
    return fs.LocalFileSystem(), os.path.abspath(path)


def list_captures(inputs):
    """Every capture named, folders replaced by the captures in them."""
    from pyarrow import fs

    out = []
    for given in inputs:
        fsys, path = filesystem(given)
        info = fsys.get_file_info(path)
        if info.type == fs.FileType.Directory:
            for f in fsys.get_file_info(fs.FileSelector(path, recursive=False)):
                if f.type == fs.FileType.File and (
                    f.base_name.endswith(CAPTURE_SUFFIXES) or ROTATED.search(f.base_name)
                ):
                    out.append(given.rstrip("/") + "/" + f.base_name)
        else:
            out.append(given)
    return sorted(out)


def convert(task):
    """On an executor: one capture to OUT/capture=NAME/part-0.parquet."""
    path, name, out, dorsal = task
    args = [dorsal, "-T", "parquet", "-E", "occurrence=f"]
    for f in FIELDS:
        args += ["-e", f]
    out_fs, out_dir = filesystem(out)
    part_dir = f"{out_dir}/capture={name}"
    out_fs.create_dir(part_dir, recursive=True)
    local = "://" not in path
    proc = subprocess.Popen(
        args + ["-r", os.path.abspath(path) if local else "-"],
        stdin=None if local else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    feeder = None
    if not local:
        def feed():
            src_fs, src = filesystem(path)
            with src_fs.open_input_stream(src) as inp:
                try:
                    shutil.copyfileobj(inp, proc.stdin, 1 << 20)
                finally:
                    proc.stdin.close()

        feeder = threading.Thread(target=feed)
        feeder.start()
    with out_fs.open_output_stream(f"{part_dir}/part-0.parquet") as dst:
        shutil.copyfileobj(proc.stdout, dst, 1 << 20)
    err = proc.stderr.read().decode(errors="replace")
    code = proc.wait()
    if feeder:
        feeder.join()
    # 2 is tshark's code for a damaged capture: its complete packets were written.
    if code not in (0, 2):
        raise RuntimeError(f"dorsal failed on {path} ({code}): {err}")
    return path, code, err.strip()


def partition_names(paths):
    """A partition value per capture: its file name, made unique."""
    names, seen = [], {}
    for p in paths:
        base = re.sub(r"[^A-Za-z0-9._-]", "_", p.rstrip("/").rsplit("/", 1)[-1])
        n = seen.get(base, 0)
        seen[base] = n + 1
        names.append(base if n == 0 else f"{base}.{n}")
    return names


def answers(spark, out):
    spark.read.parquet(out).createOrReplaceTempView("packets")
    result = {}
    for name, sql in QUERIES.items():
        rows = spark.sql(sql + " ORDER BY n DESC, key").collect()
        result[name] = [[r["key"], r["n"]] for r in rows]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="+", help="captures or folders (local, hdfs://, s3://)")
    ap.add_argument("--out", required=True, help="the Parquet dataset's folder")
    ap.add_argument("--dorsal", default="dorsal", help="dorsal on the executors")
    ap.add_argument("--master", help="Spark master (spark-submit sets it)")
    ap.add_argument("--top", type=int, default=10, help="rows printed per answer")
    ap.add_argument("--json", help="write every answer, whole, to this file")
    a = ap.parse_args()

    from pyspark.sql import SparkSession

    # Local mode: the workers run this interpreter (its pyarrow), not PATH's.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Spark has no nanosecond timestamps: frame.time reads as nanoseconds
    # since the epoch (a long); DuckDB and pandas read it as a timestamp.
    builder = SparkSession.builder.appName("dorsal").config(
        "spark.sql.legacy.parquet.nanosAsLong", "true"
    )
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    caps = list_captures(a.inputs)
    tasks = [(p, n, a.out, a.dorsal) for p, n in zip(caps, partition_names(caps))]
    done = spark.sparkContext.parallelize(tasks, max(1, len(tasks))).map(convert).collect()
    for path, code, err in done:
        if code != 0:
            print(f"note: {path}: {err}")
    result = answers(spark, a.out)
    for name, rows in result.items():
        print(f"== {name} ({len(rows)} distinct)")
        for key, n in rows[: a.top]:
            print(f"{n:>10}  {key}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    spark.stop()


if __name__ == "__main__":
    main()
