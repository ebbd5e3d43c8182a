import random, os, struct
from scapy.all import *
from scapy.layers.dot11 import RadioTap, Dot11, Dot11QoS
from scapy.layers.vxlan import VXLAN
from scapy.layers.l2tp import L2TP
from scapy.utils import PcapWriter, PcapNgWriter
OUT = "/tmp/fgen/caps"
os.makedirs(OUT, exist_ok=True)
rnd = random.Random(1)
def dnsq(name, qtype=1, **kw):
    return DNS(rd=1, qd=DNSQR(qname=name, qtype=qtype), **kw)
def w(name, pkts, linktype=None, nano=False, ng=False):
    path = os.path.join(OUT, name)
    t = 1600000000.0
    for i, p in enumerate(pkts):
        if not hasattr(p, 'time') or p.time is None or float(p.time) > 1e12 or float(p.time) < 1e9:
            p.time = t + i * 0.5
    if ng:
        wr = PcapNgWriter(path)
    else:
        wr = PcapWriter(path, linktype=linktype, nano=nano, sync=True)
    for p in pkts:
        wr.write(p)
    wr.close()
E = lambda: Ether(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb")
base = []
# tunnels
caps = {}
caps["vxlan.pcap"] = [E()/IP(src="1.1.1.1", dst="2.2.2.2")/UDP(sport=1234, dport=4789)/VXLAN(vni=5)/E()/IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=5555, dport=53)/dnsq("inner.example")]
caps["gre.pcap"] = [E()/IP(src="1.1.1.1", dst="2.2.2.2")/GRE(key_present=1, key=5)/IP(src="10.1.0.1", dst="10.1.0.2")/TCP(dport=80)/b"x",
                    E()/IP(src="1.1.1.1", dst="2.2.2.2")/GRE(proto=0x6558)/E()/IP(src="10.2.0.1", dst="10.2.0.2")/TCP(dport=22),
                    E()/IP(src="1.1.1.1", dst="2.2.2.2")/GRE(chksum_present=1, seqnum_present=1)/IP(src="10.3.0.1", dst="10.3.0.2")/UDP(dport=53)/dnsq("gre.test")]
caps["l2tp.pcap"] = [E()/IP(src="1.1.1.1", dst="2.2.2.2")/UDP(sport=1701, dport=1701)/L2TP(hdr=0x4000 | 0x0800)/PPP()/IP(src="10.4.0.1", dst="10.4.0.2")/TCP(dport=443)]
caps["pppoe.pcap"] = [E()/PPPoE(sessionid=1)/PPP(proto=0x21)/IP(src="10.5.0.1", dst="10.5.0.2")/UDP(dport=53)/dnsq("pppoe.example", 28)]
caps["qinq.pcap"] = [E()/Dot1AD(vlan=10)/Dot1Q(vlan=20)/IP(src="10.6.0.1", dst="10.6.0.2")/TCP(dport=8080),
                     E()/Dot1Q(vlan=3)/Dot1Q(vlan=4)/IP(src="10.6.0.3", dst="10.6.0.4")/UDP(dport=5353)/dnsq("m.local", 12)]
