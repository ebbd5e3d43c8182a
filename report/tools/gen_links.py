import random, os, struct, gzip
from scapy.all import *
from scapy.layers.dot11 import RadioTap, Dot11, Dot11QoS
from scapy.utils import PcapWriter, PcapNgWriter
OUT = "/tmp/fgen2/caps"
rnd = random.Random(2)
def w(name, pkts, linktype=None, nano=False, ng=False):
    path = os.path.join(OUT, name)
    for i, p in enumerate(pkts):
        if p.time is None or float(p.time) > 1e12 or float(p.time) < 1e9:
            p.time = 1600000000.0 + i * 0.5
    wr = PcapNgWriter(path) if ng else PcapWriter(path, linktype=linktype, nano=nano, sync=True)
    for p in pkts: wr.write(p)
    wr.close()
ipd = lambda i: IP(src="10.20.0.%d" % i, dst="10.20.1.1")/UDP(sport=2000+i, dport=53)/DNS(qd=DNSQR(qname="w%d.example" % i))
L = lambda: LLC(dsap=0xaa, ssap=0xaa, ctrl=3)/SNAP(code=0x800)
d = dict(addr1="66:77:88:99:aa:bb", addr2="00:11:22:33:44:55", addr3="66:77:88:99:aa:bb")
w("wifi2.pcap", [
    RadioTap()/Dot11(type=2, subtype=8, FCfield=0x40, **d)/Dot11QoS()/Raw(b"\x11"*50),
    RadioTap()/Dot11(type=2, subtype=8, FCfield=0x80, **d)/Dot11QoS()/Raw(b"\0\0\0\0")/L()/ipd(1),
    RadioTap()/Dot11(type=2, subtype=0, FCfield=3, addr4="00:00:00:00:00:01", **d)/L()/ipd(2),
    RadioTap()/Dot11(type=2, subtype=4, **d)/L()/ipd(3),
    RadioTap()/Dot11(type=2, subtype=13, **d)/L()/ipd(4),
    RadioTap()/Dot11(type=0, subtype=8, **d)/Dot11Beacon()/Dot11Elt(ID=0, info=b"ssid"),
    RadioTap(present="TSFT+Flags", Flags="FCS")/Dot11(type=2, **d)/L()/ipd(5)/Raw(b"\1\2\3\4"),
    RadioTap(present="TSFT+Flags+Rate", Flags=0)/Dot11(type=2, **d)/L()/ipd(6),
    RadioTap()/Dot11(type=2, **d)/LLC(dsap=0x42, ssap=0x42, ctrl=3)/Raw(b"x"*30),
    RadioTap()/Dot11(type=2, **d)/Raw(b"\xaa\xaa"),
], linktype=127)
w("dot11raw.pcap", [Dot11(type=2, **d)/L()/ipd(7), Dot11(type=2, subtype=8, **d)/Dot11QoS()/L()/ipd(8)], linktype=105)
w("ppi.pcap", [PPI(dlt=105)/Dot11(type=2, **d)/L()/ipd(9)], linktype=192)
# pcapng variants, raw writing
def blk(t, body): 
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, len(body)+12) + body + struct.pack("<I", len(body)+12)
def shb(): return blk(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
def idb(lt, tsresol=None, snap=65535):
    opts = b""
    if tsresol is not None: opts = struct.pack("<HHB3x", 9, 1, tsresol) + b"\0\0\0\0"
    return blk(1, struct.pack("<HHI", lt, 0, snap) + opts)
def epb(iface, ts, data, caplen=None):
    caplen = len(data) if caplen is None else caplen
    return blk(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xffffffff, caplen, len(data)) + data)
e = lambda i: bytes(Ether()/IP(src="10.21.0.%d" % i, dst="10.21.1.1")/TCP(sport=1000, dport=443))
for name, res, tsf in [("ng_ns.pcapng", 9, lambda k: (1600000000*10**9 + k*1234567891)), ("ng_bin.pcapng", 0x80 | 20, lambda k: (1600000000 << 20) + k*3*(1 << 20) + 12345),
                       ("ng_ms.pcapng", 3, lambda k: 1600000000123 + k*2000), ("ng_us.pcapng", None, lambda k: 1600000000000000 + k*2000001)]:
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(shb() + idb(1, res))
        for k in range(8): f.write(epb(0, tsf(k), e(k % 2)))
with open(os.path.join(OUT, "ng_multi.pcapng"), "wb") as f:
    f.write(shb() + idb(1) + epb(0, 1600000000000000, e(1)) + epb(3, 1600000000000000, e(2)) + shb() + idb(101) + epb(1, 1600000001000000, bytes(IP(src="10.22.0.1", dst="10.22.0.2")/UDP(dport=53)/DNS(qd=DNSQR(qname="multi.sec")))) + epb(0, 1600000002000000, e(3)))
with open(os.path.join(OUT, "ng_trunc.pcapng"), "wb") as f:
    f.write(shb() + idb(1) + epb(0, 1600000000000000, e(1)) + epb(0, 1600000000000000, e(2))[:-10])
with open(os.path.join(OUT, "pcap_trunc.pcap"), "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for k, b in enumerate([e(1), e(2), e(3)]):
        f.write(struct.pack("<IIII", 1600000000 + k, 7, len(b), len(b)) + b)
    b = e(4); f.write(struct.pack("<IIII", 1600000009, 7, len(b), len(b)) + b[:20])
with open(os.path.join(OUT, "pcap_be_bigusec.pcap"), "wb") as f:
    f.write(struct.pack(">IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for k in range(6):
        b = e(5); f.write(struct.pack(">IIII", 1600000000 + 3*k, 999999 + k*400000, len(b), len(b)) + b)
raw = open(os.path.join(OUT, "pcap_be_bigusec.pcap"), "rb").read()
open(os.path.join(OUT, "gz.pcap.gz"), "wb").write(gzip.compress(raw))
# beacons with tricky floats
bp = []
for i in range(40):
    p = Ether()/IP(src="10.23.0.1", dst="10.23.0.2")/TCP(dport=4444)
    p.time = EDecimal("1700000000.123456") + EDecimal(i) * EDecimal("1.1")
    bp.append(p)
for i in range(9):
    p = Ether()/IP(src="10.23.0.3", dst="10.23.0.4")/TCP(dport=4445)
    p.time = EDecimal(1700000000 + i * 3) + EDecimal("0.%06d" % rnd.randrange(10**6))
    bp.append(p)
for j in range(60):
    for i in range(5):
        p = Ether()/IP(src="10.24.%d.1" % j, dst="10.24.0.2")/TCP(dport=80 + j % 3)
        p.time = EDecimal(1700000000 + i * (2 + j % 4)) + EDecimal("0.%06d" % rnd.randrange(10**5))
        bp.append(p)
bp.sort(key=lambda p: p.time)
w("beacons2.pcap", bp)
w("beacons2ns.pcap", bp, nano=True)
# many conversations / ports for top-50 ties
cp = []
for i in range(130):
    cp.append(Ether()/IP(src="172.16.%d.%d" % (i % 7, i % 251), dst="172.17.0.%d" % (i % 5))/UDP(sport=1024+i, dport=1000 + (i % 60))/Raw(b"x" * (i % 3)))
w("ties.pcap", cp)
print("ok")
