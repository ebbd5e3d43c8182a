from scapy.all import *
import os
E = lambda: Ether(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb")
ip = lambda i: IP(src="10.50.0.%d" % i, dst="10.50.1.1")/UDP(sport=3000+i, dport=53)/DNS(qd=DNSQR(qname="t%d.example" % i))
pk = [E()/IP(src="1.1.1.1", dst="2.2.2.2")/GRE_PPTP(seqnum_present=1, acknum_present=1, call_id=5)/PPP(proto=0x21)/ip(1),
      E()/IP(src="1.1.1.1", dst="2.2.2.2")/GRE_PPTP(call_id=5)/PPP(proto=0x21)/ip(2),
      E()/Dot1AH(isid=5)/E()/ip(3),
      E()/IP(src="1.1.1.1", dst="2.2.2.2")/AH(nh=0, payloadlen=4, icv=b"\0"*12)/ip(4),
      E()/IP(src="1.1.1.1", dst="2.2.2.2")/AH(nh=6, payloadlen=4, icv=b"\0"*12)/TCP(dport=80),
      E()/IPv6(src="2001::1", dst="2001::2")/AH(nh=41, payloadlen=4, icv=b"\0"*12)/IPv6(src="2001::3", dst="2001::4")/TCP(dport=81),
      E()/IPv6(src="2001::1", dst="2001::2")/AH(nh=0, payloadlen=1)/ip(5)]
for i, p in enumerate(pk): p.time = 1600000000 + i
wrpcap("/tmp/fgen6/caps/tun2.pcap", pk)
sl = [CookedLinux(proto=0x88a8)/Dot1AD()/Dot1Q()/ip(6), CookedLinux(proto=0x8100)/Dot1Q()/ip(7), CookedLinux(proto=0x8870)/Raw(b"\xaa\xaa\x03\0\0\0\x08\x00" + bytes(ip(8)))]
for i, p in enumerate(sl): p.time = 1600000000 + i
wrpcap("/tmp/fgen6/caps/sllvlan.pcap", sl, linktype=113)
with open("/tmp/fgen6/INDEX.tsv","w") as f:
    f.write("# h\n")
    for n in sorted(os.listdir("/tmp/fgen6/caps")): f.write("caps/%s\t%d\t1\tx\tx\n" % (n, os.path.getsize("/tmp/fgen6/caps/" + n)))
ic = []
for n, cut in enumerate([None, 130, 90, 200]):
    q = IP(src='10.60.0.2', dst='10.60.0.1')/UDP(sport=53, dport=3333)/DNS(qr=0, qd=DNSQR(qname='a'*(20 + n * 30)+'.example'))/Raw(b'z'*100)
    b = bytes(q) if cut is None else bytes(q)[:cut]
    for t in (3, 4, 11):
        p = Ether()/IP(src='10.60.0.1', dst='10.60.0.%d' % (t + n * 20))/ICMP(type=t, code=3)/Raw(b)
        p.time = 1600000000 + len(ic)
        ic.append(p)
wrpcap("/tmp/fgen6/caps/icmpext.pcap", ic)
with open("/tmp/fgen6/INDEX.tsv","w") as f:
    f.write("# h\n")
    for n in sorted(os.listdir("/tmp/fgen6/caps")): f.write("caps/%s\t%d\t1\tx\tx\n" % (n, os.path.getsize("/tmp/fgen6/caps/" + n)))
