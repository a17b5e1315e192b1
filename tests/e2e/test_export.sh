#!/usr/bin/env bash
# dv export writes tracked data at any revision as an archive, straight from the store:
# extracted by the system's tar, bsdtar and unzip, every format gives back every file's
# bytes (sha256 recorded when the test made them), executable bits, symbolic links and
# empty directories; --prefix, -o -, single files and paths inside a tracked directory;
# errors leave no output file; --reproducible archives are byte-identical on other days,
# in other time zones and from another clone, and carry no timestamp or name.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

for tool in tar bsdtar unzip zstd xz gzip faketime; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (tests/install-deps.sh --test)"
done
FORMATS="tar tar.gz tar.zst tar.xz zip"
REC=$T/rec
mkdir -p "$REC"

# fake TIME CMD...: CMD with the clock set to TIME by libfaketime (LD_PRELOAD); under
# AddressSanitizer (tests/sanitize.sh) its runtime must then be told not to insist on
# coming first.
fake() {
    local t=$1
    shift
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS }verify_asan_link_order=0" faketime "$t" "$@"
}

# extract ARCHIVE TOOL DEST: unpack with the system's tool into the new directory DEST.
extract() {
    rm -rf "$3"
    mkdir -p "$3"
    case "$2" in
    tar) tar -xf "$1" -C "$3" ;;
    bsdtar) bsdtar -xf "$1" -C "$3" ;;
    unzip) unzip -q "$1" -d "$3" ;;
    esac || fail "$2 could not extract $1"
}

# extractors FORMAT: the tools that read it.
extractors() { case "$1" in zip) echo "unzip bsdtar" ;; *) echo "tar bsdtar" ;; esac; }

# no_output FILE: neither FILE nor a temp file beside it exists.
no_output() {
    [ ! -e "$1" ] || fail "$1 was left behind"
    local left
    left=$(find "$(dirname "$1")" -maxdepth 1 -name ".$(basename "$1").tmp-*" | head -1)
    [ -z "$left" ] || fail "temp file $left was left behind"
    ok "no $(basename "$1") and no temp file beside it"
}

step "make v1: a directory with text, random, empty and executable files, symlinks, an empty directory and odd names; a model, a script and a link of their own"
new_repo "$T/repo"
mkdir -p data/sub/deep data/empty "data/sub/$(printf 'n%.0s' $(seq 1 120))"
gen_text data/a.csv 3000 1
gen_random data/sub/big.bin 3000000 2
: >data/empty-file
printf '#!/bin/sh\necho hi\n' >data/run.sh
chmod +x data/run.sh
ln -s sub/big.bin data/link-file
ln -s sub data/link-dir
ln -s ../../elsewhere/none data/link-dangling
printf 'accents\n' >"data/sub/deep/é ü space.txt"
printf 'latin-1\n' >$'data/sub/deep/\xe9t\xe9.txt' # not UTF-8: kept as its bytes
printf 'long\n' >"data/sub/$(printf 'n%.0s' $(seq 1 120))/$(printf 'f%.0s' $(seq 1 100)).txt"
gen_random model.bin 5000000 3
printf '#!/bin/sh\nexit 0\n' >tool.sh
chmod +x tool.sh
ln -s model.bin model.link
tree_listing data >"$REC/v1.data"
tree_listing data/sub >"$REC/v1.sub"
sha_of model.bin >"$REC/v1.model"
sha_of data/sub/big.bin >"$REC/v1.big"
assert_exit 0 "$DV" add data model.bin tool.sh model.link
git commit -qm v1 && git tag v1
V1_TIME=$(git log -1 --format=%ct v1)

step "make v2: a file changed, one removed, one added, the model rewritten"
gen_text data/a.csv 3100 4
rm data/run.sh
printf 'new\n' >data/new.txt
gen_random model.bin 4000000 5
tree_listing data >"$REC/v2.data"
tree_listing data/sub >"$REC/v2.sub"
sha_of model.bin >"$REC/v2.model"
assert_exit 0 "$DV" add data model.bin
git commit -qm v2 && git tag v2
grep -q run.sh "$REC/v1.data" && ! grep -q run.sh "$REC/v2.data" || fail "v1 and v2 should differ"

