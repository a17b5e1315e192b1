#!/usr/bin/env bash
# Write the Parquet files the unit tests read (tests/unit/test_parquet.c), with DuckDB's
# writer from npm. Re-run from anywhere, with node and npm on the PATH:
#   bash tests/data/parquet/make.sh [scratch-dir]
# It installs @duckdb/node-api@1.5.6-r.1 into scratch-dir (default /tmp/dv-parquet-writer),
# never into the repository, and rewrites v1.parquet and v2.parquet beside this script.
# Every value is a function of the row number i (0-based), so the tests can state what
# the footers must say:
#   v1.parquet, 1000 rows:  id    int64   i + 1                  1 .. 1000, no nulls
#                           name  string  "name_" + i in 4 digits name_0000 .. name_0999
#                           score double  i * 0.5, null when i % 97 == 0
#                                         0.5 .. 499.5, 11 nulls
#                           day   date    2024-01-01 + i days    2024-01-01 .. 2026-09-26
#   v2.parquet, 1500 rows:  the same columns (id 1 .. 1500, name_0000 .. name_1499,
#                           score 0.5 .. 749.5 with 16 nulls, day .. 2028-02-08) and
#                           flag  boolean i % 3 == 0, null when i % 100 == 99
#                                         false .. true, 15 nulls
# One thread, so the files are the same on every run of the same DuckDB version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scratch=${1:-/tmp/dv-parquet-writer}
mkdir -p "$scratch"
cd "$scratch"
[ -f package.json ] || npm init -y >/dev/null
npm install --no-audit --no-fund @duckdb/node-api@1.5.6-r.1 >/dev/null
OUT="$here" node --input-type=module <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const out = process.env.OUT;
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const c = await db.connect();
const columns = `(i + 1)::BIGINT AS id,
    'name_' || lpad(i::VARCHAR, 4, '0') AS name,
    CASE WHEN i % 97 = 0 THEN NULL ELSE i * 0.5 END::DOUBLE AS score,
    DATE '2024-01-01' + i::INTEGER AS day`;
const flag = `CASE WHEN i % 100 = 99 THEN NULL ELSE i % 3 = 0 END AS flag`;
await c.run(`COPY (SELECT ${columns} FROM range(1000) t(i) ORDER BY i)
    TO '${out}/v1.parquet' (FORMAT parquet)`);
await c.run(`COPY (SELECT ${columns}, ${flag} FROM range(1500) t(i) ORDER BY i)
    TO '${out}/v2.parquet' (FORMAT parquet)`);
for (const file of ['v1', 'v2']) {
    const r = await c.runAndReadAll(`SELECT path_in_schema, stats_min_value, stats_max_value,
        stats_null_count FROM parquet_metadata('${out}/${file}.parquet')`);
    for (const row of r.getRows())
        console.log(file, row.map(String).join(' '));
}
JS
