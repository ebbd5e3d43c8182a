import random, os, struct
from scapy.utils import RawPcapReader
rnd = random.Random(3)
corp = "/work/shared/corpus"
files = [l.split("\t") for l in open(corp + "/INDEX.tsv") if not l.startswith("#")]
files = [f[0] for f in files if f[3] in ("ether","null","linux-sll","rawip","rawip4","ppp") and any(k in f[4] for k in ("dns","gre","vxlan","l2tp","pppoe","icmp","ipv6","kerberos","ldap","igmp","vlan"))]
rnd.shuffle(files)
n = 0
for f in files:
    if n >= 70: break
    try:
        r = RawPcapReader(os.path.join(corp, f)); lt = r.linktype
        raws = [x for _, x in zip(range(200), r)]; r.close()
    except Exception: continue
    if not raws: continue
    with open("/tmp/fgen2/caps/fz%02d.pcap" % n, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt))
        for data, meta in raws:
            b = bytearray(data)
            for _ in range(rnd.choice([0, 0, 1, 2, 3, 6])):
                if b:
                    k = rnd.randrange(len(b)) if rnd.random() < 0.3 else rnd.randrange(min(len(b), 64))
                    b[k] = rnd.randrange(256) if rnd.random() < 0.7 else b[k] ^ (1 << rnd.randrange(8))
            if rnd.random() < 0.08 and len(b) > 10: b = b[:rnd.randrange(len(b))]
            fh.write(struct.pack("<IIII", meta.sec, meta.usec, len(b), max(len(b), meta.wirelen))); fh.write(bytes(b))
    n += 1
with open("/tmp/fgen2/INDEX.tsv", "w") as idx:
    idx.write("# path\tbytes\tpackets\tencapsulation\tprotocols\n")
    for f in sorted(os.listdir("/tmp/fgen2/caps")):
        idx.write("caps/%s\t%d\t1\tx\tx\n" % (f, os.path.getsize("/tmp/fgen2/caps/" + f)))
print(n)