step "v1 (not checked out) in every format, extracted by the system's tools, is v1 exactly"
for f in $FORMATS; do
    assert_exit 0 "$DV" export v1 data -o "$T/v1.$f"
    assert_empty "$OUT"
    for tool in $(extractors "$f"); do
        extract "$T/v1.$f" "$tool" "$T/x"
        [ "$(ls -A "$T/x")" = data ] || fail "$f via $tool: the top of the archive is not data/"
        assert_tree_matches "$T/x/data" "$REC/v1.data" "v1 data as $f, extracted by $tool"
    done
done

step "the staged pointers (v2) and the revision v2"
assert_exit 0 "$DV" export data -o "$T/staged.tar.zst"
extract "$T/staged.tar.zst" tar "$T/x"
assert_tree_matches "$T/x/data" "$REC/v2.data" "staged data as tar.zst"
assert_exit 0 "$DV" export -o "$T/v2.tgz" v2 -- data
extract "$T/v2.tgz" bsdtar "$T/x"
assert_tree_matches "$T/x/data" "$REC/v2.data" "v2 data as .tgz"

step "single tracked files and a tracked symlink"
assert_exit 0 "$DV" export v1 model.bin -o "$T/model.tar"
extract "$T/model.tar" tar "$T/x"
assert_eq "model.bin" "$(ls -A "$T/x")" "entries of the model's archive"
assert_file_sha "$T/x/model.bin" "$(cat "$REC/v1.model")" "v1 model.bin"
assert_exit 0 "$DV" export HEAD model.bin -o "$T/model.zip"
extract "$T/model.zip" unzip "$T/x"
assert_file_sha "$T/x/model.bin" "$(cat "$REC/v2.model")" "HEAD model.bin from zip"
assert_exit 0 "$DV" export v1 tool.sh -o "$T/tool.tar.xz"
extract "$T/tool.tar.xz" tar "$T/x"
[ -x "$T/x/tool.sh" ] || fail "tool.sh lost its executable bit"
assert_eq "$(sha_of tool.sh)" "$(sha_of "$T/x/tool.sh")" "tool.sh bytes"
assert_exit 0 "$DV" export v1 model.link -o "$T/link.zip"
extract "$T/link.zip" unzip "$T/x"
[ -L "$T/x/model.link" ] || fail "model.link is not a symlink after unzip"
assert_eq "model.bin" "$(readlink "$T/x/model.link")" "model.link target"

step "paths inside a tracked directory, as dv cat and dv ls take them"
assert_exit 0 "$DV" export v1 data/sub -o "$T/sub.tar"
extract "$T/sub.tar" tar "$T/x"
assert_tree_matches "$T/x/sub" "$REC/v1.sub" "v1 data/sub under sub/"
assert_exit 0 "$DV" export v1 data/sub/big.bin -o "$T/big.tar.gz"
extract "$T/big.tar.gz" tar "$T/x"
assert_file_sha "$T/x/big.bin" "$(cat "$REC/v1.big")" "v1 data/sub/big.bin"
(cd data && "$DV" export v1 sub -o "$T/sub2.tar") || fail "export from a subdirectory"
cmp -s "$T/sub.tar" "$T/sub2.tar" || fail "data/sub exported from inside data differs"
ok "a path relative to the current directory names the same data"

step "--prefix replaces the top directory"
assert_exit 0 "$DV" export v1 data --prefix release-1.0/ -o "$T/p.tar.zst"
extract "$T/p.tar.zst" bsdtar "$T/x"
assert_eq "release-1.0" "$(ls -A "$T/x")" "top of the archive"
assert_tree_matches "$T/x/release-1.0" "$REC/v1.data" "v1 data under release-1.0/"
assert_exit 0 "$DV" export v1 data --prefix a/b -o "$T/p2.zip"
extract "$T/p2.zip" unzip "$T/x"
assert_tree_matches "$T/x/a/b" "$REC/v1.data" "v1 data under a/b/"
assert_exit 0 "$DV" export v1 data --prefix '' -o "$T/p3.tar"
extract "$T/p3.tar" tar "$T/x"
assert_tree_matches "$T/x" "$REC/v1.data" "v1 data at the top of the archive"
assert_exit 0 "$DV" export v1 model.bin --prefix m/ -o "$T/p4.tar"
extract "$T/p4.tar" tar "$T/x"
assert_file_sha "$T/x/m/model.bin" "$(cat "$REC/v1.model")" "model.bin under m/"
for bad in /abs ../up a/../b ./a a//b; do
    assert_exit 2 "$DV" export v1 data --prefix "$bad" -o "$T/bad.tar"
    assert_contains "$ERR" "--prefix"
    no_output "$T/bad.tar"
