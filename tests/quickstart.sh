#!/usr/bin/env bash
# Quick start: install dependencies, build dv, and walk through a session on
# generated data in a temporary git repository.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tests/install-deps.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=Release -DDV_TESTS=OFF >/dev/null
cmake --build "$top/build" -j"$(nproc)" >/dev/null
exec "$top/tests/e2e/walkthrough.sh" "$top/build/dv"
