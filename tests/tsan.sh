#!/usr/bin/env bash
# Race check, not part of CI (about 5 minutes): build dv with ThreadSanitizer and run the
# end-to-end scenarios that drive its threads (the ingest pool and committer, the pack
# sealer, checkout's restore groups, push and fetch workers over a directory, S3 and
# HTTP remote). Any report from TSan fails the scenario it came from (exit code 66) and
# is kept in the log directory printed at the end.
#
# usage: tests/tsan.sh [scenario ...]   (names as in tests/e2e, without .sh)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build-tsan
logs=$build/logs
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(test_roundtrip_large test_checkout_reuse
    test_checkout_statcache test_add_new_version test_dedup test_remote_file
    test_remote_http test_crash_safety test_s3_remote test_s3_pull_overlap)

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDV_TESTS=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null || exit 2
cmake --build "$build" -j"$(nproc)" >/dev/null || exit 2
rm -rf "$logs"
mkdir -p "$logs"
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 log_path=$logs/report"

rig=""
stop_rig() { [ -n "$rig" ] && bash "$top/tests/s3/rig.sh" stop "$rig" >/dev/null 2>&1; }
trap stop_rig EXIT

failed=0
for name in "${scenarios[@]}"; do
    script=$top/tests/e2e/$name.sh
    [ -f "$script" ] || { echo "no scenario $name" >&2; exit 2; }
    cmd=(bash "$script" "$build/dv")
    if [[ "$name" == test_s3_* ]]; then
        if [ -z "$rig" ]; then
            rig=$build/s3-rig
            bash "$top/tests/s3/rig.sh" start "$rig" >"$logs/s3-rig.log" 2>&1 ||
                { echo "the S3 test rig did not start (see $logs/s3-rig.log)" >&2; exit 2; }
        fi
        cmd=(bash "$top/tests/s3/with-rig.sh" "$rig" "${cmd[@]}")
    fi
    if "${cmd[@]}" >"$logs/$name.log" 2>&1; then
        echo "ok      $name"
    else
        echo "FAILED  $name (exit $?, log $logs/$name.log)"
        failed=1
    fi
done
if ls "$logs"/report.* >/dev/null 2>&1; then
    echo "ThreadSanitizer reports:"
    ls "$logs"/report.*
    failed=1
fi
echo "logs in $logs"
exit "$failed"
