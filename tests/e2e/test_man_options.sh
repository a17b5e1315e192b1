#!/usr/bin/env bash
# Every long option in a command's option table (as the binary lists them) appears in the
# command's man page, man/dv-<command>.1.
MAN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../man" && pwd)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# check_pages DIR: print "<command> <option>" for each long option missing from DIR/dv-<command>.1
# (or "<command> (no page)"); the options a page names are its \-\-words, backslashes dropped.
check_pages() {
    local dir=$1 c o page
    for c in $("$DV" completion commands); do
        local options
        options=$("$DV" completion options "$c")
        [ -n "$options" ] || continue
        page=$dir/dv-$c.1
        if [ ! -f "$page" ]; then
            echo "$c (no page)"
            continue
        fi
        local named
        named=$(grep -oE '(\\-|-)(\\-|-)[A-Za-z0-9]+((\\-|-)[A-Za-z0-9]+)*' "$page" | tr -d '\\' | sort -u)
        for o in $options; do
            grep -qxF -- "$o" <<<"$named" || echo "$c $o"
        done
    done
}

step "the binary lists its commands and their long options"
assert_exit 0 "$DV" completion commands
for c in init add status checkout push fetch pull remote fsck; do
    grep -qx "$c" "$OUT" || fail "dv completion commands does not list $c"
done
ok "all nine commands listed"
assert_exit 0 "$DV" completion options push
for o in --remote --jobs --quiet --stats; do
    grep -qx -- "$o" "$OUT" || fail "dv completion options push does not list $o"
done
ok "push: --remote --jobs --quiet --stats"
assert_exit 0 "$DV" completion options remote
for o in --default --endpoint --region --path-style --profile --verbose; do
    grep -qx -- "$o" "$OUT" || fail "dv completion options remote does not list $o"
done
ok "remote: the options of all its subcommands"
assert_exit 2 "$DV" completion options frobnicate

step "every long option is in its command's man page"
missing=$(check_pages "$MAN_DIR")
[ -z "$missing" ] || fail "long options missing from their man page: $(echo $missing)"
ok "all options documented in $MAN_DIR"

step "the check finds an option taken out of a page"
cp -r "$MAN_DIR" "$T/man"
sed -i 's/\\-\\-stats/STATS/g' "$T/man/dv-fetch.1"
rm "$T/man/dv-fsck.1"
missing=$(check_pages "$T/man")
assert_eq "fetch --stats|fsck (no page)" "$(printf '%s\n' "$missing" | paste -sd'|')" "missing"
