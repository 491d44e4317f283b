"""Reports for curators: the agreement report (the same numbers as `annotator iaa`), with
its charts (review/charts.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from annotator.db import get_db
from annotator.review.agreement import agreement_report
from annotator.review.agreement_formats import LISTED, figure
from annotator.review.charts import agreement_by_day, charts
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
            # every document (top=None): the histogram counts them all; the list shows LISTED
            report, error = agreement_report(session, annotators, labels, top=None), None
            pictures = charts(report, agreement_by_day(session, annotators, labels))
        except ValueError as exc:
            report, error, pictures = None, str(exc), None
    return render_template(
        "reports/agreement.html",
        report=report,
        charts=pictures,
        listed=LISTED,
        error=error,
        fmt=figure,
        link=lambda uid: url_for("curation.document", uid=uid),
        annotators=request.args.get("annotators", ""),
        labels=request.args.get("labels", ""),
    )
