#!/usr/bin/env bash
# Set up, then run the whole test suite (unit, invariants, notebooks at the smoke profile, book build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
