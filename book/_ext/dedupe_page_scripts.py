"""Sphinx extension: keep one copy of each script on a page.

With Jupyter Book 1.0.4 (Sphinx 7.4), the inline configuration scripts that sphinx-thebe and
sphinx-togglebutton add while the builder starts end up twice on every page. sphinx-thebe's
declares ``const THEBE_JS_URL``, so in every browser the second copy throws "SyntaxError:
Identifier 'THEBE_JS_URL' has already been declared" (tests/book/test_site.py fails on JavaScript
errors). This drops the second and later copies of a script with the same source, inline body
and attributes, whatever their priorities; the order of the rest is kept.
"""

from __future__ import annotations


def _key(js):
    filename = getattr(js, "filename", js) or ""  # inline scripts come as None or ""
    attributes = getattr(js, "attributes", None) or {}
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, kept = set(), []
    for js in scripts:
        key = _key(js)
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


def setup(app):
    # after the other extensions' html-page-context handlers (default priority 500)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
