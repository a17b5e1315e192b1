#!/usr/bin/env python3
"""Archives for the dv import tests, made with Python's tarfile and zipfile.

usage: import_archives.py tree DIR            the data set the archives hold
       import_archives.py pytar FORMAT DIR OUT   DIR as a tar of FORMAT (pax, gnu, ustar)
       import_archives.py pyzip DIR OUT          DIR as a zip, every entry zip64
       import_archives.py unordered OUT          files before their directories, none listed
       import_archives.py hardlink OUT           a hard link to an earlier file
       import_archives.py evil KIND FORMAT OUT   one hostile entry after a large good file
       import_archives.py seeds DIR              small archives of each kind (fuzz seeds)

Everything is deterministic: fixed contents, names, modes and times.
"""
import io
import os
import random
import stat
import sys
import tarfile
import zipfile

MTIME = 1700000000


def tree(root):
    """Files of several sizes (one over a batch of 2 MiB), exec bits, symlinks that stay
    inside, an empty file and directory, names over 100 and 255 bytes, non-ASCII names."""
    r = random.Random(7)
    os.makedirs(root)

    def put(rel, data, mode=0o644):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)

    put("README.txt", b"hello\n")
    put("bin/run.sh", b"#!/bin/sh\necho run\n", 0o755)
    put("data/big.bin", r.randbytes(5 * 1024 * 1024 + 321))
    put("data/mid.bin", r.randbytes(300000))
    put("data/text.csv", b"".join(b"%d,%d\n" % (i, i * i) for i in range(20000)))
    put("data/empty.bin", b"")
    os.makedirs(os.path.join(root, "empty/deeper"))
    long_dir = "d" * 120 + "/" + "e" * 140
    put(long_dir + "/" + "f" * 200 + ".txt", b"long name\n")
    put("caf\u00e9/\u00fcber.txt".encode("utf-8").decode("utf-8"), b"utf-8 names\n")
    os.symlink("../README.txt", os.path.join(root, "bin/readme"))
    os.symlink("data/mid.bin", os.path.join(root, "mid"))
    os.symlink("bin", os.path.join(root, "tools"))


