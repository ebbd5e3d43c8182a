from scapy.all import *
import os, random
rnd = random.Random(4)
pk = []
t = 1700000000.0
for rep in range(8):
    for port in range(30):
        for d in (0, 1):
            src, dst = ("10.40.0.2", "10.40.0.10") if d == 0 else ("10.40.0.10", "10.40.0.2")
            p = Ether()/IP(src=src, dst=dst)/TCP(sport=1000 + port, dport=2000 + port)
            p.time = t + rep * (2 + port * 0.1) + rnd.random() * 0.001 * port + d * 0.0001
            pk.append(p)
for i in range(300):
    p = Ether()/IP(src="10.41.%d.%d" % (i // 200, i % 200 + 1), dst="10.42.0.1")/TCP(dport=443)
    p.time = t + i * 0.01
    pk.append(p)
pk.sort(key=lambda p: p.time)
wrpcap("/tmp/fgen6/caps/scan.pcap", pk)
open("/tmp/fgen6/INDEX.tsv","w").write("# h\ncaps/scan.pcap\t%d\t1\tx\tx\n" % os.path.getsize("/tmp/fgen6/caps/scan.pcap"))
