#!/usr/bin/env bash
# Run a command with the environment of a running S3 test rig: with-rig.sh <dir> <command...>
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: with-rig.sh <rig dir> <command...>" >&2; exit 2; }
dir="$1"
shift
[ -f "$dir/env" ] || { echo "with-rig: no S3 test rig running in $dir (start it with tests/s3/rig.sh start $dir)" >&2; exit 1; }
# shellcheck disable=SC1091
. "$dir/env"
exec "$@"
