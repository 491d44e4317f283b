"""The agreement report as a table, CSV or HTML (JSON is the report itself)."""

from __future__ import annotations

import csv
import io
import re

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from annotator.config import resource_dir
from annotator.review.charts import charts

LISTED = 10  # documents in the "most disagreement" list (the histogram counts every one)


def figure(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def as_table(report: dict) -> str:
    lines = [
        f"Annotators: {', '.join(report['annotators'])}",
        f"Documents counted: {report['documents']} (marked done by two annotators or more; "
        f"{report['documents_done_by_fewer_than_two']} other document(s) left out); tokens: {report['tokens']}",
        "",
        report["note"],
        "",
    ]
    overall = report["overall"]
    lines.append(
        f"Fleiss' kappa {figure(overall['fleiss_kappa'])}"
        f"   Krippendorff's alpha {figure(overall['krippendorff_alpha'])}"
        f"   mean Cohen's kappa {figure(overall['cohen_kappa_mean'])}"
    )
    lines.append("")
    lines.append(f"{'pair':<24} {'kappa':>7} {'F1 exact':>9} {'F1 overlap':>11} {'rel F1':>7} {'claims':>8}")
    for pair in report["pairs"]:
        claims = pair["claims"]
        lines.append(
            f"{pair['a'] + ' / ' + pair['b']:<24} {figure(pair['cohen_kappa']):>7} "
            f"{figure(pair['span_f1']['exact']['micro']['f1']):>9} "
            f"{figure(pair['span_f1']['overlap']['micro']['f1']):>11} "
            f"{figure(pair['relation_f1']['f1']):>7} {figure(claims.get('f1_full')):>8}"
        )
    lines.append("")
    lines.append("Per label (span F1 exact / overlap, mean over pairs):")
    for label in report["labels"]:
        exact = [p["span_f1"]["exact"]["per_label"][label]["f1"] for p in report["pairs"]]
        overlap = [p["span_f1"]["overlap"]["per_label"][label]["f1"] for p in report["pairs"]]
        lines.append(f"  {label:<12} {figure(_mean(exact)):>7} / {figure(_mean(overlap))}")
    lines.append("")
    lines.append("Most disagreement (tokens on which annotators differ):")
    for doc in report["most_disagreement"]:
        lines.append(f"  {doc['id']}  {doc['tokens_disagreeing']:>5} of {doc['tokens']:<6} {doc['title'][:60]}")
    return "\n".join(lines)


def _mean(values):
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else None


def as_csv(report: dict) -> str:
    """One row per pair and label (label 'ALL' for micro averages)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "a",
            "b",
            "label",
            "cohen_kappa",
            "f1_exact",
            "f1_overlap",
            "matched_exact",
            "matched_overlap",
            "spans_a",
            "spans_b",
            "relation_f1",
            "claim_f1_full",
        ]
    )
    for pair in report["pairs"]:
        exact, overlap = pair["span_f1"]["exact"], pair["span_f1"]["overlap"]
        rows = [("ALL", exact["micro"], overlap["micro"])] + [
            (label, exact["per_label"][label], overlap["per_label"][label]) for label in report["labels"]
        ]
        for label, e, o in rows:
            writer.writerow(
                [
                    pair["a"],
                    pair["b"],
                    label,
                    pair["cohen_kappa"] if label == "ALL" else "",
                    e["f1"],
                    o["f1"],
                    e["matched"],
                    o["matched"],
                    e["a"],
                    e["b"],
                    pair["relation_f1"]["f1"] if label == "ALL" else "",
                    pair["claims"].get("f1_full") if label == "ALL" else "",
                ]
            )
    return out.getvalue()


def as_html(report: dict, days: list[dict] | None = None) -> str:
    """A standalone page: the web report's tables and charts with the app's style inlined,
    autoescaped. `report` made with top=None gives the histogram every document; `days`
    (charts.agreement_by_day) adds agreement over time."""
    env = Environment(loader=FileSystemLoader(str(resource_dir("templates"))), autoescape=True)
    return env.get_template("reports/agreement_file.html").render(
        report=report, charts=charts(report, days), listed=LISTED, fmt=figure, mean=_mean, styles=_styles()
    )


def _styles() -> Markup:
    """app.css's variables and reports.css, for a file that has no server to fetch them from."""
    static = resource_dir("static") / "css"
    app_css = (static / "app.css").read_text(encoding="utf-8")
    variables = re.search(r":root\s*\{[^}]*\}", app_css)
    return Markup(
        (variables.group(0) if variables else "") + "\n" + (static / "reports.css").read_text(encoding="utf-8")
    )
