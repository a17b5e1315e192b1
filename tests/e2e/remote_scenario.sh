# The push/fetch/pull scenario, shared by the remote backends. The sourcing test defines:
#   remote_url             URL for dv remote add
#   remote_add_opts        extra options for dv remote add (array)
#   remote_ls              names under packs/, one per line ("packs/<id>.pack")
#   remote_get NAME FILE   copy a remote object to FILE
#   remote_put FILE NAME   store FILE as a remote object
#   remote_rm NAME         delete a remote object
# and has run e2e_init.

MODEL=$((3 * 1024 * 1024))

stat_field() { # stat_field KEY: a counter from the --stats line in $ERR
    sed -n "s/.*requests.* $1=\([0-9]*\).*/\1/p" "$ERR" | tail -n1
}
remote_count() { remote_ls | grep -c "$1\$" || true; }

step "origin: a directory and a 3 MiB model, with a remote as default"
new_repo "$T/origin"
mkdir -p data/sub
gen_text data/a.csv 20000 1
gen_random data/sub/b.bin 700000 2
cp data/sub/b.bin data/copy.bin
ln -s sub/b.bin data/link
printf '' >data/empty
gen_random model.bin "$MODEL" 3
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url"
assert_exit 0 "$DV" remote list -v
assert_contains "$OUT" "origin"
assert_contains "$OUT" "(default)"
assert_exit 0 "$DV" add data model.bin
git commit -q -m data
assert_git_clean
snapshot data "$T/data.list" >/dev/null
msha=$(sha_of model.bin)

step "push: every pack goes up with its index; requests counted"
assert_exit 0 "$DV" push --stats
assert_contains "$OUT" "pushed"
note "$(cat "$OUT") / $(grep requests "$ERR")"
packs=$(remote_count '\.pack')
idxs=$(remote_count '\.idx')
[ "$packs" -ge 1 ] || fail "no pack on the remote after push"
assert_eq "$packs" "$idxs" "indexes on the remote (one per pack)"
assert_eq $((2 * packs)) "$(stat_field put)" "put requests (pack + index per pack)"
sent=$(stat_field sent)
[ "$sent" -ge "$MODEL" ] || fail "sent only $sent bytes for a $MODEL-byte model"
ok "sent $sent bytes"

step "push again: nothing to send, indexes come from the cache"
assert_exit 0 "$DV" push --stats
assert_contains "$OUT" "already has all"
assert_eq 0 "$(stat_field put)" "put requests"
assert_eq 0 "$(stat_field get)" "get requests (indexes cached)"
assert_eq 1 "$(stat_field list)" "list requests"

step "fresh clone: dv pull restores everything exactly"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" pull --stats
assert_contains "$OUT" "fetched"
assert_contains "$OUT" "restored"
assert_tree_matches data "$T/data.list" "data/ in the clone"
assert_file_sha model.bin "$msha" "model.bin in the clone"
assert_exit 0 "$DV" status
assert_exit 0 "$DV" fsck
gets=$(stat_field get)
note "pull made $gets get requests"

step "pull again: nothing fetched, no request beyond none at all"
assert_exit 0 "$DV" pull --stats
assert_contains "$OUT" "already has all"
assert_eq 0 "$(stat_field get)" "get requests"
assert_eq 0 "$(stat_field list)" "list requests (nothing was missing)"

step "a 1% edit in the origin: push sends only the new chunks, pull fetches only them"
cd "$T/origin"
"$PY" - model.bin <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    for off in (100000, 1500000, 2900000):
        f.seek(off); f.write(bytes(range(256)) * 40)
PYEOF
msha2=$(sha_of model.bin)
assert_exit 0 "$DV" add model.bin
git commit -q -am "edit model"
assert_exit 0 "$DV" push --stats
sent=$(stat_field sent)
[ "$sent" -lt $((MODEL / 5)) ] || fail "push of a 1% edit sent $sent bytes"
ok "push of the edit sent $sent bytes (< 20% of the model)"
cd "$T/clone"
git pull -q
assert_exit 0 "$DV" pull --stats
recv=$(stat_field received)
[ "$recv" -lt $((MODEL / 5)) ] || fail "pull of a 1% edit received $recv bytes"
ok "pull of the edit received $recv bytes"
assert_file_sha model.bin "$msha2" "edited model.bin in the clone"

step "unreachable objects in a local pack are not pushed"
cd "$T/origin"
gen_random junk.bin 2000000 7
gen_random keep.bin 300000 8
assert_exit 0 "$DV" add junk.bin keep.bin
git rm -q --cached junk.bin.dv
rm junk.bin.dv
git commit -q -m keep
assert_exit 0 "$DV" push --stats
sent=$(stat_field sent)
[ "$sent" -ge 300000 ] && [ "$sent" -lt 2000000 ] || fail "sent $sent bytes: keep.bin is 300000, junk.bin 2000000"
ok "sent $sent bytes: keep.bin, not junk.bin"

step "pull of one path fetches only what it names"
git clone -q "$T/origin" "$T/partial"
cd "$T/partial"
assert_exit 0 "$DV" pull data
assert_tree_matches data "$T/data.list" "data/ in the partial clone"
[ ! -e model.bin ] || fail "model.bin was restored by dv pull data"
s=$(store_bytes)
[ "$s" -lt "$MODEL" ] || fail "store holds $s bytes after pulling data/ alone"
ok "store holds $s bytes (model.bin not fetched)"

