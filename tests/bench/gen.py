#!/usr/bin/python3
"""Deterministic benchmark data for tests/bench (called by gen.sh).

Every byte is a pure function of the arguments: random bytes come from an
AES-128-CTR keystream (openssl enc over /dev/zero with fixed key and IV), and
every other choice (offsets, sizes, CSV values) from random.Random(seed).random(),
whose sequence Python guarantees not to change between versions.

  gen.py model  OUT SIZE                  random "model" file
  gen.py edit   IN OUT NWRITES            NWRITES x 32 KiB overwrites at pseudo-random
                                          offsets + a 4 KiB insertion in the middle
  gen.py tree   DIR NDIRS NFILES          NDIRS x NFILES files of 1-16 KiB
  gen.py million DIR [NDIRS [NFILES]]     NDIRS x NFILES files of 0-8 KiB, empty ones
                                          included (default 1,000 x 1,000: ~4 GiB)
  gen.py csv    OUT1 OUT2 SIZE            CSV of ~SIZE bytes and its next version:
                                          ~0.5% rows changed, 2% rows appended
  gen.py touch  DIR ROUND                 change a tree made by `tree` in place, once per
                                          ROUND (1-99): 1 in 100 files rewritten (others
                                          each round) with new bytes and sizes, and 100 new
                                          files in a new directory new-ROUND
"""
import os
import random
import subprocess
import sys

WRITE = 32 * 1024
INSERT = 4 * 1024
BLOCK = 8 * 1024 * 1024

# fixed keys, one per stream, so the streams are independent of each other
KEYS = {
    "model": "6476626d6f64656c3030303030303031",
    "edit": "64766265646974303030303030303032",
    "tree": "64766274726565303030303030303033",
    "touch": "647662746f7563683030303030303000",  # the last byte is the round
    "million": "6476626d696c6c696f6e303030303034",
}
IV = "00000000000000000000000000000000"


class Keystream:
    """AES-128-CTR keystream read from openssl, in order."""

    def __init__(self, name, key=None):
        key = key or KEYS[name]
        self.zero = open("/dev/zero", "rb")
        self.proc = subprocess.Popen(
            ["openssl", "enc", "-aes-128-ctr", "-nosalt", "-K", key, "-iv", IV],
            stdin=self.zero, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            bufsize=0)

    def read(self, n):
        out = bytearray()
        while len(out) < n:
            b = self.proc.stdout.read(min(n - len(out), BLOCK))
            if not b:
                raise RuntimeError("openssl keystream ended early")
            out += b
        return bytes(out)

    def close(self):
        self.proc.stdout.close()
        self.proc.kill()
        self.proc.wait()
        self.zero.close()


def atomic_open(path, mode="wb"):
    tmp = path + ".tmp"
    return tmp, open(tmp, mode)


def gen_model(out, size):
    ks = Keystream("model")
    tmp, f = atomic_open(out)
    left = size
    while left:
        n = min(left, BLOCK)
        f.write(ks.read(n))
        left -= n
    f.close()
    ks.close()
    os.replace(tmp, out)


def gen_edit(src, out, nwrites):
    size = os.path.getsize(src)
    rng = random.Random(20240101)
    ks = Keystream("edit")
    # offsets in the coordinates of the original file; applied in this order
    # (later writes win where they overlap)
    writes = []
    for _ in range(nwrites):
        off = int(rng.random() * (size - WRITE))
        writes.append((off, ks.read(WRITE)))
    insert = ks.read(INSERT)
    ks.close()
    mid = size // 2
    tmp, f = atomic_open(out)
    with open(src, "rb") as s:
        pos = 0
        while pos < size:
            n = min(BLOCK, size - pos)
            if pos < mid < pos + n:
                n = mid - pos  # stop the block at the insertion point
            buf = bytearray(s.read(n))
            for off, data in writes:
                lo, hi = max(off, pos), min(off + WRITE, pos + n)
                if lo < hi:
                    buf[lo - pos:hi - pos] = data[lo - off:hi - off]
            f.write(buf)
            pos += n
            if pos == mid:
                f.write(insert)
    f.close()
    os.replace(tmp, out)


def gen_tree(top, ndirs, nfiles):
    rng = random.Random(20240202)
    sizes = [1024 + int(rng.random() * (15 * 1024 + 1)) for _ in range(ndirs * nfiles)]
    ks = Keystream("tree")
    tmp = top + ".tmp"
    if os.path.exists(tmp):
        subprocess.run(["rm", "-rf", tmp], check=True)
    os.makedirs(tmp)
    i = 0
    for d in range(ndirs):
        dpath = os.path.join(tmp, "d%03d" % d)
        os.mkdir(dpath)
        chunk = ks.read(sum(sizes[i:i + nfiles]))
        p = 0
        for k in range(nfiles):
            n = sizes[i]
            with open(os.path.join(dpath, "f%05d.bin" % k), "wb") as f:
                f.write(chunk[p:p + n])
            p += n
            i += 1
    ks.close()
    os.replace(tmp, top)


