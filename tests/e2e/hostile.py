#!/usr/bin/env python3
"""Build crafted-but-valid dv store objects, packs and pointer files.

Written from docs/formats.md alone, never by calling dv, so that the e2e scenarios
can plant states an attacker controls: a repository whose pointer files and a
store or remote whose packs hold whatever trees the attacker likes. Every object
is valid by the letter of the format; what makes it hostile is where it points.

Importable:
    s = Store()
    f = s.file(b"hello\\n")                 # Node of a regular file
    t = s.tree({"a": f, "l": s.symlink(b"/etc")})
    s.write_packs("/path/to/packs")          # one pack + index with every object
    text = pointer_text(t)                   # the <path>.dv text

Command line (the shell scenarios use this):
    hostile.py selfcheck
        check the encoders against the worked examples of docs/formats.md
    hostile.py crc32c <file>
        print the CRC-32C of a file (hex)
    hostile.py plant --root <work tree> [--packs <dir>]... <spec.json or - for stdin>
        spec: {"pointers": {"<path>.dv": NODE, ...}}
        NODE: {"file": "<text>"[, "exec": true]}
              {"file_hex": "<hex bytes>"}
              {"symlink": "<target>"}
              {"dir": {"<name>": NODE, ...}}
              {"dag": {"levels": L, "fanout": F, "leaf": NODE}}
                  L nested trees, each with F entries all naming the next one
              {"raw": "<pointer text written as is>"}
              any NODE at the top may add "pointer": {"size": N, "files": N},
              written into the pointer instead of the true values
        Every object goes into one pack written into each --packs directory (a
        local store's .dv/cache/packs or a directory remote's packs/); the
        pointer texts are written below --root. Prints a JSON object mapping
        each pointer path to its oid on stdout.
"""

import hashlib
import json
import os
import struct
import sys

TYPE_CHUNK, TYPE_MANIFEST, TYPE_TREE = 1, 2, 3
MODE_FILE, MODE_EXEC, MODE_SYMLINK, MODE_DIR = 1, 2, 3, 4

# One chunk holds at most this much; formats.md only requires a chunk length of at
# least 1 in a manifest and raw_len <= 64 MiB in a pack.  Contents here are small.
CHUNK_BYTES = 65536


def sha256(b):
    return hashlib.sha256(b).digest()


# ---------------------------------------------------------------- CRC-32C

def _crc32c_table():
    poly = 0x82F63B78  # Castagnoli, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------- encodings

def encode_manifest(chunks):
    """chunks: list of (id bytes, length)."""
    size = sum(n for _, n in chunks)
    out = [b"DVM1", struct.pack(">QI", size, len(chunks))]
    for cid, n in chunks:
        assert len(cid) == 32 and n >= 1
        out.append(cid + struct.pack(">I", n))
    return b"".join(out)


def _name_key(name):
    return name  # bytes compare as memcmp with the shorter first when equal


def encode_tree(entries):
    """entries: list of (name bytes, mode, id bytes, size)."""
    entries = sorted(entries, key=lambda e: _name_key(e[0]))
    out = [b"DVT1", struct.pack(">I", len(entries))]
    prev = None
    for name, mode, oid, size in entries:
        assert 1 <= len(name) <= 65535 and b"/" not in name and b"\0" not in name
        assert name not in (b".", b"..") and mode in (1, 2, 3, 4) and len(oid) == 32
        assert prev is None or prev < name, "duplicate tree entry %r" % name
        prev = name
        out.append(struct.pack(">H", len(name)) + name + struct.pack(">B", mode) + oid +
                   struct.pack(">Q", size))
    return b"".join(out)


class Node:
    """One stored thing a pointer or tree entry can name."""

    def __init__(self, kind, oid, size, files, exec_bit=False):
        self.kind = kind  # "file", "dir", "symlink"
        self.oid = oid
        self.size = size
        self.files = files  # files and symlinks at any depth (1 for a file or symlink)
        self.exec_bit = exec_bit

    @property
    def hex(self):
        return self.oid.hex()

    @property
    def mode(self):
        if self.kind == "dir":
            return MODE_DIR
        if self.kind == "symlink":
            return MODE_SYMLINK
        return MODE_EXEC if self.exec_bit else MODE_FILE


