"""Sphinx extension: pages that load without a single browser console error.

- sphinx-thebe's inline ``const THEBE_JS_URL = ...`` script is registered twice in Jupyter Book 1.x
  (the second copy throws "Identifier 'THEBE_JS_URL' has already been declared"): each page keeps the
  first copy of every script.
- pydata-sphinx-theme logs an error when a page has no colour mode ("Got invalid theme mode"): the
  default mode is set to light.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for js in context.get("script_files", []):
        attrs = tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items()))
        key = (getattr(js, "filename", str(js)) or "", attrs)  # an inline script's filename: None or ''
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def _default_mode(app, config):
    config.html_context = dict(config.html_context or {})
    config.html_context.setdefault("default_mode", "light")


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _dedupe_scripts, priority=100)  # before any listener that returns a template
    return {"parallel_read_safe": True, "parallel_write_safe": True}
