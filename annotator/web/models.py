"""The project's trained models for curators: each one's figures, its learning curve drawn
as a chart (with the same numbers as a table), and which one is active."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import update

from annotator.db import get_db
from annotator.models import AuditEvent, ModelVersion
from annotator.project.model_versions import list_models
from annotator.web.auth import curator_required

bp = Blueprint("models", __name__, url_prefix="/models")

# The chart's drawing area, in SVG user units
WIDTH, HEIGHT, PAD = 360, 200, 36
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


@bp.get("/")
@curator_required
def index():
    models = list_models(get_db())
    return render_template(
        "models/index.html",
        models=models,
        charts={m.id: curve_chart(m.metrics.get("learning_curve", [])) for m in models},
        rows={m.id: headline_rows(m.metrics) for m in models},
    )


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