done

step "-o - writes to standard output (tar unless --format says otherwise)"
"$DV" export v1 data -o - | tar -x -C "$(mkdir -p "$T/s1" && echo "$T/s1")" || fail "dv export -o - | tar -x"
assert_tree_matches "$T/s1/data" "$REC/v1.data" "v1 data through a pipe as tar"
"$DV" export v1 data -o - --format tar.zst | zstd -dc | tar -x -C "$(mkdir -p "$T/s2" && echo "$T/s2")" ||
    fail "dv export -o - --format tar.zst | zstd -d | tar -x"
assert_tree_matches "$T/s2/data" "$REC/v1.data" "v1 data through a pipe as tar.zst"
"$DV" export v1 data -o - --format tar.zst >"$T/stdout.tar.zst"
cmp -s "$T/stdout.tar.zst" "$T/v1.tar.zst" || fail "-o - and -o file differ"
ok "-o - writes the bytes -o <file> writes"
set +o pipefail
"$DV" export v1 data -o - 2>"$T/pipe.err" | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
assert_eq 0 "$rc" "exit status when the reader goes away"
assert_empty "$T/pipe.err"

step "errors: clear messages, exit codes, no output file"
assert_exit 2 "$DV" export v1 nosuch -o "$T/e.tar"
assert_contains "$ERR" "nosuch is not tracked by dv at revision v1"
no_output "$T/e.tar"
mkdir -p plain && echo x >plain/f && git add plain
assert_exit 2 "$DV" export plain -o "$T/e.tar"
assert_contains "$ERR" "plain is not tracked by dv"
no_output "$T/e.tar"
assert_exit 2 "$DV" export v1 data/run.sh/x -o "$T/e.tar"
no_output "$T/e.tar"
assert_exit 2 "$DV" export v2 data/run.sh -o "$T/e.tar"
assert_contains "$ERR" "data/run.sh is not tracked by dv at revision v2"
no_output "$T/e.tar"
assert_exit 2 "$DV" export nosuchrev data -o "$T/e.tar"
assert_contains "$ERR" "nosuchrev"
no_output "$T/e.tar"
assert_exit 2 "$DV" export v1 data -o "$T/e.rar"
assert_contains "$ERR" "cannot tell the archive format from the name $T/e.rar"
no_output "$T/e.rar"
assert_exit 2 "$DV" export v1 data --format rar -o "$T/e.tar"
assert_contains "$ERR" "unknown archive format 'rar'"
no_output "$T/e.tar"
assert_exit 2 "$DV" export v1 data
assert_contains "$ERR" "needs -o"
assert_exit 2 "$DV" export v1 data model.bin -o "$T/e.tar"
assert_exit 2 "$DV" export v1 data --format tar -o "$T"
assert_contains "$ERR" "is a directory"
echo "keep me" >"$T/exists.tar"
keep=$(sha_of "$T/exists.tar")
assert_exit 2 "$DV" export v1 data -o "$T/exists.tar"
assert_contains "$ERR" "already exists (add --force to replace it)"
assert_file_sha "$T/exists.tar" "$keep" "the existing file, untouched"
assert_exit 0 "$DV" export v1 data -f -o "$T/exists.tar"
cmp -s "$T/exists.tar" "$T/v1.tar" || fail "--force did not replace the file with the archive"
ok "--force replaced it with the archive"

step "a write that fails half-way (past ulimit -f): exit 5 naming the file, no output"
assert_exit 5 bash -c 'ulimit -f 1024 && exec "$@"' _ "$DV" export v1 data -o "$T/e.tar"
assert_contains "$ERR" "cannot write $T/e.tar"
assert_contains "$ERR" "File too large"
no_output "$T/e.tar"

