import random, os
rnd = random.Random(11)
corp = "/work/shared/corpus"
rows = [l.rstrip("\n").split("\t") for l in open(corp + "/INDEX.tsv") if not l.startswith("#")]
rows = [r for r in rows if int(r[1]) < 200000]
rnd.shuffle(rows)
n = 0
for r in rows:
    if n >= 80: break
    b = bytearray(open(os.path.join(corp, r[0]), "rb").read())
    if len(b) < 100: continue
    ext = ".pcapng" if b[:4] == b"\x0a\x0d\x0d\x0a" else ".pcap"
    mode = n % 4
    if mode == 0:   # container: corrupt bytes anywhere
        for _ in range(rnd.randint(1, 3)):
            k = rnd.randrange(24, len(b)); b[k] = rnd.randrange(256)
    elif mode == 1:  # truncate anywhere
        b = b[:rnd.randrange(24, len(b))]
    elif mode == 2:  # header-region mutations of many packets (offsets 40..100 of file chunks)
        for _ in range(30):
            k = rnd.randrange(24, len(b)); b[k] ^= 1 << rnd.randrange(8)
    else:  # random byte runs
        k = rnd.randrange(24, len(b)); L = rnd.randint(1, 16)
        b[k:k+L] = bytes(rnd.randrange(256) for _ in range(L))
    open("/tmp/fgen5/caps/c%02d%s" % (n, ext), "wb").write(bytes(b))
    n += 1
with open("/tmp/fgen5/INDEX.tsv", "w") as idx:
    idx.write("# h\n")
    for f in sorted(os.listdir("/tmp/fgen5/caps")):
        idx.write("caps/%s\t%d\t1\tx\tx\n" % (f, os.path.getsize("/tmp/fgen5/caps/" + f)))
print(n)
