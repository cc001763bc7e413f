#!/usr/bin/env bash
# Set up, then run the whole test suite (unit, invariants, notebooks at the smoke profile, book build,
# the built book in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser test drives Debian's chromium through its chromedriver (selenium is a pip dev dependency).
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver > /dev/null
fi
exec .venv/bin/python -m pytest -q "$@"
