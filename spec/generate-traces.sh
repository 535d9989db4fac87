#!/usr/bin/env bash
# Regenerates the model-based-testing corpus spec/traces/*.itf.json from the Quint model
# (random simulation with the invariants checked), which bft-adapter/tests/model_traces.rs
# replays into real engines. Needs Quint: `npm ci` in spec/ first.
#   spec/generate-traces.sh [SEED] [DIR]      (N4=24 N7=8 traces by default)
set -euo pipefail
cd "$(dirname "$0")"
seed="${1:-0x2a}"
out="${2:-traces}"
mkdir -p "$out"
rm -f "$out"/*.itf.json "$out"/*.itf.json.gz
quint="npx --no-install quint"
# n = 4 (f = 1): 24 traces of 100 steps; n = 7 (f = 2): 8 traces of 80 steps. Stored gzipped
# (the states repeat themselves: 100× smaller).
$quint run bastar.qnt --main n4 --backend typescript --invariant safety --step biasedStep \
  --max-samples "${N4:-24}" --n-traces "${N4:-24}" --max-steps 100 --seed "$seed" \
  --out-itf "$out/n4-{seq}.itf.json" >/dev/null
$quint run bastar.qnt --main n7 --backend typescript --invariant safety --step biasedStep \
  --max-samples "${N7:-8}" --n-traces "${N7:-8}" --max-steps 80 --seed "$seed" \
  --out-itf "$out/n7-{seq}.itf.json" >/dev/null
gzip -9 -n "$out"/*.itf.json
ls "$out" | wc -l | sed 's/$/ traces written/'
