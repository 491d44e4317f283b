"""The agreement charts from a small hand-made two-annotator corpus: every number in the
pictures worked out by hand, labels escaped, colours with enough contrast, and the CLI's
`iaa --format html` drawing the same SVG as the web page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import select

from annotator.annotate.status import set_status
from annotator.config import resource_dir
from annotator.db import get_db
from annotator.layers import find_layer
from annotator.models import Document, Layer, Span
from annotator.review.agreement import agreement_report
from annotator.review.agreement_formats import as_html, figure
from annotator.review.charts import HEAT, agreement_by_day, bin_of, charts, contrast, ink
from annotator.tokens import pack

ODD = "<i>X</i>"  # a label that must come out as text, never as markup
# (uid, text, amy's spans, ben's spans, day amy marked done, day ben did)
DOCS = [
    ("docA", "Nvidia makes H100", [(0, 6, "ORG"), (13, 17, "PRODUCT")], [(0, 6, "ORG"), (13, 17, "PRODUCT")], 1, 1),
    (
        "docB",
        "Huawei makes Ascend chips",
        [(0, 6, "ORG"), (13, 25, "PRODUCT")],
        [(0, 6, "ORG"), (13, 19, "PRODUCT")],
        2,
        2,
    ),
    ("docC", "Sophgo ships FP300", [(0, 6, "ORG")], [(0, 6, ODD)], 2, 3),
]


def hand_made(app) -> None:
    """Three documents amy and ben both marked done, on 1, 2 and 3 January 2026."""
    with get_db(app).writing() as s:
        for uid, text, amy, ben, amy_day, ben_day in DOCS:
            tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
            doc = Document(uid=uid, text=text, lang="en", title=f"title {uid}", n_chars=len(text), tokens=pack(tokens))
            s.add(doc)
            s.flush()
            for name, spans, day in (("amy", amy, amy_day), ("ben", ben, ben_day)):
                layer = Layer(
                    document_id=doc.id, name=name, status="done", updated_at=datetime(2026, 1, day, 12, tzinfo=UTC)
                )
                s.add(layer)
                s.flush()
                s.add_all(Span(layer_id=layer.id, start=a, end=b, label=lab) for a, b, lab in spans)


def test_chart_figures_by_hand(any_app):
    app = any_app  # SQLite and PostgreSQL
    hand_made(app)
    with get_db(app).reading() as s:
        report = agreement_report(s, top=None)
        days = agreement_by_day(s)
    pictures = charts(report, days)
    cells = {(c["row"], c["col"]): c["count"] for c in pictures["heatmap"]["cells"] if c["count"]}
    assert cells == {("O", "O"): 4, ("ORG", "ORG"): 2, ("PRODUCT", "PRODUCT"): 2, ("PRODUCT", "O"): 1, ("ORG", ODD): 1}
    bars = {r["label"]: (r["exact"], r["overlap"]) for r in pictures["bars"]["rows"]}
    assert bars == {"ORG": (0.8, 0.8), "PRODUCT": (0.5, 1.0), ODD: (0.0, 0.0)}
    counted = {b["name"]: [d["id"] for d in b["docs"]] for b in pictures["histogram"]["bars"] if b["count"]}
    assert counted == {"none": ["docA"], "20–30%": ["docB"], "30–40%": ["docC"]}
    assert [(d["day"], d["documents"], d["exact"], d["overlap"]) for d in days] == [
        ("2026-01-01", 1, 1.0, 1.0),
        ("2026-01-02", 1, 0.5, 1.0),
        ("2026-01-03", 1, 0.0, 0.0),  # docC counts when ben, the later one, marked it done
    ]


@pytest.mark.parametrize(
    ("differ", "tokens", "expected"), [(0, 10, 0), (1, 10, 1), (2, 10, 2), (21, 100, 3), (10, 10, 10), (0, 0, 0)]
)
def test_histogram_bins(differ, tokens, expected):
    assert bin_of({"tokens_disagreeing": differ, "tokens": tokens}) == expected


def test_colours_have_enough_contrast():
    for fill in HEAT:
        assert contrast(ink(fill), fill) >= 4.5, fill  # the count written on each cell
    for mark in ("#2457c5", "#8a3b00", "#5f636b"):  # bars and lines (exact, overlap), axes
        assert contrast(mark, "#ffffff") >= 3.0


def svg_blocks(html: str) -> list[str]:
    return re.findall(r"<svg viewBox.*?</svg>", html, flags=re.S)


def test_cli_html_draws_the_same_charts_as_the_page(app, cli, tmp_path):
    from tests.helpers import curator

    hand_made(app)
    out = tmp_path / "iaa.html"
    result = cli("iaa", "--db", app.config["DATABASE_URL"], "--format", "html", "--out", out)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert ODD not in html and "&lt;i&gt;X&lt;/i&gt;" in html
    assert 'data-row="PRODUCT" data-col="O" data-count="1"' in html
    assert 'data-label="PRODUCT" data-exact="0.500" data-overlap="1.000"' in html
    assert 'data-day="2026-01-02" data-documents="1" data-exact="0.500" data-overlap="1.000"' in html
    assert "--accent" in html and ".bar-exact" in html  # the app's style, inlined
    page = curator(app).get("/reports/agreement").get_data(as_text=True)
    strip_links = lambda text: re.sub(r"</?a\b[^>]*>", "", text)  # noqa: E731 - only the page links documents
    assert [strip_links(s) for s in svg_blocks(page)] == svg_blocks(html) and len(svg_blocks(html)) == 4


def test_as_html_without_days_leaves_the_timeline_out(app):
    hand_made(app)
    with get_db(app).reading() as s:
        html = as_html(agreement_report(s, top=None))
    assert len(svg_blocks(html)) == 3 and "chart-time" not in html


def test_the_day_is_when_the_done_mark_was_set_not_a_later_change(app, labels):
    """A layer marked done through the workspace's status write: its audit event dates it,
    whatever touched the layer afterwards."""
    hand_made(app)
    with get_db(app).writing() as s:
        doc = s.exec(select(Document).where(Document.uid == "docA")).scalar_one()
        layer = find_layer(s, doc, "ben")
        layer.status = "in_progress"
        s.add(layer)
        s.flush()
        set_status(s, doc, "ben", "ben", layer.version, "done")
        s.flush()
        marked = find_layer(s, doc, "ben")
        marked.updated_at = datetime(2030, 5, 5, tzinfo=UTC)  # a later change that is not a done mark
        s.add(marked)
    with get_db(app).reading() as s:
        days = {d["day"]: d["documents"] for d in agreement_by_day(s)}
    today = datetime.now(UTC).date().isoformat()
    assert days == {today: 1, "2026-01-02": 1, "2026-01-03": 1}


def test_a_bar_of_several_documents_leads_to_their_list(app):
    hand_made(app)
    with get_db(app).reading() as s:
        report = agreement_report(s, top=None)
    report["most_disagreement"][0]["tokens_disagreeing"] = 0  # docB joins docA in "none"
    env = Environment(loader=FileSystemLoader(str(resource_dir("templates"))), autoescape=True)
    html = env.get_template("reports/_charts.html").render(
        charts=charts(report, None), fmt=figure, link=lambda uid: f"/curate/{uid}"
    )
    assert 'href="#dis-bin-0" aria-label="none: 2 documents, list them"' in html
    assert 'href="/curate/docC" aria-label="30–40%: 1 document, curate it"' in html
    row = re.search(r'<tr id="dis-bin-0">.*?</tr>', html, flags=re.S).group(0)
    assert 'href="/curate/docA"' in row and 'href="/curate/docB"' in row
