# A git history of tracked data for the tests of dv ls and dv cat: three commits in which
# the directory data/ gains, changes and loses files and model.bin changes. What each
# commit holds is recorded as it is made, with sha256sum and stat, never with dv:
#   $T/rec/<n>.files   "<path>\t<size>\t<sha256>" per file, sorted by path
#   $T/rec/<n>.commit  the commit id
# and every version of every file is kept as $T/rec/<n>/<path>.

# record N: note what the work tree's data holds, then commit it as commit N.
record() {
    local n=$1
    mkdir -p "$T/rec/$n"
    : >"$T/rec/$n.files"
    find data model.bin -type f | LC_ALL=C sort | while IFS= read -r f; do
        printf '%s\t%s\t%s\n' "$f" "$(stat -c %s "$f")" "$(sha_of "$f")" >>"$T/rec/$n.files"
        mkdir -p "$T/rec/$n/$(dirname "$f")"
        cp "$f" "$T/rec/$n/$f"
    done
    assert_exit 0 "$DV" add data model.bin
    git commit -q -m "version $n"
    git rev-parse HEAD >"$T/rec/$n.commit"
}

make_history() {
    new_repo "$T/repo"
    mkdir -p data/sub
    gen_text data/a.csv 2000 1
    gen_random data/sub/b.bin 300000 2
    gen_random data/sub/c.bin 5000 3
    gen_random model.bin 3000000 4
    record 1

    gen_text data/a.csv 3000 5
    gen_random data/sub/d.bin 700000 6
    mkdir -p data/deep/er
    gen_text "data/deep/er/e with space.txt" 50 7
    gen_random model.bin 3100000 8
    record 2

    rm data/sub/b.bin
    gen_text data/a.csv 100 9
    gen_random model.bin 2500000 10
    record 3
}
