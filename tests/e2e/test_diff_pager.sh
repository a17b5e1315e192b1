#!/usr/bin/env bash
# dv diff on a terminal, as git diff: through a pager (DV_PAGER, core.pager, PAGER, less with
# LESS=FRX) that gets the diff, never into a file or a pipe, not with --no-pager or a pager of
# "cat" or ""; colour on a terminal and with --color=always, never into a file by default
# nor with NO_COLOR; the exit code is dv's, and a pager that quits at once is no error.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
command -v script >/dev/null || fail "script (util-linux) is needed for a pseudo-terminal"

# on_tty CMD: run CMD (a shell command line) with stdout and stderr on a pseudo-terminal;
# what the terminal showed is in $OUT, the exit code in $RC.
on_tty() {
    E2E_LAST_CMD="on a terminal: $1"
    RC=0
    SHELL=/bin/bash script -qfec "$1" /dev/null >"$OUT" 2>"$ERR" </dev/null || RC=$?
    E2E_LAST_RC=$RC
    cat "$OUT" "$ERR" >"$ALL"
}
esc=$'\e'
export TERM=xterm
unset NO_COLOR PAGER GIT_PAGER LESS LV

step "a commit of data/, then a text file changed and a file added in the work tree"
new_repo "$T/repo"
mkdir data
printf 'one\ntwo\nthree\n' >data/notes.txt
printf 'x' >data/old.bin
assert_exit 0 "$DV" add data
git add data.dv && git commit -qm v1
printf 'one\n2\nthree\n' >data/notes.txt
printf 'new' >data/new.bin

step "on a terminal the pager gets the diff, with LESS=FRX and LV=-c in its environment"
export DV_PAGER="cat >'$T/paged'; env >'$T/pager.env'"
on_tty "'$DV' diff"
assert_eq 0 "$RC" "exit code"
assert_contains "$T/paged" "added:"
assert_contains "$T/paged" "modified:"
assert_not_contains "$OUT" "added:"
assert_contains "$T/pager.env" "LESS=FRX"
assert_contains "$T/pager.env" "LV=-c"
assert_contains "$T/paged" "$esc[32madded:$esc[m"
ok "the paged diff is coloured (a pager dv started counts as the terminal)"

step "LESS and LV already set are left as they are"
on_tty "LESS=S LV=x '$DV' diff"
assert_contains "$T/pager.env" "LESS=S"
assert_contains "$T/pager.env" "LV=x"
assert_not_contains "$T/pager.env" "LESS=FRX"

step "--no-pager, and a stdout that is not a terminal, start no pager"
rm -f "$T/paged"
on_tty "'$DV' diff --no-pager"
assert_eq 0 "$RC" "exit code"
[ ! -e "$T/paged" ] || fail "--no-pager started the pager"
assert_contains "$OUT" "added:"
assert_exit 0 "$DV" diff
[ ! -e "$T/paged" ] || fail "a diff into a file started the pager"
assert_contains "$OUT" "added:"
on_tty "'$DV' diff | cat >'$T/piped'"
[ ! -e "$T/paged" ] || fail "a diff into a pipe started the pager"
assert_contains "$T/piped" "added:"
assert_not_contains "$T/piped" "$esc["

step "DV_PAGER of cat or empty means none, ahead of PAGER; PAGER and core.pager are used"
for none in cat ""; do
    on_tty "DV_PAGER='$none' PAGER='cat >$T/paged' '$DV' diff"
    [ ! -e "$T/paged" ] || fail "DV_PAGER='$none' started a pager"
    assert_contains "$OUT" "added:"
done
unset DV_PAGER
on_tty "PAGER='cat >$T/by-pager' '$DV' diff"
assert_contains "$T/by-pager" "added:"
git config core.pager "cat >'$T/by-config'"
on_tty "PAGER='cat >$T/paged' '$DV' diff"
assert_contains "$T/by-config" "added:"
[ ! -e "$T/paged" ] || fail "PAGER was used though core.pager is set"
git config core.pager ""
on_tty "PAGER='cat >$T/paged' '$DV' diff"
[ ! -e "$T/paged" ] || fail "an empty core.pager started a pager"
git config --unset core.pager
on_tty "PATH=/nonexistent '$DV' diff"
assert_eq 0 "$RC" "exit code"
assert_contains "$OUT" "added:"
assert_not_contains "$ALL" "not found"
ok "no pager configured and no less installed: the diff is written to the terminal"
export DV_PAGER="cat >'$T/paged'"

step "every form is paged on a terminal; JSON and Markdown are never coloured"
for form in --stat --name-status --json --md; do
    rm -f "$T/paged"
    on_tty "'$DV' diff $form"
    [ -s "$T/paged" ] || fail "dv diff $form was not paged"
    case $form in
    --json | --md) assert_not_contains "$T/paged" "$esc[" ;;
    esac
