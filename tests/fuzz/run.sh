#!/usr/bin/env bash
# Fuzz dv's decoders of bytes that others wrote (pointer files, trees, manifests, pack
# indexes and entries, .dv/config, S3 and HTTP listings, bundle headers, archives) with
# libFuzzer, ASan and UBSan.
# Part of CI in its short form. Builds the harnesses (tests/fuzz/fuzz_<name>.c) in
# build-fuzz with clang, installing clang if it is missing; then, for each harness:
#   1. replays every input in tests/fuzz/regressions/<name>/ (inputs that once crashed);
#   2. fuzzes for N seconds from the committed seeds in tests/fuzz/corpus/<name>/ and the
#      inputs earlier runs found (build-fuzz/corpus/<name>/, kept between runs).
# Any crash, sanitizer report, leak or broken invariant fails the run; its input is copied
# into tests/fuzz/regressions/<name>/ to be committed with the fix.
#
# usage: tests/fuzz/run.sh [--seconds N] [--long] [name ...]
#   --seconds N   fuzz each harness N seconds (default 20)
#   --long        fuzz each harness 15 minutes
#   name ...      only these harnesses (pointer, tree, manifest, pack_index,
#                 pack_entry, config, s3_list, http_list, csv, jsonl,
#                 parquet, bundle, import); default all
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build-fuzz
seconds=20
names=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --long) seconds=900; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
    esac
done
if [ ${#names[@]} -eq 0 ]; then
    for source in "$here"/fuzz_*.c; do
        name=$(basename "$source" .c)
        names+=("${name#fuzz_}")
    done
fi

"$top/tests/install-deps.sh" --fuzz || exit 2
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DDV_FUZZ=ON -DDV_TESTS=OFF -DDV_WERROR=ON >/dev/null || exit 2
cmake --build "$build" --target fuzz -j"$(nproc)" >/dev/null || exit 2

export ASAN_OPTIONS="detect_leaks=1 abort_on_error=0 strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$top/tests/sanitize.supp print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"

# Inputs larger than a decoder's interesting cases only slow the search; an index needs
# its 1100-byte frame plus 52 bytes an entry.
max_len_of() {
    case "$1" in
    pack_index) echo 16384 ;;
    import) echo 65536 ;; # a tar written by Python is padded to 10 KiB
    *) echo 4096 ;;
    esac
}

failed=0
for name in "${names[@]}"; do
    harness=$build/fuzz_$name
    [ -x "$harness" ] || { echo "no harness $name" >&2; exit 2; }
    seeds=$here/corpus/$name
    regressions=$here/regressions/$name
    work=$build/corpus/$name
    artifacts=$build/artifacts/$name
    log=$build/logs/$name.log
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    : >"$log"

    if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
        if ! "$harness" -runs=1 "$regressions"/* >>"$log" 2>&1; then
            echo "FAILED  $name: a regression input fails again (log $log)"
            failed=1
            continue
        fi
    fi

    rm -f "$artifacts"/*
    start=$(date +%s)
    "$harness" -max_total_time="$seconds" -max_len="$(max_len_of "$name")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$work" "$seeds" >>"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "ok      $name (${elapsed} s, ${runs:-?} runs, corpus $(ls "$work" | wc -l))"
        continue
    fi
    failed=1
    echo "FAILED  $name (exit $rc, log $log)"
    grep -m3 -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error)" "$log" | sed 's/^/        /'
    mkdir -p "$regressions"
    for input in "$artifacts"/*; do
        [ -e "$input" ] || continue
        cp "$input" "$regressions/"
        echo "        input kept as tests/fuzz/regressions/$name/$(basename "$input")"
    done
done
exit "$failed"
