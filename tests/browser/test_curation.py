"""Curation in Chromium: a curator opens a document two annotators disagree on, accepts one
version of the conflicting span, marks gold done, and the database holds that gold layer.

The module runs its own server over a copy of the seeded project, so the shared live server
never sees these layers. Screenshots go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.annotate.spans import add_span
from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.layers import find_layer
from annotator.models import GOLD, AuditEvent, Document, Span
from annotator.project import labels_of
from annotator.review.comparison import compare
from tests.conftest import seeded_copy, serving
from tests.helpers import add_user, browser_log_in

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def cur_app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("curation"), seeded_template)
    add_user(app, "chief", "curator")
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def cur_server(cur_app):
    with serving(cur_app) as url:
        yield url


def two_layers(app) -> Document:
    """amy and ben agree on ORG "Sophgo" and disagree on the label of "SC11 FP300"; both done."""
    labels = labels_of(app)
    with get_db(app).writing() as s:
        doc = (
            s.exec(select(Document).where(Document.text.contains("SC11 FP300")).order_by(Document.id)).scalars().first()
        )
        for name, label in (("amy", "PRODUCT"), ("ben", "ORG")):
            seen = 0
            for frag, lab in (("Sophgo", "ORG"), ("SC11 FP300", label)):
                start = doc.text.index(frag)
                seen = add_span(s, labels, doc, name, name, seen, start, start + len(frag), lab).layer.version
            set_status(s, doc, name, name, seen, "done")
    return doc


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_curator_accepts_a_conflicting_span_and_marks_gold_done(page: Page, cur_app, cur_server):
    doc = two_layers(cur_app)
    browser_log_in(page, cur_server, "chief")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{cur_server}/curate/")
    page.get_by_role("link", name="Curate").first.click()
    expect(page.locator("#cur-message")).to_contain_text("1 item every compared annotator agrees on")
    page.get_by_role("button", name="Pre-accept agreements (1)").click()
    expect(page.locator("#cur-message")).to_contain_text("Pre-accepted 1 span")
    with get_db(cur_app).reading() as s:
        product = next(i for i in compare(s, doc).items if i.kind == "span" and i.ident[2] == "PRODUCT")
    row = page.locator(f"tr.cur-row[data-key='{product.key}']")
    expect(row).to_have_class(re.compile(r"\bstate-conflict is-open\b"))  # highlighted as an open conflict
    expect(row.locator(".cur-has")).to_have_count(1)  # amy's version only
    shoot(page, "curation-conflict.png")
    row.get_by_role("button", name="Accept").click()
    expect(page.locator("#cur-message")).to_contain_text("Accepted PRODUCT “SC11 FP300” from amy")
    expect(row.locator(".cur-decision")).to_have_text("✓ in gold")
    expect(page.locator("#cur-open-count")).to_have_text("0")
    expect(page.locator("#cur-text mark.cur-gold")).to_have_count(2)
    page.get_by_role("button", name="Mark gold done").click()
    expect(page.locator("#cur-gold-status")).to_have_text("done")
    expect(page.get_by_role("button", name="Reopen gold")).to_be_visible()
    shoot(page, "curation-done.png")

    with get_db(cur_app).reading() as s:
        gold = find_layer(s, doc, GOLD)
        spans = s.exec(select(Span).where(Span.layer_id == gold.id).order_by(Span.start)).scalars().all()
        events = (
            s.exec(select(AuditEvent).where(AuditEvent.layer_id == gold.id).order_by(AuditEvent.id)).scalars().all()
        )
    assert gold.status == "done" and gold.version == 3
    assert [(doc.text[x.start : x.end], x.label) for x in spans] == [("Sophgo", "ORG"), ("SC11 FP300", "PRODUCT")]
    assert [(e.user, e.action) for e in events] == [
        ("chief", "pre_accept"),
        ("chief", "accept"),
        ("chief", "set_status"),
    ]