step "content missing from the store: exit 5, run dv fetch, no output"
mv .dv/cache "$T/cache.away"
assert_exit 5 "$DV" export v1 data -o "$T/e.tar"
assert_contains "$ERR" "not in the store"
assert_contains "$ERR" "dv fetch"
no_output "$T/e.tar"
assert_exit 5 "$DV" export v1 model.bin -o - --format zip
assert_contains "$ERR" "model.bin: its manifest"
rm -rf .dv/cache && mv "$T/cache.away" .dv/cache

step "a chunk that fails its hash half-way through: exit 5 naming the file, no output"
# big.bin's chunks are random, so stored raw: find 64 of its bytes in a pack and flip one.
found=$("$PY" - "$T/repo/data/sub/big.bin" .dv/cache/packs <<'EOF'
import os, sys
want = open(sys.argv[1], "rb").read()[2000000:2000064]
for name in sorted(os.listdir(sys.argv[2])):
    if name.endswith(".pack"):
        path = os.path.join(sys.argv[2], name)
        at = open(path, "rb").read().find(want)
        if at >= 0:
            print(path, at + 10)
            break
EOF
)
[ -n "$found" ] || fail "big.bin's bytes not found in any pack"
set -- $found
flip_byte "$1" "$2"
assert_exit 5 "$DV" export v1 data -o "$T/e.tar.zst"
assert_contains "$ERR" "data/sub/big.bin"
assert_contains "$ERR" "corrupt"
no_output "$T/e.tar.zst"
flip_byte "$1" "$2"
assert_exit 0 "$DV" fsck -q

step "--reproducible: the same bytes on other days, in other time zones"
for f in $FORMATS; do
    TZ=UTC fake '2021-02-03 04:05:06' "$DV" export --reproducible v1 data -o "$T/r1.$f" ||
        fail "export under faketime"
    TZ=Asia/Tokyo fake '2025-10-11 22:13:14' "$DV" export --reproducible v1 data -o "$T/r2.$f" ||
        fail "export under faketime"
    cmp -s "$T/r1.$f" "$T/r2.$f" || fail "$f: two --reproducible exports of v1 differ"
    ok "$f: byte-identical across days and time zones ($(sha_of "$T/r1.$f" | cut -c1-16)…)"
    extract "$T/r1.$f" "$(extractors "$f" | cut -d' ' -f1)" "$T/x"
    assert_tree_matches "$T/x/data" "$REC/v1.data" "reproducible $f extracts to v1"
done
# The clock is really faked: an export without --reproducible of the staged pointers carries it.
TZ=UTC fake '2021-02-03 04:05:06' "$DV" export data -o "$T/n1.tar.gz"
"$PY" - "$T/n1.tar.gz" <<'EOF' || fail "the gzip header of a plain export does not carry the faked time"
import struct, sys
h = open(sys.argv[1], "rb").read(10)
assert 1612325106 <= struct.unpack("<I", h[4:8])[0] < 1612325106 + 60, h.hex()
EOF
ok "without --reproducible, the gzip header holds the (faked) time of the export"
"$DV" export --reproducible v2 data -o "$T/rv2.tar"
"$DV" export --reproducible data -o "$T/rstaged.tar"
cmp -s "$T/rv2.tar" "$T/rstaged.tar" || fail "the staged pointers and v2 hold the same data but differ"
ok "the same content gives the same archive from a revision and from the staged pointers"

step "--reproducible: headers carry no time, owner or name"
"$PY" - "$T" <<'EOF' || fail "a reproducible archive carries a time, owner or name"
import io, lzma, struct, subprocess, sys, tarfile, zipfile
t = sys.argv[1]
gz = open(t + "/r1.tar.gz", "rb").read()
assert gz[:3] == b"\x1f\x8b\x08", "gzip magic"
assert gz[3] == 0, "gzip flags (name, comment, extra) %d" % gz[3]
assert gz[4:8] == b"\0\0\0\0", "gzip mtime %s" % gz[4:8].hex()
zst = open(t + "/r1.tar.zst", "rb").read()
assert zst[:4] == b"\x28\xb5\x2f\xfd", "zstd magic"
assert zst[4] & 0x03 == 0, "zstd frame names a dictionary"
xz = open(t + "/r1.tar.xz", "rb").read()
assert xz[:6] == b"\xfd7zXZ\0" and xz[6] == 0, "xz stream header"
plain = open(t + "/r1.tar", "rb").read()
for name, data in [("tar", plain), ("tar.gz", subprocess.run(["gzip", "-dc"], input=gz, capture_output=True, check=True).stdout),
                   ("tar.zst", subprocess.run(["zstd", "-dc"], input=zst, capture_output=True, check=True).stdout),
                   ("tar.xz", lzma.decompress(xz))]:
    assert data == plain, name + " does not hold the same tar as .tar"