caps["dot3.pcap"] = [Dot3(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb")/LLC(dsap=0xaa, ssap=0xaa, ctrl=3)/SNAP(code=0x800)/IP(src="10.7.0.1", dst="10.7.0.2")/UDP(dport=53)/dnsq("snap.example")]
caps["ipip.pcap"] = [E()/IP(src="1.1.1.1", dst="2.2.2.2")/IP(src="10.8.0.1", dst="10.8.0.2")/TCP(dport=25),
                     E()/IP(src="1.1.1.1", dst="2.2.2.2")/IPv6(src="2001::1", dst="2001::2")/TCP(dport=25),
                     E()/IPv6(src="2001::1", dst="2001::2")/IP(src="10.8.1.1", dst="10.8.1.2")/UDP(dport=53)/dnsq("v4in6.example")]
caps["v6ext.pcap"] = [E()/IPv6(src="2001::1", dst="2001::2")/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/UDP(dport=53)/dnsq("ext6.example"),
                      E()/IPv6(src="2001::1", dst="2001::2")/IPv6ExtHdrFragment(offset=0, m=1)/TCP(dport=443),
                      E()/IPv6(src="2001::1", dst="2001::2")/IPv6ExtHdrFragment(offset=10)/TCP(dport=443),
                      E()/IPv6(src="2001::1", dst="2001::2")/IPv6ExtHdrRouting(addresses=["2001::3"])/TCP(dport=443)]
caps["icmperr.pcap"] = [E()/IP(src="10.9.0.1", dst="10.9.0.2")/ICMP(type=3, code=3)/IP(src="10.9.0.2", dst="10.9.0.1")/UDP(sport=53, dport=3333)/DNS(qr=0, qd=DNSQR(qname="inicmp.example")),
                        E()/IP(src="10.9.0.1", dst="10.9.0.2")/ICMP(type=11)/IP(src="10.9.0.2", dst="10.9.0.7")/TCP(dport=80),
                        E()/IPv6(src="2001::1", dst="2001::2")/ICMPv6DestUnreach()/IPv6(src="2001::2", dst="2001::1")/UDP(dport=53)/dnsq("icmp6.example")]
caps["dnstcp.pcap"] = [E()/IP(src="10.10.0.1", dst="10.10.0.2")/TCP(sport=4444, dport=53, flags="PA")/DNS(qd=DNSQR(qname="tcp.example")),
                       E()/IP(src="10.10.0.1", dst="10.10.0.2")/TCP(sport=4444, dport=53, flags="PA")/b"\x00\x05abc"]
# weird dns names: raw bytes
def rawdns(qbytes, qdcount=1, flags=0x0100):
    return struct.pack("!HHHHHH", 0x1234, flags, qdcount, 0, 0, 0) + qbytes
caps["dnsnames.pcap"] = [E()/IP(src="10.11.0.%d" % (i+1), dst="8.8.8.8")/UDP(sport=1000+i, dport=53)/Raw(rawdns(q)) for i, q in enumerate([
    b"\x03abc\xc0\x0c\x00\x01\x00\x01",   # pointer loop to self
    b"\x03a\xffb\x00\x00\x01\x00\x01",     # invalid utf8
    b"\x05\xe2\x82\xacxy\x00\x00\x01\x00\x01",  # euro
    b"\x04\xf0\x9f\x98\x80\x00\x00\x10\x00\x01",  # emoji -> surrogate pair escape
    b"\x03a\"b\x03c\\d\x00\x00\x01\x00\x01",  # quote and backslash
    b"\x02a\n\x01\x7f\x00\x00\x01\x00\x01",  # control chars
    b"\x00\x00\x01\x00\x01",  # root
    b"\x03abc",  # truncated
    b"\x03abc\x00\x00\x01\x00",  # short qclass
    b"\x0aab\x00\x00\x01\x00\x01",  # label longer than data
    b"\x41abc\x00\x00\x01\x00\x01",  # 0x40 label type
    b"\xc0\x50\x00\x01\x00\x01",  # pointer past end
    b"\xc0",  # incomplete pointer
    b"\x03a.b\x02..\x00\x00\x01\x00\x01",  # dots in labels
    b"\x03www\xc0\x12\x00\x01\x00\x01\x03foo\x00",  # pointer forward
])] + [E()/IP(src="10.11.1.1", dst="8.8.8.8")/UDP(sport=999, dport=53)/Raw(rawdns(b"\x03abc\x00\x00\x01\x00\x01", qdcount=0)),
       E()/IP(src="10.11.1.2", dst="8.8.8.8")/UDP(sport=999, dport=53)/Raw(rawdns(b"\x03abc\x00\x00\x01\x00\x01", flags=0x8180)),
       E()/IP(src="10.11.1.3", dst="8.8.8.8")/UDP(sport=999, dport=53)/Raw(b"\x12\x34\x01"),
       E()/IP(src="10.11.1.4", dst="8.8.8.8")/UDP(sport=999, dport=53, len=5)/Raw(rawdns(b"\x03abc\x00\x00\x01\x00\x01")),
       E()/IP(src="10.11.1.5", dst="8.8.8.8", len=30)/UDP(sport=999, dport=53)/Raw(rawdns(b"\x03abc\x00\x00\x01\x00\x01")),
       E()/IPv6(src="2001::5", dst="2001::6")/UDP(sport=5355, dport=5355)/Raw(rawdns(b"\x03llm\x00\x00\x01\x00\x01")),
       E()/IP(src="10.11.1.6", dst="8.8.8.8")/UDP(sport=5355, dport=53)/Raw(rawdns(b"\x03llm\x00\x00\x01\x00\x01")),
       E()/IP(src="10.11.1.7", dst="8.8.8.8")/UDP(sport=53, dport=5355)/Raw(rawdns(b"\x03llm\x00\x00\x01\x00\x01")),
       E()/IP(src="10.11.1.8", dst="8.8.8.8")/UDP(sport=88, dport=53)/Raw(rawdns(b"\x03krb\x00\x00\x01\x00\x01")),
       E()/IP(src="10.11.1.9", dst="8.8.8.8")/UDP(sport=4754, dport=53)/Raw(rawdns(b"\x03gre\x00\x00\x01\x00\x01")),
       E()/IP(src="10.11.1.10", dst="8.8.8.8")/UDP(sport=53, dport=4754)/Raw(rawdns(b"\x03gre\x00\x00\x01\x00\x01")),
      ]
# frag, options, broken headers
caps["ipmisc.pcap"] = [E()/IP(src="10.12.0.1", dst="10.12.0.2", frag=10)/TCP(dport=80),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2", flags="MF")/UDP(dport=53)/dnsq("mf.example"),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2", options=[IPOption_Router_Alert()])/IGMP(),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2")/IGMP(),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2", ihl=3)/TCP(dport=80),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2", ihl=15)/TCP(dport=80),
                       E()/IP(src="10.12.0.3", dst="10.12.0.4", version=6)/TCP(dport=81),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2")/TCP(dport=80, dataofs=2),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2")/TCP(dport=80, dataofs=15)/b"abc",
                       E()/IP(src="10.12.0.1", dst="10.12.0.2")/TCP(dport=80, options=[(29, b"a")]),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2")/TCP(dport=80, options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]),
                       E()/IP(src="10.12.0.1", dst="10.12.0.2", proto=6)/Raw(b"\x00\x50\x01"),
                       Ether(dst="ff:ff:ff:ff:ff:ff", type=0x800)/Raw(b"\x45\x00"),
                       E()/ARP(),
                       E()/IP(src="10.12.0.9", dst="10.12.0.8")/UDP(sport=68, dport=67)/BOOTP()]
