"""The agreement report in pictures: the geometry of four server-drawn SVG charts, from the
figures agreement.py computes (nothing here is measured another way).

- a confusion heatmap over token labels (report["confusion"]);
- per-label span F1 bars, exact and overlap, the mean over pairs as the table gives it;
- a histogram of documents by the share of their tokens the annotators differ on
  (report["most_disagreement"], which holds every document when asked with top=None);
- agreement over time: the pairs' span F1 per day, a document counted on the day its last
  compared annotator marked it done (PairTally over that day's documents).

The templates (reports/_charts.html) draw the shapes and escape every label. Colours are
chosen for at least 3:1 against the panel and 4.5:1 for the numbers written on them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from itertools import combinations

from sqlalchemy import select
from sqlmodel import Session

from annotator.models import AuditEvent, Layer
from annotator.review.agreement import PairTally, _mean, load, span_tuples

DARK, LIGHT = "#1d1f23", "#ffffff"  # app.css --fg and --panel
# heatmap steps, lightest to darkest; each cell carries its count in a colour readable on it
HEAT = ["#ffffff", "#dce6f9", "#a9c1ee", "#6d93dd", "#2457c5", "#1a3a85"]
BINS = 10  # histogram bars of 10% each, after one bar for documents with no disagreement


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink(fill: str) -> str:
    """The text colour (app's dark or white) that reads best on `fill`."""
    return DARK if contrast(DARK, fill) >= contrast(LIGHT, fill) else LIGHT


# --- confusion heatmap ---------------------------------------------------------------------


def heatmap(report: dict, cell: int = 44, margin: int = 110) -> dict:
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    top = max((n for row in matrix for n in row), default=0)
    cells = []
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            step = 0 if n == 0 else 1 + min(len(HEAT) - 2, int((len(HEAT) - 1) * n / top - 1e-9))
            fill = HEAT[step]
            cells.append(
                {
                    "x": margin + j * cell,
                    "y": margin + i * cell,
                    "count": n,
                    "row": labels[i],
                    "col": labels[j],
                    "fill": fill,
                    "ink": ink(fill),
                    "diagonal": i == j,
                }
            )
    size = margin + cell * len(labels) + 10
    width = size + 60  # room for the last column name, slanted to the right
    return {
        "labels": labels,
        "cells": cells,
        "cell": cell,
        "margin": margin,
        "width": width,
        "height": size,
        "max": top,
        "names": report["annotators"],
    }


# --- per-label bars ----------------------------------------------------------------------------


def label_bars(report: dict, row: int = 34, left: int = 110, width: int = 320) -> dict:
    rows = []
    for i, label in enumerate(report["labels"]):
        exact = _mean(p["span_f1"]["exact"]["per_label"][label]["f1"] for p in report["pairs"])
        overlap = _mean(p["span_f1"]["overlap"]["per_label"][label]["f1"] for p in report["pairs"])
        y = 20 + i * row
        rows.append(
            {
                "label": label,
                "y": y,
                "exact": exact,
                "overlap": overlap,
                "exact_w": round((exact or 0) * width, 1),
                "overlap_w": round((overlap or 0) * width, 1),
            }
        )
    return {
        "rows": rows,
        "left": left,
        "scale": width,
        "row": row,
        "width": left + width + 60,
        "height": 30 + row * len(rows),
    }


# --- disagreement histogram ----------------------------------------------------------------------


def bin_of(doc: dict) -> int:
    """0: no token differs; k (1..BINS): a share of disagreeing tokens in ((k-1)/BINS, k/BINS]."""
    share = doc["tokens_disagreeing"] / doc["tokens"] if doc["tokens"] else 0.0
    return 0 if share == 0 else max(1, min(BINS, math.ceil(share * BINS - 1e-9)))


def bin_name(k: int) -> str:
    return "none" if k == 0 else f"{(k - 1) * 100 // BINS}–{k * 100 // BINS}%"


def histogram(report: dict, bar: int = 36, height: int = 160, left: int = 40) -> dict:
    groups: list[list[dict]] = [[] for _ in range(BINS + 1)]
    for doc in report["most_disagreement"]:
        groups[bin_of(doc)].append(doc)
    top = max((len(g) for g in groups), default=0) or 1
    bars = []
    for k, docs in enumerate(groups):
        h = round(height * len(docs) / top, 1)
        bars.append(
            {
                "bin": k,
                "name": bin_name(k),
                "docs": docs,
                "count": len(docs),
                "x": left + k * (bar + 6),
                "h": h,
                "y": 20 + height - h,
            }
        )
    return {
        "bars": bars,
        "bar": bar,
        "base": 20 + height,
        "left": left,
        "max": top,
        "width": left + (BINS + 1) * (bar + 6) + 10,
        "height": height + 60,
    }


# --- agreement over time ---------------------------------------------------------------------------


def done_days(session: Session, names: list[str], doc_ids: list[int]) -> dict[int, str]:
    """Each document's day (UTC, ISO) its last compared annotator marked it done: the latest
    "done" status event of each done layer, else the layer's last change (imported as done)."""
    layers = session.exec(
        select(Layer.id, Layer.document_id, Layer.updated_at).where(
            Layer.document_id.in_(doc_ids), Layer.name.in_(names), Layer.status == "done"
        )
    ).all()
    marked: dict[int, datetime] = {}
    events = session.exec(
        select(AuditEvent.layer_id, AuditEvent.at, AuditEvent.after).where(
            AuditEvent.layer_id.in_([row.id for row in layers]), AuditEvent.action == "set_status"
        )
    ).all()
    for layer_id, at, after in events:
        if (after or {}).get("status") == "done" and (layer_id not in marked or at > marked[layer_id]):
            marked[layer_id] = at
    days: dict[int, datetime] = {}
    for row in layers:
        at = marked.get(row.id, row.updated_at)
        days[row.document_id] = max(days.get(row.document_id, at), at)
    return {doc: at.date().isoformat() for doc, at in days.items()}


def agreement_by_day(session: Session, annotators: list[str] | None = None, labels: list[str] | None = None) -> list:
    """Per day: the documents counted that day and the pairs' mean micro span F1 (exact and
    overlap) over them, matched exactly as the report matches them."""
    corpus = load(session, annotators, labels)
    names = corpus.annotators
    days = done_days(session, names, [d.id for d in corpus.docs])
    tallies: dict[str, dict] = defaultdict(lambda: {pair: PairTally() for pair in combinations(names, 2)})
    counted: dict[str, int] = defaultdict(int)
    for doc in corpus.docs:
        day = days.get(doc.id)
        if day is None:
            continue
        counted[day] += 1
        for (x, y), tally in tallies[day].items():
            a, b = corpus.layers.get((doc.id, x)), corpus.layers.get((doc.id, y))
            if a is not None and b is not None:
                tally.add_doc(a, b, span_tuples(a), span_tuples(b))
    out = []
    for day in sorted(tallies):
        reports = [t.report([]) for t in tallies[day].values() if t.documents]
        out.append(
            {
                "day": day,
                "documents": counted[day],
                "exact": _mean(r["span_f1"]["exact"]["micro"]["f1"] for r in reports),
                "overlap": _mean(r["span_f1"]["overlap"]["micro"]["f1"] for r in reports),
            }
        )
    return out


def timeline(days: list[dict], step: int = 56, height: int = 150, left: int = 40) -> dict:
    points = []
    for i, d in enumerate(days):
        x = left + 20 + i * step
        points.append({**d, "x": x, "y_exact": _y(d["exact"], height), "y_overlap": _y(d["overlap"], height)})

    def path(key):
        return " ".join(f"{p['x']},{p[key]}" for p in points if p[key] is not None)

    return {
        "points": points,
        "exact_path": path("y_exact"),
        "overlap_path": path("y_overlap"),
        "left": left,
        "base": 20 + height,
        "top": 20,
        "width": left + 40 + step * max(1, len(points)),
        "height": height + 60,
    }


def _y(value: float | None, height: int) -> float | None:
    return None if value is None else round(20 + height * (1 - value), 1)


def charts(report: dict, days: list[dict] | None) -> dict:
    """Everything the charts partial draws. `days`: agreement_by_day, None to leave it out."""
    return {
        "heatmap": heatmap(report),
        "bars": label_bars(report),
        "histogram": histogram(report),
        "timeline": timeline(days) if days is not None else None,
    }
