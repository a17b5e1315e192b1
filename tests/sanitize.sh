#!/usr/bin/env bash
# Memory and undefined-behaviour check, part of CI: build dv and the unit tests with
# AddressSanitizer (LeakSanitizer on) and UndefinedBehaviorSanitizer, and run the whole
# ctest suite (unit, end-to-end, the S3 rig tests) against them. Any sanitizer report
# fails the run, even from a dv process whose failure a scenario expected: reports go to
# files in the log directory printed at the end, not to the tests' stderr.
#
# usage: tests/sanitize.sh [ctest options ...]   (e.g. -R unit.test_pack)
#   CC=gcc tests/sanitize.sh   to build with gcc instead of clang (gcc's UBSan writes its
#                              reports to stderr only; they are then found in the test log)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build-sanitize
logs=$build/logs
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

cc=${CC:-clang}
deps=(--test)
[ "$cc" = clang ] && deps+=(--fuzz)
"$top/tests/install-deps.sh" "${deps[@]}" || exit 2
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDV_WERROR=ON -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    >/dev/null || exit 2
cmake --build "$build" -j"$(nproc)" >/dev/null || exit 2
rm -rf "$logs"
mkdir -p "$logs"

# exitcode 66 tells a report from dv's own exit codes; log_path keeps reports out of the
# output the scenarios compare. Leaks inside libraries' process-wide state that are never
# freed by design are listed, each with its reason, in the suppressions file.
export ASAN_OPTIONS="exitcode=66 log_path=$logs/asan detect_leaks=1 abort_on_error=0 \
strict_string_checks=1 detect_stack_use_after_return=1 check_initialization_order=1"
export LSAN_OPTIONS="exitcode=66 suppressions=$top/tests/sanitize.supp print_suppressions=0"
export UBSAN_OPTIONS="exitcode=66 log_path=$logs/ubsan print_stacktrace=1 halt_on_error=1"

failed=0
(cd "$build" && ctest --output-on-failure -j2 "$@") || failed=1
# a report that reached a test's output instead (gcc's UBSan ignores log_path)
if grep -E "runtime error:|ERROR: (Address|Leak)Sanitizer" "$build/Testing/Temporary/LastTest.log" \
    >"$logs/in-test-output.txt"; then
    echo "sanitizer reports in the test output:"
    head -20 "$logs/in-test-output.txt"
    failed=1
fi
if ls "$logs"/asan.* "$logs"/ubsan.* >/dev/null 2>&1; then
    echo "sanitizer reports:"
    for report in "$logs"/asan.* "$logs"/ubsan.*; do
        [ -e "$report" ] || continue
        echo "== $report"
        head -40 "$report"
    done
    failed=1
fi
echo "logs in $logs"
exit "$failed"
