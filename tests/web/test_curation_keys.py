"""Curation without the mouse, in Chromium: a curator moves to a conflict with j and rejects
it with x, takes annotator 2's version of the next with the key 2, accepts the open
agreement with a, and the gold layer in the database holds exactly that; the ? overlay
keeps focus inside and Escape closes it; axe-core finds nothing on the board with the
overlay open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.annotate.spans import add_span
from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.layers import find_layer
from annotator.models import GOLD, AuditEvent, Document, Span
from annotator.project import labels_of
from tests.conftest import seeded_copy, serving
from tests.helpers import add_user, browser_log_in
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)


@pytest.fixture(scope="module")
def keys_app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("curation-keys"), seeded_template)
    add_user(app, "chief", "curator")
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def keys_server(keys_app):
    with serving(keys_app) as url:
        yield url


def disagreeing_layers(app) -> Document:
    """amy and ben both mark ORG "Sophgo"; amy says "SC11 FP300" is a PRODUCT, ben an ORG;
    only amy marks "DeepSeek"."""
    labels = labels_of(app)
    with get_db(app).writing() as s:
        doc = (
            s.exec(select(Document).where(Document.text.contains("SC11 FP300")).order_by(Document.id)).scalars().first()
        )
        for name, label in (("amy", "PRODUCT"), ("ben", "ORG")):
            seen = 0
            marks = [("Sophgo", "ORG"), ("SC11 FP300", label)] + [("DeepSeek", "ORG")] * (name == "amy")
            for frag, lab in marks:
                start = doc.text.index(frag)
                seen = add_span(s, labels, doc, name, name, seen, start, start + len(frag), lab).layer.version
            set_status(s, doc, name, name, seen, "done")
    return doc


def focused_in(page: Page, selector: str) -> bool:
    return page.evaluate("(sel) => !!document.activeElement.closest(sel)", selector)


def test_a_conflict_resolved_by_keyboard_lands_in_gold(page: Page, keys_app, keys_server):
    doc = disagreeing_layers(keys_app)
    browser_log_in(page, keys_server, "chief")
    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(f"{keys_server}/curate/{doc.uid}")

    # the overlay: ? opens it with focus inside, Tab cannot leave it, Escape closes it
    page.locator("#cur-text").focus()
    page.keyboard.press("?")
    help_ = page.get_by_role("dialog", name="Curation keys")
    expect(help_).to_be_visible()
    assert focused_in(page, "#cur-help")
    for _ in range(4):
        page.keyboard.press("Tab")
        assert focused_in(page, "#cur-help"), "focus left the open overlay"
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(help_).to_be_hidden()
    assert focused_in(page, "#cur-text")  # back where it was

    # j: the first open conflict, amy's lone "DeepSeek", focused; ben has no version of it
    page.keyboard.press("j")
    current = page.locator("tr.cur-row.is-current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("aria-label", re.compile("^conflict: ORG “DeepSeek”"))
    assert focused_in(page, "tr.cur-row.is-current")
    page.keyboard.press("2")
    expect(page.locator("#cur-cursor")).to_have_text("ben has no version of this item")
    page.keyboard.press("x")  # keep it out of gold; the cursor moves to the next conflict
    expect(page.locator("#cur-message")).to_contain_text("DeepSeek")
    expect(page.locator("tr.cur-row.is-current")).to_have_attribute("aria-label", re.compile("SC11 FP300"))
    page.keyboard.press("2")  # ben's version of "SC11 FP300"
    expect(page.locator("#cur-message")).to_contain_text("Accepted ORG “SC11 FP300” from ben")
    expect(page.locator("#cur-conflict-count")).to_have_text("0")
    # no conflict left: the cursor moves on to the open agreement, and a accepts it
    expect(page.locator("tr.cur-row.is-current")).to_have_attribute("data-state", "agreed")
    page.keyboard.press("a")
    expect(page.locator("#cur-message")).to_contain_text("Accepted ORG “Sophgo”")
    expect(page.locator("#cur-open-count")).to_have_text("0")
    expect(page.locator("#cur-cursor")).to_have_text("Nothing left open")
    page.keyboard.press("9")  # no ninth annotator: said, nothing stored
    expect(page.locator("#cur-cursor")).to_have_text("There is no annotator 9")

    with get_db(keys_app).reading() as s:
        gold = find_layer(s, doc, GOLD)
        spans = s.exec(select(Span).where(Span.layer_id == gold.id).order_by(Span.start)).scalars().all()
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.layer_id == gold.id)).scalars().all()
    assert [(doc.text[x.start : x.end], x.label) for x in spans] == [("Sophgo", "ORG"), ("SC11 FP300", "ORG")]
    assert actions == ["reject", "accept", "accept"]

    # g: the gold workspace
    page.keyboard.press("g")
    page.wait_for_url(f"**/gold/{doc.uid}**")