names = []
for m in tarfile.open(fileobj=io.BytesIO(plain)):
    assert m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "", (m.name, m.mtime, m.uid, m.uname)
    assert set(m.pax_headers) <= {"path", "linkpath", "size", "hdrcharset"}, (m.name, m.pax_headers)
    names.append(m.name.encode("utf-8", "surrogateescape"))
key = lambda n: n.rstrip(b"/").split(b"/")
assert names == sorted(names, key=key), "tar entries are not in tree order"
z = zipfile.ZipFile(t + "/r1.zip")
for i in z.infolist():
    assert i.date_time == (1980, 1, 1, 0, 0, 0), (i.filename, i.date_time)
    ex, pos, seen = i.extra, 0, False
    while pos + 4 <= len(ex):
        tag, size = struct.unpack("<HH", ex[pos:pos + 4])
        body = ex[pos + 4:pos + 4 + size]
        if tag == 0x5455:
            seen = True
            assert body[0] & 1 and struct.unpack("<I", body[1:5])[0] == 0, (i.filename, body.hex())
        if tag == 0x7875:
            assert body == b"\x01\x04\0\0\0\0\x04\0\0\0\0", (i.filename, body.hex())
        pos += 4 + size
    assert seen, i.filename + " has no extended timestamp"
zipnames = [i.filename.encode("utf-8" if i.flag_bits & 0x800 else "cp437") for i in z.infolist()]
assert zipnames == sorted(zipnames, key=key), "zip entries are not in tree order"
EOF
ok "gzip: no name, time 0; zstd: no dictionary; tar: time, uid, gid 0, no names, tree order; zip: 1980-01-01 DOS time, time 0, uid/gid 0"

step "without --reproducible, entries carry the commit's time"
"$PY" - "$T/v1.tar" "$V1_TIME" <<'EOF' || fail "entries of v1 do not carry v1's commit time"
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    assert m.mtime == int(sys.argv[2]), (m.name, m.mtime)
EOF
ok "every entry of v1.tar has v1's commit time $V1_TIME"

step "--reproducible from another clone whose store was fetched from a remote"
assert_exit 0 "$DV" remote add origin "$T/remote"
git commit -qm "remote" .dv/config
assert_exit 0 "$DV" push --rev v1
git clone -q "$T/repo" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" fetch --rev v1
for f in $FORMATS; do
    TZ=America/Los_Angeles fake '2023-07-08 09:10:11' "$DV" export --reproducible v1 data -o "$T/c.$f" ||
        fail "export in the clone"
    cmp -s "$T/r1.$f" "$T/c.$f" || fail "$f: the clone's --reproducible export differs"
    ok "$f: the clone's export is byte-identical"
done

step "a tree DAG that expands to 10^13 entries is refused before any output"
mkdir -p "$T/bomb" && cd "$T/bomb"
git init -q . && "$DV" init >/dev/null
printf '%s' '{"pointers": {"bomb.dv": {"dag": {"levels": 13, "fanout": 10, "leaf": {"file": "x\n"}}}}}' |
    "$PY" "$HERE/hostile.py" plant --root . --packs .dv/cache/packs - >/dev/null ||
    fail "hostile.py plant failed"
git add -A
start=$SECONDS
assert_exit 5 timeout 60 "$DV" export bomb -o "$T/bomb.tar"
assert_contains "$ERR" "bomb: more than 100000000 entries below it"
[ $((SECONDS - start)) -lt 20 ] || fail "dv export took $((SECONDS - start)) s to refuse"
no_output "$T/bomb.tar"

step "done"