done
assert_exit 0 "$DV" diff --json --color=always
assert_not_contains "$OUT" "$esc["
assert_exit 0 "$DV" diff --md --color=always
assert_not_contains "$OUT" "$esc["

step "colour: --color=always into a file, none by default or with NO_COLOR on a terminal"
assert_exit 0 "$DV" diff --color=always
assert_contains "$OUT" "$esc[32madded:$esc[m"
assert_contains "$OUT" "$esc[33mmodified:$esc[m"
assert_contains "$OUT" "$esc[36m@@"
assert_contains "$OUT" "$esc[31m-two$esc[m"
assert_contains "$OUT" "$esc[32m+2$esc[m"
assert_exit 0 "$DV" diff --color HEAD
assert_contains "$OUT" "$esc[32madded:"
ok "a bare --color is always, and takes no value from the next argument"
assert_exit 0 "$DV" diff --help
assert_contains "$OUT" "--color[=<when>]"
assert_exit 0 "$DV" diff --name-status --color=always
assert_contains "$OUT" "$esc[32mA$esc[m"
for quiet in "" --color=auto --color=never --no-color "--color=always --no-color"; do
    assert_exit 0 "$DV" diff $quiet
    assert_not_contains "$OUT" "$esc["
done
rm -f "$T/paged"
on_tty "NO_COLOR=1 '$DV' diff"
assert_not_contains "$T/paged" "$esc["
on_tty "TERM=dumb '$DV' diff --no-pager"
assert_not_contains "$OUT" "$esc["
on_tty "'$DV' diff --no-pager --name-status"
assert_contains "$OUT" "$esc[32mA$esc[m"
assert_exit 2 "$DV" diff --color=sometimes
assert_contains "$ERR" "--color wants auto, always or never"

step "the exit code is dv's when paged"
rm -f "$T/paged"
on_tty "'$DV' diff --exit-code"
assert_eq 1 "$RC" "exit code of --exit-code with differences, paged"
assert_contains "$T/paged" "added:"
rm -f "$T/paged"
on_tty "'$DV' diff -q"
assert_eq 1 "$RC" "exit code of -q"
[ ! -e "$T/paged" ] || fail "-q, which prints nothing, started the pager"
on_tty "DV_PAGER=false '$DV' diff --exit-code"
assert_eq 1 "$RC" "exit code with a pager that fails"

step "dv killed while its pager runs waits for the pager before it dies"
rm -f "$T/pager-done"
on_tty "DV_PAGER='trap \"\" TERM; cat >/dev/null; sleep 1; echo done >$T/pager-done' '$DV' diff &
sleep 0.3; kill -TERM \$!; wait \$!; echo \"dv ended: \$?\"; test -e '$T/pager-done' && echo 'pager done first'"
assert_contains "$OUT" "dv ended: 143"
assert_contains "$OUT" "pager done first"
ok "the pager had finished when dv was gone"

step "a pager that quits at once, before a long diff is written, is no error"
"$PY" -c 'import sys; sys.stdout.write("".join("line %d\n" % i for i in range(30000)))' >data/notes.txt
for i in $(seq 1 300); do printf '%s' "$i" >"data/f$i.bin"; done
on_tty "DV_PAGER=true '$DV' diff"
assert_eq 0 "$RC" "exit code"
assert_not_contains "$OUT" "error"
on_tty "DV_PAGER=true '$DV' diff --exit-code"
assert_eq 1 "$RC" "exit code of --exit-code"
assert_not_contains "$OUT" "error"
on_tty "DV_PAGER='head -c 100 >/dev/null' '$DV' diff --stat --exit-code"
assert_eq 1 "$RC" "exit code of --exit-code, a pager that reads a little"
assert_not_contains "$OUT" "error"
run bash -c "'$DV' diff | head -c 100 >/dev/null"
assert_eq 0 "$RC" "exit code into a pipe that closes early"
assert_empty "$ERR"

step "dv log is paged the same way"
rm -f "$T/log-paged"
on_tty "DV_PAGER='cat >$T/log-paged' '$DV' log"
assert_eq 0 "$RC" "exit code"
assert_contains "$T/log-paged" "v1"
rm -f "$T/log-paged"
on_tty "DV_PAGER='cat >$T/log-paged' '$DV' log --no-pager"
[ ! -e "$T/log-paged" ] || fail "dv log --no-pager started a pager"
assert_contains "$OUT" "v1"
run bash -c "DV_PAGER='cat >$T/log-paged' '$DV' log | cat"
[ ! -e "$T/log-paged" ] || fail "dv log into a pipe started a pager"
ok "dv log through the pager on a terminal only"
