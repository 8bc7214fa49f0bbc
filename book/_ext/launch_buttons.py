"""Sphinx extension: launch buttons only when the book names its repository.

The one setting is ``repository.url`` in ``_config.yml``. The launch buttons (Binder, JupyterHub)
of ``launch_buttons`` open a chapter from that repository; with the URL empty there is nothing to
open, so the buttons are removed instead of pointing at a placeholder (sphinx-book-theme would
otherwise fail on the empty URL, and Jupyter Book's default URL is its own repository).
"""

from __future__ import annotations

from typing import Any


def launch_settings(theme_options: dict[str, Any]) -> dict[str, Any]:
    """The ``launch_buttons`` theme options to use: unchanged with a repository URL, empty without."""
    if str(theme_options.get("repository_url") or "").strip():
        return dict(theme_options.get("launch_buttons") or {})
    return {}


def _apply(app, config) -> None:
    options = config.html_theme_options
    options["launch_buttons"] = launch_settings(options)
    if not options["launch_buttons"]:
        options.pop("repository_url", None)


def setup(app):
    app.connect("config-inited", _apply)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