class Store:
    """Objects collected in memory, written out as one pack and its index."""

    def __init__(self):
        self.objects = {}  # id -> (type, bytes), insertion ordered (closure order)

    def put(self, obj_type, data):
        oid = sha256(data)
        if oid not in self.objects:
            self.objects[oid] = (obj_type, data)
        return oid

    def file(self, content, exec_bit=False):
        chunks = []
        for off in range(0, len(content), CHUNK_BYTES):
            piece = content[off:off + CHUNK_BYTES]
            chunks.append((self.put(TYPE_CHUNK, piece), len(piece)))
        oid = self.put(TYPE_MANIFEST, encode_manifest(chunks))
        return Node("file", oid, len(content), 1, exec_bit)

    def symlink(self, target):
        return Node("symlink", self.put(TYPE_CHUNK, target), len(target), 1)

    def tree(self, children):
        """children: dict name (str or bytes) -> Node."""
        entries, size, files = [], 0, 0
        for name, node in children.items():
            if isinstance(name, str):
                name = os.fsencode(name)
            entries.append((name, node.mode, node.oid, node.size))
            size += node.size
            files += node.files
        oid = self.put(TYPE_TREE, encode_tree(entries))
        return Node("dir", oid, size, files)

    def dag(self, levels, fanout, leaf):
        """levels trees, each naming the one below it fanout times."""
        node = leaf
        for _ in range(levels):
            node = self.tree({"e%02d" % i: node for i in range(fanout)})
        return node

    def pack_bytes(self):
        header = b"DVPK" + struct.pack(">I", 1)
        parts, entry_headers, records = [header], [header], []
        offset = len(header)
        for oid, (obj_type, data) in self.objects.items():
            eh = struct.pack(">BBHII", obj_type, 0, 0, len(data), len(data)) + oid + \
                struct.pack(">I", crc32c(data))
            assert len(eh) == 48
            parts += [eh, data]
            entry_headers.append(eh)
            records.append((oid, offset, len(data), len(data), obj_type))
            offset += len(eh) + len(data)
        trailer = sha256(b"".join(entry_headers))
        parts.append(trailer)
        return b"".join(parts), trailer, records

    def index_bytes(self, pack_id, records):
        records = sorted(records)
        out = [b"DVIX", struct.pack(">II", 1, len(records)), pack_id]
        counts = [0] * 256
        for r in records:
            counts[r[0][0]] += 1
        total = 0
        for b in range(256):
            total += counts[b]
            out.append(struct.pack(">I", total))
        out += [r[0] for r in records]
        for oid, offset, stored_len, raw_len, obj_type in records:
            out.append(struct.pack(">QIIBBH", offset, stored_len, raw_len, obj_type, 0, 0))
        body = b"".join(out)
        assert len(body) == 44 + 1024 + 52 * len(records)
        return body + sha256(body)

    def write_packs(self, packs_dir):
        """Write the pack and its index into packs_dir; return the pack id (hex)."""
        pack, pack_id, records = self.pack_bytes()
        idx = self.index_bytes(pack_id, records)
        os.makedirs(packs_dir, exist_ok=True)
        name = pack_id.hex()
        for ext, data in ((".pack", pack), (".idx", idx)):
            path = os.path.join(packs_dir, name + ext)
            if os.path.exists(path):
                continue
            tmp = os.path.join(packs_dir, ".%s%s.tmp-hostile" % (name, ext))
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o444)
            os.rename(tmp, path)
        return name


def pointer_text(node):
    lines = ["dv: 1", "kind: " + node.kind, "oid: sha256:" + node.hex, "size: %d" % node.size]
    if node.kind == "file" and node.exec_bit:
        lines.append("exec: true")
    if node.kind == "dir":
        lines.append("files: %d" % node.files)
    return "".join(l + "\n" for l in lines)


# ---------------------------------------------------------------- spec

def build_node(store, spec):
    if "file" in spec:
        return store.file(spec["file"].encode(), bool(spec.get("exec")))
    if "file_hex" in spec:
        return store.file(bytes.fromhex(spec["file_hex"]), bool(spec.get("exec")))
    if "symlink" in spec:
        return store.symlink(os.fsencode(spec["symlink"]))
    if "dir" in spec:
        return store.tree({name: build_node(store, sub) for name, sub in spec["dir"].items()})
    if "dag" in spec:
        d = spec["dag"]
        return store.dag(int(d["levels"]), int(d["fanout"]), build_node(store, d["leaf"]))
    raise SystemExit("hostile.py: unknown node %r" % (spec,))