step "a clone that pulled only part of the data can still push new data"
gen_random results.bin 200000 14
assert_exit 0 "$DV" add results.bin
git commit -q -m results
assert_exit 0 "$DV" push --stats
assert_eq 2 "$(stat_field put)" "put requests (one new pack and its index)"
git clone -q "$T/partial" "$T/partial2"
cd "$T/partial2"
assert_exit 0 "$DV" pull results.bin
assert_file_sha results.bin "$(sha_of "$T/partial/results.bin")" "results.bin pushed from the partial clone"
step "push of data that is neither local nor on the remote names it"
bogus=$(printf 'bogus' | sha256sum | cut -c1-64)
sed -i "s/^oid: sha256:.*/oid: sha256:$bogus/" results.bin.dv
git add results.bin.dv
assert_exit 5 "$DV" push
assert_contains "$ERR" "$bogus"
assert_contains "$ERR" "results.bin.dv"
git checkout -q results.bin.dv 2>/dev/null || git reset -q --hard
git reset -q --hard

step "pull refuses to overwrite unsaved changes"
cd "$T/clone"
echo "local change" >>data/a.csv
cd "$T/origin"
gen_text data/a.csv 20001 9
assert_exit 0 "$DV" add data
git commit -q -m "new a.csv"
assert_exit 0 "$DV" push
cd "$T/clone"
git pull -q
assert_exit 4 "$DV" pull
assert_contains "$ERR" "a.csv"
assert_contains "$ERR" "--force"
assert_exit 0 "$DV" pull --force
cmp -s data/a.csv "$T/origin/data/a.csv" || fail "a.csv was not restored by pull --force"
ok "pull --force restored a.csv"

step "a pack whose index upload was lost is ignored, then sent again"
cd "$T/origin"
gen_random late.bin 400000 11
assert_exit 0 "$DV" add late.bin
git commit -q -m late
assert_exit 0 "$DV" push
newest=$(ls -t .dv/cache/packs/*.idx | head -n1)
name="packs/$(basename "$newest")"
remote_rm "$name"
git clone -q "$T/origin" "$T/clone2"
cd "$T/clone2"
assert_exit 5 "$DV" pull late.bin
assert_contains "$ERR" "neither in the local store nor on remote origin"
[ ! -e late.bin ] || fail "late.bin exists after a failed pull"
cd "$T/origin"
assert_exit 0 "$DV" push --stats
assert_eq 2 "$(stat_field put)" "put requests to send the pack again"
cd "$T/clone2"
assert_exit 0 "$DV" pull late.bin
assert_file_sha late.bin "$(sha_of "$T/origin/late.bin")" "late.bin after the pack was sent again"

step "a damaged remote pack: pull fails naming the object, stores nothing bad"
cd "$T/origin"
gen_random bad.bin 500000 12
assert_exit 0 "$DV" add bad.bin
git commit -q -m bad
assert_exit 0 "$DV" push
newest=$(ls -t .dv/cache/packs/*.pack | head -n1)
name="packs/$(basename "$newest")"
remote_get "$name" "$T/pack.copy"
"$PY" - "$T/pack.copy" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096); b = f.read(1); f.seek(4096); f.write(bytes([b[0] ^ 0x55]))
PYEOF
remote_rm "$name"
remote_put "$T/pack.copy" "$name"
git clone -q "$T/origin" "$T/clone3"
cd "$T/clone3"
assert_exit 5 "$DV" pull bad.bin
note "$(head -n1 "$ERR")"
assert_match "$ERR" "CRC|SHA-256|damaged|does not match"
[ ! -e bad.bin ] || fail "bad.bin exists after a failed pull"
assert_exit 0 "$DV" fsck

step "a remote entry whose bytes changed but whose CRC was fixed up: caught by SHA-256"
cd "$T/origin"
gen_random forged.bin 300000 13
assert_exit 0 "$DV" add forged.bin
git commit -q -m forged
assert_exit 0 "$DV" push
newest=$(ls -t .dv/cache/packs/*.pack | head -n1)
name="packs/$(basename "$newest")"
remote_get "$name" "$T/forged.pack"
remote_get "${name%.pack}.idx" "$T/forged.idx"
"$PY" - "$T/forged.pack" "$T/forged.idx" <<'PYEOF'
import struct, sys
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table.append(c)
def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
idx = open(sys.argv[2], "rb").read()
count = struct.unpack(">I", idx[8:12])[0]
rec = 44 + 1024 + 32 * count
for i in range(count):  # the first chunk (type 1)
    off, stored_len, raw_len, typ = struct.unpack(">QIIB", idx[rec + 20 * i: rec + 20 * i + 17])
    if typ == 1:
        break
with open(sys.argv[1], "r+b") as f:
    f.seek(off + 48); stored = bytearray(f.read(stored_len))
    stored[100] ^= 0x01
    f.seek(off + 48); f.write(stored)
    f.seek(off + 44); f.write(struct.pack(">I", crc32c(stored)))
PYEOF
remote_rm "$name"
remote_put "$T/forged.pack" "$name"
git clone -q "$T/origin" "$T/clone4"
cd "$T/clone4"
assert_exit 5 "$DV" pull forged.bin
note "$(head -n1 "$ERR")"
assert_contains "$ERR" "hashes to"
[ ! -e forged.bin ] || fail "forged.bin exists after a failed pull"
assert_exit 0 "$DV" fsck

step "errors name the remote and say what to do"
cd "$T/origin"
assert_exit 2 "$DV" push -r nowhere
assert_contains "$ERR" "no remote called nowhere"
assert_exit 2 "$DV" remote add web ftp://example.com/data
assert_contains "$ERR" "unknown kind of remote"
assert_exit 2 "$DV" remote add origin "$remote_url"
assert_contains "$ERR" "already exists"
assert_exit 0 "$DV" remote remove origin
assert_exit 2 "$DV" push
assert_contains "$ERR" "no remote is configured"
