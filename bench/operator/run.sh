#!/usr/bin/env bash
# The operator scale benchmark, one command: builds the CLI, bundles
# bench/operator/bench.ts (it reuses the test environment's control plane),
# runs it, and puts its report into bench/RESULTS.md between the operator
# markers (newest run first).
#
#   bench/operator/run.sh                          # 1,000 workloads, 20 namespaces
#   BENCH_WORKLOADS=100 bench/operator/run.sh      # a quick run
#
# Also: BENCH_NAMESPACES (20), BENCH_RESYNC_SECONDS (10), BENCH_RESYNCS (3).
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
node "$out" > "$work/report.md" || status=$?
cat "$work/report.md"
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
