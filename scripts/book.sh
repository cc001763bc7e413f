#!/usr/bin/env bash
# The main job: set up, train only the runs that are not stored yet (profile cpu by default),
# execute every notebook into book/chapters/ with papermill, then build the book with execution
# off and warnings as errors. Output: book/_build/html/index.html
#   PROFILE=smoke bash scripts/book.sh   # seconds; PROFILE=paper for a GPU
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PROFILE=${PROFILE:-cpu}
TRAIN_MISSING=${TRAIN_MISSING:-True}  # False: draw only what is stored (a sweep may be filling the store)
mkdir -p book/chapters
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for nb in notebooks/*.ipynb; do
  name=$(basename "$nb")
  echo "== papermill $nb (profile $PROFILE)"
  NLCORE_BOOK=1 .venv/bin/papermill "$nb" "$tmp/$name" -p profile "$PROFILE" -p train_missing "$TRAIN_MISSING" -k python3 --cwd . --log-output --no-progress-bar > /dev/null
  .venv/bin/python scripts/chapter.py "$tmp/$name" "book/chapters/$name"  # without papermill's timestamps
done
echo "== jupyter-book build book/"
.venv/bin/jupyter-book build book/ -W -n --keep-going
echo "Book: $(pwd)/book/_build/html/index.html"
