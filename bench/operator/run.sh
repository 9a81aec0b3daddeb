#!/usr/bin/env bash
# The operator scale benchmark, one command: builds the CLI, bundles
# bench/operator/bench.ts (it reuses the test environment's control plane),
# runs it, and puts its report into bench/RESULTS.md between the operator
# markers (newest run first).
#
#   bench/operator/run.sh                          # 1,000 then 5,000 workloads, 20 namespaces
#   BENCH_SIZES=1000 bench/operator/run.sh         # one size
#   BENCH_SIZES=100 bench/operator/run.sh          # a quick run
#
# Each size is its own run (a fresh control plane, a fresh operator) and its
# own report. Also: BENCH_NAMESPACES (20), BENCH_RESYNC_SECONDS (10),
# BENCH_RESYNCS (3), BENCH_CLI (another dist/cli.js to run, to compare builds),
# BENCH_NODE_FLAGS (flags of the operator's node command: V8 heap sizes, --cpu-prof);
# BENCH_WORKLOADS is the old name of a single size.
# Needs `make testenv` (etcd, kube-apiserver, kube-controller-manager).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Bundled under node_modules (so packages resolve); test/env/paths.ts finds
# versions.env from its own URL, which the bundle keeps through the define.
out=node_modules/.cache/snapkeeper-bench/operator.mjs
npx esbuild bench/operator/bench.ts --bundle --platform=node --format=esm --packages=external \
  --define:import.meta.url="\"file://$PWD/test/env/paths.ts\"" --outfile="$out" --log-level=warning
status=0
: > "$work/report.md"
for size in ${BENCH_SIZES:-${BENCH_WORKLOADS:-1000 5000}}; do
  one=0
  BENCH_WORKLOADS=$size node "$out" > "$work/one.md" || one=$?
  cat "$work/one.md"
  if [ -s "$work/one.md" ]; then
    cat "$work/one.md" >> "$work/report.md"
  else
    echo "bench/operator: the run with $size workloads failed (exit $one)" >&2
  fi
  [ "$one" -eq 0 ] || status=$one
done
[ -s "$work/report.md" ] || exit "${status:-1}"

# Re-read RESULTS.md only now (others append their own sections to it).
results=bench/RESULTS.md
[ -f "$results" ] || printf '# Benchmark results\n' > "$results"
if ! grep -q '<!-- operator:begin -->' "$results"; then
  printf '\n## Operator at scale\n\nRecorded by `bench/operator/run.sh`; newest first.\n\n<!-- operator:begin -->\n<!-- operator:end -->\n' >> "$results"
fi
awk -v report="$work/report.md" '
  { print }
  /<!-- operator:begin -->/ { while ((getline line < report) > 0) print line; print "" }
' "$results" > "$work/results.md"
cp "$work/results.md" "$results"
exit "$status"
