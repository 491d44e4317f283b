"""The project's trained models for curators: each one's figures, its learning curve drawn
as a chart (with the same numbers as a table), which one is active, and the form that
starts training a new one as a job (a worker runs it; its page shows the progress)."""

from __future__ import annotations

import math

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import update

from annotator.db import get_db
from annotator.export.rows import SUGGESTIONS, layer_names
from annotator.models import AuditEvent, ModelVersion
from annotator.project.model_versions import list_models
from annotator.web.auth import curator_required
from annotator.web.jobs import start_job

bp = Blueprint("models", __name__, url_prefix="/models")

# The chart's drawing area, in SVG user units
WIDTH, HEIGHT, PAD = 360, 200, 36
MAX_MINUTES = 600  # the form's bound on a training job's budget
CURVES = (("span_f1_overlap", "Spans (overlap F1)", "solid"), ("claim_link_f1", "Claim links (F1)", "dashed"))


def curve_chart(points: list[dict]) -> dict:
    """Polylines for the learning curve: x the share of training documents, y an F1 in [0, 1]."""
    drawn = [p for p in points if "fraction" in p and "skipped" not in p]
    lines = []
    for key, name, style in CURVES:
        xy = [
            (PAD + p["fraction"] * (WIDTH - 2 * PAD), HEIGHT - PAD - float(p.get(key) or 0) * (HEIGHT - 2 * PAD))
            for p in drawn
        ]
        lines.append({"name": name, "style": style, "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in xy), "xy": xy})
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "lines": lines, "points": drawn}


def headline_rows(metrics: dict) -> list[tuple[str, dict]]:
    """(name, precision/recall/F1) per span label and per claim role, as the table lists them."""
    rows = [(f"span {label}", figures) for label, figures in metrics.get("spans", {}).get("overlap", {}).items()]
    given = metrics.get("claims", {}).get("given_gold_spans", {})
    rows += [(f"claim {role}", figures) for role, figures in given.items()]
    return rows


def trainable_layers() -> list[str]:
    """The layers a model can learn from (suggestions are the machine's own, not people's)."""
    with get_db().reading() as session:
        return [name for name in layer_names(session) if name != SUGGESTIONS]


def render_index(error: str | None = None, values: dict | None = None, status: int = 200):
    models = list_models(get_db())
    page = render_template(
        "models/index.html",
        models=models,
        charts={m.id: curve_chart(m.metrics.get("learning_curve", [])) for m in models},
        rows={m.id: headline_rows(m.metrics) for m in models},
        layers=trainable_layers(),
        train_error=error,
        values=values or {},
        max_minutes=MAX_MINUTES,
    )
    return page, status


@bp.get("/")
@curator_required
def index():
    return render_index()


def _minutes(text: str) -> float | None:
    try:
        minutes = float(text)
    except ValueError:
        return None
    return minutes if math.isfinite(minutes) and 0 < minutes <= MAX_MINUTES else None


@bp.post("/train")
@curator_required
def train():
    """Queue training on a layer's done documents; the job's page follows it."""
    values = {key: request.form.get(key, "").strip() for key in ("layer", "max_minutes")}
    layers, minutes = trainable_layers(), _minutes(values["max_minutes"])
    if values["layer"] not in layers:
        return render_index(f"Choose one of the layers: {', '.join(layers)}.", values, 422)
    if minutes is None:
        return render_index(f"Give the time budget in minutes, more than 0 and at most {MAX_MINUTES}.", values, 422)
    job_id = start_job("train", {"layer": values["layer"], "max_minutes": minutes})
    return redirect(url_for("jobs.show", job_id=job_id), 303)


@bp.post("/<id:model_id>/activate")
@curator_required
def activate(model_id: int):
    """Make this model the active one (audited); the page again, with it marked."""
    with get_db().writing() as session:
        model = session.get(ModelVersion, model_id)
        if model is None:
            return render_template("models/_message.html", message="No such model.", kind="error"), 404
        session.exec(update(ModelVersion).values(active=ModelVersion.id == model_id))
        target = f"model:{model.name}@{model.version}"
        session.add(AuditEvent(user=current_user.name, action="activate_model", target=target))
    return redirect(url_for("models.index"), 303)
