#!/usr/bin/env bash
# The whole test suite: install test dependencies, build with warnings as
# errors, run the Criterion unit tests and the end-to-end scenarios (ctest).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tests/install-deps.sh" --test
cmake -S "$top" -B "$top/build-check" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDV_WERROR=ON >/dev/null
cmake --build "$top/build-check" -j"$(nproc)"
cd "$top/build-check"
ctest --output-on-failure -j2 "$@"
