"""Reports for curators: the agreement report (the same numbers as `annotator iaa`)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from annotator.db import get_db
from annotator.review.agreement import agreement_report
from annotator.review.agreement_formats import figure
from annotator.web.auth import curator_required

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _list(value: str | None) -> list[str] | None:
    return [x.strip() for x in value.split(",") if x.strip()] if value else None


@bp.get("/agreement")
@curator_required
def agreement():
    annotators, labels = _list(request.args.get("annotators")), _list(request.args.get("labels"))
    with get_db().reading() as session:
        try:
            report, error = agreement_report(session, annotators, labels), None
        except ValueError as exc:
            report, error = None, str(exc)
    return render_template(
        "reports/agreement.html",
        report=report,
        error=error,
        fmt=figure,
        link=lambda uid: url_for("curation.document", uid=uid),
        annotators=request.args.get("annotators", ""),
        labels=request.args.get("labels", ""),
    )