def gen_million(top, ndirs=1000, nfiles=1000):
    """Many small files, as a dataset of images or text shards is: sizes uniform in
    0-8 KiB, both ends included. Written a directory at a time, so memory stays one
    directory's bytes."""
    rng = random.Random(20240505)
    ks = Keystream("million")
    tmp = top + ".tmp"
    if os.path.exists(tmp):
        subprocess.run(["rm", "-rf", tmp], check=True)
    os.makedirs(tmp)
    for d in range(ndirs):
        dpath = os.path.join(tmp, "d%03d" % d)
        os.mkdir(dpath)
        sizes = [int(rng.random() * (8 * 1024 + 1)) for _ in range(nfiles)]
        chunk = ks.read(sum(sizes))
        p = 0
        for k, n in enumerate(sizes):
            with open(os.path.join(dpath, "f%04d.bin" % k), "wb") as f:
                f.write(chunk[p:p + n])
            p += n
    ks.close()
    os.replace(tmp, top)


def gen_touch(top, rnd):
    if not 1 <= rnd <= 99:
        raise ValueError("ROUND must be 1-99")
    rng = random.Random(20240303 + rnd)
    ks = Keystream("touch", KEYS["touch"][:-2] + "%02x" % rnd)
    files = sorted(os.path.join(d, f) for d in sorted(os.listdir(top)) if d.startswith("d")
                   for f in os.listdir(os.path.join(top, d)))
    for i in range(rnd % 100, len(files), 100):
        n = 1024 + int(rng.random() * (15 * 1024 + 1))
        with open(os.path.join(top, files[i]), "wb") as f:
            f.write(ks.read(n))
    new = os.path.join(top, "new-%02d" % rnd)
    os.mkdir(new)
    for k in range(100):
        n = 1024 + int(rng.random() * (15 * 1024 + 1))
        with open(os.path.join(new, "f%05d.bin" % k), "wb") as f:
            f.write(ks.read(n))
    ks.close()


CATEGORIES = ["electronics", "groceries", "apparel", "home-garden", "toys",
              "automotive", "books", "health-beauty", "sports-outdoors", "office"]
REGIONS = ["eu-west", "eu-central", "us-east", "us-west", "ap-south", "sa-east"]
EPOCH = 1704067200  # 2024-01-01T00:00:00Z


def csv_row(i, rng, ts):
    r = rng.random
    day, sec = divmod(ts, 86400)
    # civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    z = day + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    dd = doy - (153 * mp + 2) // 5 + 1
    mm = mp + 3 if mp < 10 else mp - 9
    yy = yoe + era * 400 + (1 if mm <= 2 else 0)
    h, rem = divmod(sec, 3600)
    mi, s = divmod(rem, 60)
    return "%d,%04d-%02d-%02dT%02d:%02d:%02dZ,%.6f,%.4f,%.2f,%.6f,%d,%s,%s\n" % (
        i, yy, mm, dd, h, mi, s,
        r(), (r() - 0.5) * 200.0, r() * 10000.0, r() * r() * 0.01,
        int(r() * 1000), REGIONS[int(r() * len(REGIONS))],
        CATEGORIES[int(r() * len(CATEGORIES))])


def gen_csv(out1, out2, size):
    rng = random.Random(20240303)      # row values of version 1
    rng_ch = random.Random(20240304)   # which rows change, and their new values
    header = "id,timestamp,score,delta,amount,rate,store_id,region,category\n"
    tmp1, f1 = atomic_open(out1, "w")
    tmp2, f2 = atomic_open(out2, "w")
    f1.write(header)
    f2.write(header)
    written = len(header)
    nxt = 1 + int(rng_ch.random() * 399)  # mean gap 200 rows -> ~0.5% changed
    i = 0
    ts = EPOCH
    b1, b2 = [], []
    while written < size:
        ts += 1 + int(rng.random() * 4)
        row = csv_row(i, rng, ts)
        b1.append(row)
        written += len(row)
        if i == nxt:
            b2.append(csv_row(i, rng_ch, ts))
            nxt += 1 + int(rng_ch.random() * 399)
        else:
            b2.append(row)
        i += 1
        if len(b1) >= 20000:
            f1.write("".join(b1))
            f2.write("".join(b2))
            b1, b2 = [], []
    f1.write("".join(b1))
    f1.close()
    nrows = i
    for _ in range((nrows * 2 + 99) // 100):  # 2% more rows
        ts += 1 + int(rng.random() * 4)
        b2.append(csv_row(i, rng, ts))
        i += 1
    f2.write("".join(b2))
    f2.close()
    os.replace(tmp1, out1)
    os.replace(tmp2, out2)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, a = argv[1], argv[2:]
    if cmd == "model":
        gen_model(a[0], int(a[1]))
    elif cmd == "edit":
        gen_edit(a[0], a[1], int(a[2]))
    elif cmd == "tree":
        gen_tree(a[0], int(a[1]), int(a[2]))
    elif cmd == "csv":
        gen_csv(a[0], a[1], int(a[2]))
    elif cmd == "million":
        gen_million(a[0], *(int(x) for x in a[1:3]))
    elif cmd == "touch":
        gen_touch(a[0], int(a[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
