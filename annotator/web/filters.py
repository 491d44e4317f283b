"""Jinja filters and globals shared by every page.

Everything here escapes first and only then adds markup of its own, so untrusted document
text and metadata never reach the page unescaped (no template uses |safe on them).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from flask import Flask, current_app
from markupsafe import Markup, escape

from annotator.palette import OTHER, Swatch, label_swatches
from annotator.project import labels_of

COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-zA-Z]{1,30}")
FALLBACK_COLOUR = "#c8c8c8"


def doc_text(text: str) -> Markup:
    """Escape text for the page, keeping every carriage return.

    An HTML parser turns CR LF (and a lone CR) into LF, so the page's text would be shorter
    than the stored text and every offset after it would drift. A character reference
    survives parsing, so the browser's text equals the stored text code point for code point.
    """
    return Markup(str(escape(text)).replace("\r", "&#13;"))


def meta_value(value) -> str:
    """A metadata value as plain text (escaped by the template like any other string)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def web_url(value) -> str | None:
    """`value` if it is an http(s) URL we may link to, else None (no javascript: links)."""
    if not isinstance(value, str) or any(c.isspace() for c in value.strip()):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def thousands(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def safe_colour(value) -> str:
    return value if isinstance(value, str) and COLOUR.fullmatch(value) else FALLBACK_COLOUR


def label_classes(labels) -> dict[str, str]:
    """{label: "lbl-<n>"}, n the label's position in the configuration (never the name: class
    lists and selectors must not depend on what a label file contains)."""
    return {name: f"lbl-{i}" for i, name in enumerate(labels.entity_labels)}


def swatch_vars(swatch: Swatch) -> str:
    """The palette's colours for one label as custom properties (see annotator/palette.py)."""
    return f"--label-sugg:{swatch.sugg};--label-fill:{swatch.fill};--label-line:{swatch.line}"


def label_css() -> Markup:
    """One CSS rule per label instead of a style attribute on every mark: the configured
    colour as --label-color, and the checked palette's tint, fill and line by position."""
    labels = labels_of(current_app)
    swatches = label_swatches(labels.entity_labels)
    rules = [
        f".lbl-{i}{{--label-color:{safe_colour(labels.colour(name))};{swatch_vars(swatches[name])}}}"
        for i, name in enumerate(labels.entity_labels)
    ]
    rules.append(f".lbl-other{{--label-color:{FALLBACK_COLOUR};{swatch_vars(OTHER)}}}")
    return Markup("\n".join(rules))


def init_app(app: Flask) -> None:
    """Register the helpers; the label configuration is fixed for the app's lifetime."""
    classes = app.extensions["annotator.label_classes"] = label_classes(labels_of(app))

    def label_class(label: str | None) -> str:
        return classes.get(label, "lbl-other")

    app.add_template_filter(doc_text)
    app.add_template_filter(meta_value)
    app.add_template_filter(web_url)
    app.add_template_filter(thousands)
    app.add_template_global(label_class)
    app.add_template_global(label_css)
