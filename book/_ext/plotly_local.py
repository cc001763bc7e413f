"""Sphinx extension: serve plotly.js from the book itself (no CDN), copied from the installed plotly.

Every page gets ``_static/plotly.min.js`` in its head, so figures emitted with
``fig.to_html(include_plotlyjs=False)`` (``nlcore.plots.show`` in the book build)
render from disk with no network. The file is copied at build time, never committed.
"""

import shutil
from pathlib import Path


def _copy(app):
    import plotly

    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    static = Path(app.outdir).parent / "_plotly_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, static / "plotly.min.js")
    app.config.html_static_path.append(str(static))


def setup(app):
    app.connect("builder-inited", _copy)
    app.add_js_file("plotly.min.js", priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
