#!/usr/bin/env bash
# The dump benchmark, one command: builds the CLI, bundles bench/dump/bench.ts
# (it reuses the test environment's PostgreSQL and S3 servers), runs it, and
# puts its report into bench/RESULTS.md between the dump markers.
#
#   bench/dump/run.sh                          # ~0.7 GB of dump, 2 rounds
#   BENCH_ROWS=15000000 bench/dump/run.sh      # ~3 GB of dump
#   BENCH_ROWS=200000 BENCH_ROUNDS=1 bench/dump/run.sh   # a quick run
#   BENCH_MEMORY=1 bench/dump/run.sh           # peak RSS of the CLI only (memory.ts)
#
# Needs GNU time (/usr/bin/time, Debian package `time`), zstd and `make
# testenv`; pigz, when installed, is one more baseline.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }
command -v zstd > /dev/null || { echo "zstd is missing: apt-get install zstd" >&2; exit 1; }
npm run --silent build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Bundled under node_modules (so packages resolve); test/env/paths.ts finds
# versions.env from its own URL, which the bundle keeps through the define.
# BENCH_MEMORY=1: the memory-only run (bench/dump/memory.ts) instead.
entry=bench/dump/bench.ts
marker=dump
[ "${BENCH_MEMORY:-}" = 1 ] && { entry=bench/dump/memory.ts; marker=memory; }
out=node_modules/.cache/snapkeeper-bench/bench.mjs
npx esbuild "$entry" --bundle --platform=node --format=esm --packages=external \
  --define:import.meta.url="\"file://$PWD/test/env/paths.ts\"" --outfile="$out" --log-level=warning
node "$out" > "$work/report.md"
cat "$work/report.md"

results=bench/RESULTS.md
[ -f "$results" ] || printf '# Benchmark results\n' > "$results"
if ! grep -q "<!-- $marker:begin -->" "$results"; then
  if [ "$marker" = memory ]; then
    printf '\n## Memory: peak RSS of the CLI\n\nRecorded by `BENCH_MEMORY=1 bench/dump/run.sh`; newest first.\n\n<!-- memory:begin -->\n<!-- memory:end -->\n' >> "$results"
  else
    printf '\n## Dump: snapkeeper backup vs pg_dump | gzip\n\nRecorded by `bench/dump/run.sh`; newest first.\n\n<!-- dump:begin -->\n<!-- dump:end -->\n' >> "$results"
  fi
fi
# Newest run first, right after the begin marker.
awk -v report="$work/report.md" -v begin="<!-- $marker:begin -->" '
  { print }
  $0 == begin { while ((getline line < report) > 0) print line; print "" }
' "$results" > "$work/results.md"
cp "$work/results.md" "$results"
