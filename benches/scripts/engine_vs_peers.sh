#!/usr/bin/env bash
# Side-by-side figures for the engine against Prometheus and VictoriaMetrics, in one run on one
# machine: ingest (promtool's write bench), bytes/sample on disk, import rate, decode scan.
# usage: benches/scripts/engine_vs_peers.sh [SHARED_DIR=../shared]
# Needs the peers' Debian packages (the anchor scripts install them) and a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${1:-../shared}
data="$shared/data/node-1s.prom.zst"
labels="$shared/data/labels-node-20k.json"
cargo build --release -q -p strata-cli
strata=target/release/strata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
last() { tail -n 1; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "== ingest: promtool tsdb bench write vs strata bench write (10k series x 3000 scrapes)"
prom_write=$(bash "$shared/anchors/promtool-bench.sh" "$labels" | last | field samples_per_sec)
ours_write=$($strata bench write --labels "$labels" | last | field samples_per_sec)

echo "== bytes/sample and import rate on node-1s"
prom_bytes=$(bash "$shared/anchors/prometheus-block-bytes.sh" "$data" | last | field bytes_per_sample)
vm_line=$(bash "$shared/anchors/victoria-metrics-bytes.sh" "$data" | last)
vm_bytes=$(echo "$vm_line" | field bytes_per_sample)
vm_import=$(echo "$vm_line" | field import_samples_per_sec)
import_line=$($strata import --db "$work/db" "$data" | grep imported)
ours_import=$(echo "$import_line" | sed 's/.*: \([0-9]*\) samples\/s/\1/')
$strata compact --db "$work/db" >/dev/null
ours_bytes=$($strata stats --db "$work/db" --json | sed -n 's/.*"block_bytes_per_sample": *\([0-9.]*\).*/\1/p')
scan_one_core=$(RAYON_NUM_THREADS=1 $strata bench scan --db "$work/db" | last | field scan_samples_per_sec)

printf '\n%-40s %16s %16s %8s\n' "figure" "strata" "peer" "ratio"
row() { awk -v n="$1" -v a="$2" -v b="$3" -v p="$4" 'BEGIN { printf "%-40s %16s %16s %7.2fx  (%s)\n", n, a, b, a/b, p }'; }
row "ingest samples/s (bench write)" "$ours_write" "$prom_write" "promtool"
row "bytes/sample on disk after compact" "$ours_bytes" "$prom_bytes" "Prometheus blocks"
row "bytes/sample on disk after compact" "$ours_bytes" "$vm_bytes" "VictoriaMetrics"
row "import samples/s" "$ours_import" "$vm_import" "VictoriaMetrics"
printf '%-40s %16s\n' "decode scan samples/s, one core (blocks)" "$scan_one_core"