def plant(root, packs_dirs, spec):
    store = Store()
    written = {}
    for path, node_spec in spec.get("pointers", {}).items():
        if "raw" in node_spec:
            text, oid = node_spec["raw"], None
        else:
            node = build_node(store, node_spec)
            for key in ("size", "files"):  # a pointer may lie about what it names
                if key in node_spec.get("pointer", {}):
                    setattr(node, key, int(node_spec["pointer"][key]))
            text, oid = pointer_text(node), node.hex
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full) or ".", exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        written[path] = oid
    if store.objects:
        for d in packs_dirs:
            store.write_packs(d)
    return written


# ---------------------------------------------------------------- self check

def selfcheck():
    """The worked examples of docs/formats.md; raises AssertionError on drift."""
    checks = []

    def check(what, got, want):
        checks.append(what)
        if got != want:
            raise AssertionError("%s: got %s, formats.md says %s" % (what, got, want))

    check("crc32c('123456789')", "%08x" % crc32c(b"123456789"), "e3069283")
    s = Store()
    hello = s.file(b"hello\n")
    chunk_id = sha256(b"hello\n").hex()
    check("chunk id of hello\\n", chunk_id,
          "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
    check("manifest bytes of hello\\n", s.objects[hello.oid][1].hex(),
          "44564d310000000000000006000000015891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0300000006")
    check("manifest id of hello\\n", hello.hex,
          "5c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34ee7e045139")
    t = s.tree({"hello.txt": hello})
    check("tree id of {hello.txt}", t.hex,
          "0be872127b5caefb113454d6b096e9b520636f70660c00171505a483b6887704")
    check("tree size/files", (t.size, t.files), (6, 1))
    check("empty manifest id", Store().file(b"").hex,
          "18589b9bd920124499e7f67f133c563f5c7899cbea290c9f7b9747e7d8ac307a")
    check("empty tree id", Store().tree({}).hex,
          "8620c5749479d5f74f7f18d2916e717ea8b42e7d880807f00b62602bb8a3de09")
    check("pointer text of the dir example", pointer_text(t),
          "dv: 1\nkind: dir\noid: sha256:0be872127b5caefb113454d6b096e9b520636f70660c00171505a483b6887704\n"
          "size: 6\nfiles: 1\n")
    # Tree order: a < "a b" < a- < ab < b < \xff, shorter first on a common prefix.
    names = [b"\xff", b"b", b"ab", b"a-", b"a b", b"a"]
    enc = encode_tree([(n, 1, hello.oid, 6) for n in names])
    got, off = [], 8
    while off < len(enc):
        (n,) = struct.unpack(">H", enc[off:off + 2])
        got.append(enc[off + 2:off + 2 + n])
        off += 2 + n + 1 + 32 + 8
    check("tree entry order", got, [b"a", b"a b", b"a-", b"ab", b"b", b"\xff"])
    pack, pack_id, records = s.pack_bytes()
    idx = s.index_bytes(pack_id, records)
    check("pack length", len(pack), 8 + sum(48 + len(d) for _, d in s.objects.values()) + 32)
    check("index length", len(idx), 44 + 1024 + 52 * len(records) + 32)
    check("pack id = trailer", pack[-32:], pack_id)
    for c in checks:
        print("ok: " + c)


def main(argv):
    if len(argv) >= 1 and argv[0] == "selfcheck":
        selfcheck()
        return 0
    if len(argv) == 2 and argv[0] == "crc32c":
        with open(argv[1], "rb") as f:
            print("%08x" % crc32c(f.read()))
        return 0
    if argv and argv[0] == "plant":
        root, packs, spec_path = None, [], None
        i = 1
        while i < len(argv):
            if argv[i] == "--root":
                root, i = argv[i + 1], i + 2
            elif argv[i] == "--packs":
                packs.append(argv[i + 1])
                i += 2
            else:
                spec_path, i = argv[i], i + 1
        if root is None or spec_path is None:
            raise SystemExit("usage: hostile.py plant --root DIR [--packs DIR]... SPEC|-")
        spec = json.load(sys.stdin if spec_path == "-" else open(spec_path))
        print(json.dumps(plant(root, packs, spec), sort_keys=True))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
