"""Copy an executed notebook into book/chapters/ without what changes from one execution to the next.

    python scripts/chapter.py EXECUTED.ipynb book/chapters/NAME.ipynb

Papermill stamps every execution with times and durations (the notebook's and each cell's metadata)
and gives the cell of injected parameters a random id; the stamps are dropped and the id fixed, so a
chapter whose content did not change is written byte for byte as it was and `git status` stays clean
after `scripts/book.sh` with nothing to train. The parameters papermill
injected are kept (they say how the chapter was made); where the parameters cell is hidden
(tag ``remove-cell``: the front page), the injected cell is hidden too.
"""
import sys

import nbformat

VOLATILE = ("duration", "start_time", "end_time", "input_path", "output_path", "environment_variables")

src, dst = sys.argv[1], sys.argv[2]
nb = nbformat.read(src, as_version=4)
for k in VOLATILE:
    nb.metadata.get("papermill", {}).pop(k, None)
hide = any("parameters" in c.metadata.get("tags", []) and "remove-cell" in c.metadata.get("tags", []) for c in nb.cells)
for cell in nb.cells:
    cell.metadata.pop("execution", None)
    cell.metadata.pop("papermill", None)
    if "injected-parameters" in cell.metadata.get("tags", []):
        cell["id"] = "injected-parameters"  # papermill draws a random id at every execution
        if hide:  # hidden like the parameters it overrides
            cell.metadata["tags"].append("remove-cell")
text = nbformat.writes(nb) + "\n"
try:
    old = open(dst, encoding="utf-8").read()
except FileNotFoundError:
    old = None
if text != old:
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