# beacons: regular tcp
bpk = []
t0 = 1700000000.0
for i in range(12):
    p = E()/IP(src="192.168.1.5", dst="203.0.113.9")/TCP(sport=50000+i, dport=8443, flags="S")
    p.time = t0 + i * 30.0 + rnd.random() * 0.01
    bpk.append(p)
for i in range(7):
    p = E()/IP(src="192.168.1.6", dst="203.0.113.10")/TCP(dport=443)
    p.time = t0 + i * 1.0000001
    bpk.append(p)
for i in range(6):
    p = E()/IP(src="192.168.1.7", dst="203.0.113.11")/TCP(dport=80)
    p.time = t0 + i * 2.5 + (i % 2) * 2.0
    bpk.append(p)
bpk.sort(key=lambda p: p.time)
caps["beacons.pcap"] = bpk
# wireless
caps["radiotap.pcap"] = [RadioTap()/Dot11(type=2, subtype=0, FCfield=1, addr1="66:77:88:99:aa:bb", addr2="00:11:22:33:44:55", addr3="66:77:88:99:aa:bb")/LLC(dsap=0xaa, ssap=0xaa, ctrl=3)/SNAP(code=0x800)/IP(src="10.13.0.1", dst="10.13.0.2")/UDP(dport=53)/dnsq("wifi.example"),
                         RadioTap()/Dot11(type=2, subtype=8, FCfield=2, addr1="66:77:88:99:aa:bb", addr2="00:11:22:33:44:55", addr3="66:77:88:99:aa:bb")/Dot11QoS()/LLC(dsap=0xaa, ssap=0xaa, ctrl=3)/SNAP(code=0x800)/IP(src="10.13.0.3", dst="10.13.0.4")/TCP(dport=443),
                         RadioTap(present="Flags", Flags="FCS")/Dot11(type=2, subtype=0)/LLC(dsap=0xaa, ssap=0xaa, ctrl=3)/SNAP(code=0x800)/IP(src="10.13.0.5", dst="10.13.0.6")/TCP(dport=22)/Raw(b"\x00\x00\x00\x00"),
                         RadioTap()/Dot11(type=2, subtype=0, FCfield=0x40)/Raw(b"\x00" * 40)]
