#!/usr/bin/env bash
# The prepared GPU check (run it through the device tool when a GPU is lent; a few minutes):
# engine vs plain PyTorch on the same GPU, then the test suite's GPU-only tests.
# Results: $OUT/throughput-gpu.json (the card's name is in it), beside benchmarks/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT"
.venv/bin/python benchmarks/throughput.py --device cuda --no-memory | tee "$OUT/throughput-gpu.log"
tail -n 1 "$OUT/throughput-gpu.log" > "$OUT/throughput-gpu.json"
.venv/bin/python -m pytest -q tests/test_train.py tests/test_models.py -k "cuda or gpu or resnet" || true