def info(name, kind=tarfile.REGTYPE, size=0, mode=0o644, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = size
    ti.mode = mode
    ti.mtime = MTIME
    ti.linkname = link
    ti.uname = ti.gname = "dv"
    return ti


def fmt(name):
    return {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT,
            "ustar": tarfile.USTAR_FORMAT}[name]


def pytar(format_name, src, out):
    with tarfile.open(out, "w", format=fmt(format_name)) as t:
        for top, dirs, files in sorted(os.walk(src)):
            dirs.sort()
            for name in sorted(dirs + files):
                path = os.path.join(top, name)
                t.add(path, os.path.relpath(path, src), recursive=False)


def pyzip(src, out):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for top, dirs, files in sorted(os.walk(src)):
            dirs.sort()
            for name in sorted(dirs + files):
                path = os.path.join(top, name)
                rel = os.path.relpath(path, src)
                st = os.lstat(path)
                zi = zipfile.ZipInfo(rel + ("/" if stat.S_ISDIR(st.st_mode) else ""),
                                     (2023, 11, 14, 22, 13, 20))
                zi.create_system = 3
                zi.external_attr = (st.st_mode & 0xFFFF) << 16
                if stat.S_ISLNK(st.st_mode):
                    z.writestr(zi, os.readlink(path))
                elif stat.S_ISDIR(st.st_mode):
                    zi.external_attr |= 0x10
                    z.writestr(zi, b"")
                else:
                    with open(path, "rb") as f, z.open(zi, "w", force_zip64=True) as w:
                        w.write(f.read())


def add_bytes(t, name, data, mode=0o644):
    t.addfile(info(name, size=len(data), mode=mode), io.BytesIO(data))


def unordered(out):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        add_bytes(t, "z/y/x/deep.txt", b"deep\n")
        add_bytes(t, "a.txt", b"a\n")
        t.addfile(info("z/y/", tarfile.DIRTYPE, mode=0o755))
        add_bytes(t, "m/n.txt", b"n\n", 0o755)
        t.addfile(info("z/", tarfile.DIRTYPE, mode=0o755))


def hardlink(out):
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
        add_bytes(t, "orig/file.bin", b"shared content\n" * 1000)
        t.addfile(info("copy/link.bin", tarfile.LNKTYPE, link="orig/file.bin"))


def evil_entries(kind):
    """(name, tarinfo type, link target) of the hostile entries of kind."""
    return {
        "traversal": [("../outside.txt", tarfile.REGTYPE, "")],
        "absolute": [("/tmp/dv-import-absolute.txt", tarfile.REGTYPE, "")],
        "symlink-escape": [("esc", tarfile.SYMTYPE, "../.."),
                           ("esc/through.txt", tarfile.REGTYPE, "")],
        "symlink-escape-late": [("d/up", tarfile.SYMTYPE, ".."),
                                ("e", tarfile.SYMTYPE, "d/up/..")],
        "device": [("null", tarfile.CHRTYPE, "")],
        "fifo": [("pipe", tarfile.FIFOTYPE, "")],
        "hardlink-out": [("passwd", tarfile.LNKTYPE, "../../etc/passwd")],
        "hardlink-missing": [("gone", tarfile.LNKTYPE, "not/in/archive")],
        "duplicate": [("good/big.bin", tarfile.REGTYPE, "")],
        "dotgit": [("sub/.git/config", tarfile.REGTYPE, "")],
    }[kind]


def evil(kind, format_name, out):
    big = random.Random(11).randbytes(3 * 1024 * 1024)
    entries = evil_entries(kind)
    if format_name == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            z.writestr(zipfile.ZipInfo("good/big.bin", (2023, 1, 1, 0, 0, 0)), big)
            for name, kind_, link in entries:
                zi = zipfile.ZipInfo(name, (2023, 1, 1, 0, 0, 0))
                zi.create_system = 3
                mode = {tarfile.REGTYPE: stat.S_IFREG | 0o644,
                        tarfile.SYMTYPE: stat.S_IFLNK | 0o777,
                        tarfile.CHRTYPE: stat.S_IFCHR | 0o644,
                        tarfile.FIFOTYPE: stat.S_IFIFO | 0o644}[kind_]
                zi.external_attr = mode << 16
                z.writestr(zi, link.encode() if kind_ == tarfile.SYMTYPE else b"x\n")
        return
    with tarfile.open(out, "w", format=fmt(format_name)) as t:
        add_bytes(t, "good/big.bin", big)
        for name, kind_, link in entries:
            if kind_ == tarfile.REGTYPE:
                add_bytes(t, name, b"x\n")
            else:
                ti = info(name, kind_, link=link)
                if kind_ == tarfile.CHRTYPE:
                    ti.devmajor, ti.devminor = 1, 3
                t.addfile(ti)


def seeds(out_dir):
    """Small archives of each kind, for the fuzzer to start from."""
    import gzip
    os.makedirs(out_dir, exist_ok=True)

    def small_tar(format_name, long=False):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt(format_name)) as t:
            t.addfile(info("dir/", tarfile.DIRTYPE, mode=0o755))
            add_bytes(t, "dir/a.txt", b"alpha\n")
            add_bytes(t, "dir/run", b"#!/bin/sh\n", 0o755)
            t.addfile(info("dir/link", tarfile.SYMTYPE, link="a.txt"))
            t.addfile(info("dir/hard", tarfile.LNKTYPE, link="dir/a.txt"))
            if long:
                add_bytes(t, "l" * 110 + "/" + "m" * 150 + ".txt", b"long\n")
        return buf.getvalue()

    def small_zip():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(zipfile.ZipInfo("dir/", (2023, 1, 1, 0, 0, 0)), b"")
            z.writestr(zipfile.ZipInfo("dir/a.txt", (2023, 1, 1, 0, 0, 0)), b"alpha\n" * 20)
            zi = zipfile.ZipInfo("dir/link", (2023, 1, 1, 0, 0, 0))
            zi.create_system = 3
            zi.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(zi, b"a.txt")
            with z.open(zipfile.ZipInfo("big64", (2023, 1, 1, 0, 0, 0)), "w",
                        force_zip64=True) as w:
                w.write(b"z" * 100)
        return buf.getvalue()

    blobs = {
        "ustar.tar": small_tar("ustar"),
        "pax.tar": small_tar("pax", long=True),
        "gnu.tar": small_tar("gnu", long=True),
        "zip64.zip": small_zip(),
        "gzip.tar.gz": gzip.compress(small_tar("pax"), mtime=0),
    }
    for kind in ("traversal", "symlink-escape-late", "duplicate"):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            add_bytes(t, "good/big.bin", b"ok\n")
            for name, kind_, link in evil_entries(kind):
                if kind_ == tarfile.REGTYPE:
                    add_bytes(t, name, b"x\n")
                else:
                    t.addfile(info(name, kind_, link=link))
        blobs["evil-%s.tar" % kind] = buf.getvalue()
    for name, data in blobs.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


def main(argv):
    cmd = argv[1]
    if cmd == "tree":
        tree(argv[2])
    elif cmd == "pytar":
        pytar(argv[2], argv[3], argv[4])
    elif cmd == "pyzip":
        pyzip(argv[2], argv[3])
    elif cmd == "unordered":
        unordered(argv[2])
    elif cmd == "hardlink":
        hardlink(argv[2])
    elif cmd == "evil":
        evil(argv[2], argv[3], argv[4])
    elif cmd == "seeds":
        seeds(argv[2])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
