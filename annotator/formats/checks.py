"""Checks every reader applies to what a file gives: offsets, quantity values, relations."""

from __future__ import annotations

import math

from annotator.labels import LabelConfig
from annotator.unit_table import qualifier_codes


def offsets_problem(text: str, start, end) -> str | None:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        return "'start' and 'end' must be integers"
    if not 0 <= start < end <= len(text):
        return (
            f"offsets {start}..{end} out of range for a text of {len(text)} characters "
            "(need 0 <= start < end <= length; offsets count Unicode code points)"
        )
    return None


def quantity_problem(values: dict, labels: LabelConfig) -> str | None:
    """Value fields given by a file (our own records): numbers, and a known qualifier."""
    for key in ("value", "value_max", "tolerance"):
        v = values.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            return f"'{key}' must be a finite number or null"
    unit = values.get("unit")
    if unit is not None and (not isinstance(unit, str) or len(unit) > 64):
        return "'unit' must be a string of at most 64 characters or null"
    qualifier = values.get("qualifier")
    if qualifier is not None and qualifier not in qualifier_codes():  # the normaliser's, as in the schema
        return f"unknown qualifier {qualifier!r} (known: {', '.join(qualifier_codes())})"
    return None


def relation_problem(labels: LabelConfig, label: str, head: str, child: str) -> str | None:
    if label not in labels.relations or labels.relation_allowed(label, head, child):
        return None  # unknown labels are reported once, by the Unknowns collector
    pairs = ", ".join(f"{h}->{c}" for h, c in labels.relations[label]["pairs"])
    return f"relation {label} is not allowed from {head} to {child} (allowed: {pairs})"