for name, pk in caps.items():
    lt = 127 if name.startswith("radio") else None
    w(name, pk, linktype=lt)
# link types
ip = IP(src="10.14.0.1", dst="10.14.0.2")/UDP(sport=3000, dport=53)/dnsq("link.example")
ip6 = IPv6(src="2001::1", dst="2001::2")/UDP(sport=3000, dport=53)/dnsq("link6.example")
w("sll.pcap", [CookedLinux()/ip], linktype=113)
w("sll2.pcap", [CookedLinuxV2(proto=0x800)/ip], linktype=276)
w("null.pcap", [Loopback(type=2)/ip, Loopback(type=24)/ip6, Loopback(type=10)/ip6], linktype=0)
w("loop.pcap", [LoopbackOpenBSD(type=2)/ip], linktype=108)
w("raw12.pcap", [ip, ip6], linktype=12)
w("raw101.pcap", [ip, ip6], linktype=101)
w("raw228.pcap", [ip], linktype=228)
w("raw229.pcap", [ip6], linktype=229)
w("ppp.pcap", [PPP()/ip, HDLC()/PPP()/ip], linktype=9)
w("hdlc50.pcap", [HDLC()/PPP()/ip], linktype=50)
w("nano.pcap", [E()/IP(src="10.15.0.1", dst="10.15.0.2")/TCP(dport=9)], linktype=1, nano=True)
w("unknownlt.pcap", [Raw(bytes(E()/ip))], linktype=147)
w("ng.pcapng", [E()/ip, E()/IP(src="10.16.0.1", dst="10.16.0.2")/TCP(dport=1)], ng=True)
# fuzz: mutate corpus packets
import glob
corp = "/work/shared/corpus"
files = [l.split("\t")[0] for l in open(corp + "/INDEX.tsv") if not l.startswith("#") and l.split("\t")[3] in ("ether", "null", "linux-sll", "rawip")]
rnd.shuffle(files)
n = 0
for f in files:
    if n >= 60: break
    try:
        r = RawPcapReader(os.path.join(corp, f))
        lt = r.linktype
        raws = []
        for i, (data, meta) in enumerate(r):
            if i > 300: break
            raws.append((data, meta))
        r.close()
    except Exception:
        continue
    if not raws: continue
    path = os.path.join(OUT, "fuzz%02d.pcap" % n)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt))
        for data, meta in raws:
            b = bytearray(data)
            for _ in range(rnd.randint(0, 4)):
                if b:
                    k = rnd.randrange(min(len(b), 80))
                    b[k] = rnd.randrange(256)
            if rnd.random() < 0.1 and len(b) > 10:
                b = b[:rnd.randrange(len(b))]
            fh.write(struct.pack("<IIII", meta.sec, meta.usec, len(b), max(len(b), meta.wirelen)))
            fh.write(bytes(b))
    n += 1
with open("/tmp/fgen/INDEX.tsv", "w") as idx:
    idx.write("# path\tbytes\tpackets\tencapsulation\tprotocols\n")
    for f in sorted(os.listdir(OUT)):
        idx.write("caps/%s\t%d\t1\tx\tx\n" % (f, os.path.getsize(os.path.join(OUT, f))))
print("ok")
