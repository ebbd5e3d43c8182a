#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the packets of ../shared/corpus.

usage: fuzz/seeds.py [--corpus ../shared/corpus] [--out fuzz/corpus]

  capture, engine, report  small capture files, as they are
  packet           one selector byte (the link type's place in the target's
                   list) and a packet of that link type
  payload          one selector byte (the port's place in the target's list)
                   and the first segments of a flow to that port, 0xfe between
                   segments, '<' before those from the server
  filter           every display filter of the recorded conformance cases

The corpora (fuzz/corpus/) are not committed; libFuzzer grows them.
"""
import argparse
import hashlib
import json
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"

# Must match fuzz_targets/packet.rs and fuzz_targets/payload.rs.
LINKTYPES = [1, 0, 101, 113, 276, 228, 229, 9, 105, 127, 192]
PORTS = [(53, False), (5353, False), (5355, False), (53, True), (80, True), (443, True),
         (21, True), (20, True), (445, True), (139, True), (110, True), (143, True),
         (25, True), (8080, True)]
MAX_FILE = 64 * 1024
PER_TARGET = 2000


def records(data):
    """(linktype, packet bytes) of a pcap or pcapng file; stops at damage."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        linktype = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        off = 24
        while off + 16 <= len(data):
            caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            if caplen > 262144 or off + 16 + caplen > len(data):
                return
            yield linktype, data[off + 16:off + 16 + caplen]
            off += 16 + caplen
    elif magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off, ifaces = 0, []
        while off + 12 <= len(data):
            btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if blen < 12 or off + blen > len(data):
                return
            body = data[off + 8:off + blen - 4]
            if btype == 0x0A0D0D0A:
                ifaces = []
            elif btype == 1 and len(body) >= 2:
                ifaces.append(struct.unpack(e + "H", body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                iface, _, _, caplen = struct.unpack(e + "IIII", body[:16])
                if iface < len(ifaces):
                    yield ifaces[iface], body[20:20 + caplen]
            off += blen


def l4(packet):
    """(src, dst, sport, dport, tcp?, payload) of an Ethernet/IPv4 TCP or UDP packet."""
    if len(packet) < 34 or packet[12:14] != b"\x08\x00":
        return None
    ip = packet[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ihl < 20 or len(ip) < ihl + 8 or ip[9] not in (6, 17):
        return None
    total = struct.unpack(">H", ip[2:4])[0]
    seg = ip[ihl:max(ihl, min(total, len(ip)))]
    if len(seg) < 8:
        return None
    sport, dport = struct.unpack(">HH", seg[:4])
    if ip[9] == 6:
        if len(seg) < 20:
            return None
        body = seg[(seg[12] >> 4) * 4:]
    else:
        body = seg[8:]
    return ip[12:16], ip[16:20], sport, dport, ip[9] == 6, body


def write(out, name, data):
    out.mkdir(parents=True, exist_ok=True)
    (out / (name + "-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(SHARED / "corpus"))
    ap.add_argument("--out", default=str(HERE / "corpus"))
    a = ap.parse_args()
    out = Path(a.out)
    counts = {t: 0 for t in ("capture", "engine", "report", "packet", "payload", "filter")}
    flows = {}
    for f in sorted(Path(a.corpus).rglob("*")):
        if not f.is_file() or f.suffix not in (".pcap", ".pcapng", ".cap", ".gz", ".zst", ".lz4"):
            continue
        data = f.read_bytes()
        if len(data) <= MAX_FILE:
            for t in ("capture", "engine", "report"):
                if counts[t] < PER_TARGET:
                    write(out / t, f.stem, data)
                    counts[t] += 1
        for i, (lt, pkt) in enumerate(records(data)):
            if i > 2000:
                break
            if lt in LINKTYPES and counts["packet"] < PER_TARGET and i < 20:
                write(out / "packet", f.stem, bytes([LINKTYPES.index(lt)]) + pkt)
                counts["packet"] += 1
            if lt != 1:
                continue
            got = l4(pkt)
            if not got:
                continue
            src, dst, sport, dport, tcp, body = got
            for server_port, to_server in ((dport, True), (sport, False)):
                if (server_port, tcp) in PORTS and body:
                    client = (src, sport) if to_server else (dst, dport)
                    key = (f.name, client, server_port, tcp)
                    segs = flows.setdefault(key, [])
                    if len(segs) < 8:
                        segs.append((b"" if to_server else b"<") + body[:2048])
                    break
    for (_, _, port, tcp), segs in flows.items():
        if counts["payload"] >= PER_TARGET:
            break
        sel = PORTS.index((port, tcp))
        write(out / "payload", str(port), bytes([sel]) + b"\xfe".join(segs))
        counts["payload"] += 1
    filters = set()
    for cases in Path(SHARED / "conformance" / "cases").glob("*.jsonl"):
        for line in cases.open():
            args = json.loads(line).get("args", [])
            for flag, value in zip(args, args[1:]):
                if flag in ("-Y", "-R"):
                    filters.add(value)
    for flt in sorted(filters):
        write(out / "filter", "f", flt.encode())
        counts["filter"] += 1
    print(" ".join("%s=%d" % kv for kv in counts.items()))


if __name__ == "__main__":
    main()
