#!/usr/bin/env bash
# Sizes, counts and timeouts from .dv/config and the environment are checked when the
# repository is opened: a value out of range, or one that does not fit in 64 bits, is
# refused with a message naming the key and the allowed range, before any work.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"
gen_random data.bin 300000 1
git commit -qm init
cp .dv/config "$T/config.committed"

# refused KEY VALUE MESSAGE [FILE]: with KEY=VALUE, dv status and dv add fail with exit 2
# and MESSAGE, and nothing is stored.
refused() {
    local key=$1 value=$2 message=$3 file=${4:-.dv/config.local}
    git config -f "$file" "$key" "$value"
    assert_exit 2 "$DV" status
    assert_contains "$ERR" "$message"
    assert_exit 2 "$DV" add data.bin
    assert_contains "$ERR" "$message"
    [ -z "$(ls .dv/cache/packs 2>/dev/null)" ] || fail "something was stored"
    [ ! -e data.bin.dv ] || fail "a pointer was written"
    ok "nothing stored"
    if [ "$file" = .dv/config ]; then
        cp "$T/config.committed" .dv/config
    else
        git config -f "$file" --unset "$key"
    fi
}

step "core.lockTimeout of 2^63-1 (its milliseconds overflow)"
refused core.lockTimeout 9223372036854775807 \
    "core.lockTimeout in dv configuration must be 0..31536000 (got 9223372036854775807)"
step "core.lockTimeout that does not fit in 64 bits"
refused core.lockTimeout 99999999999999999999 \
    "core.lockTimeout in dv configuration must be a number from 0 to 31536000"
step "a negative core.lockTimeout"
refused core.lockTimeout -5 "core.lockTimeout in dv configuration must be 0..31536000 (got -5)"

step "DV_LOCK_TIMEOUT of 2^63-1, or not a number"
for v in 9223372036854775807 -1 10s; do
    assert_exit 2 env DV_LOCK_TIMEOUT=$v "$DV" add data.bin
    assert_contains "$ERR" "DV_LOCK_TIMEOUT must be a number from 0 to 31536000 (got '$v')"
done
assert_exit 0 env DV_LOCK_TIMEOUT=1 "$DV" status

step "a committed chunking.max above the format's limit, and one whose suffix overflows"
refused chunking.max 5g "chunking.max in dv configuration must be 64..16777216 (got 5368709120)" \
    .dv/config
refused chunking.max 9000000000g "chunking.max in dv configuration must be a number from 64 to 16777216" \
    .dv/config

step "a committed chunking.min above chunking.avg, and an avg that is no power of two"
refused chunking.min 100000 "chunking.min must be less than chunking.avg (got min 100000, avg 65536)" \
    .dv/config
refused chunking.avg 60000 "chunking.avg must be a power of two (got 60000)" .dv/config

step "pack.compressionLevel and pack.targetSize out of range"
refused pack.compressionLevel 99 "pack.compressionLevel in dv configuration must be 1..22 (got 99)"
refused pack.targetSize 5g "pack.targetSize in dv configuration must be 0..4294967296 (got 5368709120)"
refused pack.targetSize -1 "pack.targetSize in dv configuration must be 0..4294967296 (got -1)"

step "with the values back in range, dv works"
git diff --quiet .dv/config || fail ".dv/config is not as committed"
assert_exit 0 "$DV" add data.bin

step "transfer.jobs out of range is refused by push and fetch"
assert_exit 0 "$DV" remote add backup "$T/remote"
for v in 0 65 99999999999999999999; do
    git config -f .dv/config.local transfer.jobs "$v"
    assert_exit 2 "$DV" push
    assert_contains "$ERR" "transfer.jobs in dv configuration must be"
    assert_exit 2 "$DV" fetch
    assert_contains "$ERR" "transfer.jobs in dv configuration must be"
done
git config -f .dv/config.local --unset transfer.jobs
assert_exit 0 "$DV" push
