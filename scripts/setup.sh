#!/usr/bin/env bash
# Create .venv (if missing) and install nlcore with its dependencies. Idempotent; works offline
# where pip's index/find-links provide the wheels (torch 2.14.1 / torchvision 0.29.1 on this kind of machine).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
