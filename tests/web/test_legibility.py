"""Legibility and access in Chromium, on the pages of curators and admins: axe-core (WCAG 2.1
AA) finds nothing at 100 % and at 200 % zoom (a 640 px wide window), no page scrolls sideways
there and "Log out" stays on screen; marks say their label to screen readers (not in a hover
tooltip); punctuation after a mark stays on its line; the current-item ring covers no
neighbouring letter."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.annotate.spans import add_span
from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.models import Document
from annotator.project import labels_of
from tests.conftest import seeded_copy, serving
from tests.helpers import add_user, browser_log_in
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)

LONG_TITLE = "Sophgo" + "-and-its-SC11-FP300" * 12  # one unbroken word far wider than the window


@pytest.fixture(scope="module")
def legible(tmp_path_factory, seeded_template):
    """A seeded project with an admin, two done layers on one document and a long title."""
    app = seeded_copy(tmp_path_factory.mktemp("legibility"), seeded_template)
    add_user(app, "root", "admin")
    labels = labels_of(app)
    with get_db(app).writing() as s:
        doc = (
            s.exec(select(Document).where(Document.text.contains("SC11 FP300")).order_by(Document.id)).scalars().first()
        )
        doc.meta = {**(doc.meta or {}), "title": LONG_TITLE}
        s.add(doc)
        for name, label in (("amy", "PRODUCT"), ("ben", "ORG")):
            start = doc.text.index("SC11 FP300")
            seen = add_span(s, labels, doc, name, name, 0, start, start + 10, label).layer.version
            set_status(s, doc, name, name, seen, "done")
        uid = doc.uid
    with serving(app) as url:
        yield app, url, uid
    get_db(app).dispose()


def too_wide(page: Page) -> list[str]:
    """The innermost elements reaching past the window's right edge (for the failure message)."""
    return page.evaluate("""() => { const out = e => e.getBoundingClientRect().right > innerWidth + 1;
        return [...document.querySelectorAll('body *')].filter(e => out(e) && ![...e.children].some(out))
        .slice(0, 6).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)); }""")


def pages(uid: str) -> list[str]:
    return ["/", f"/documents/{uid}", "/curate/", f"/curate/{uid}", "/users/", "/assignments/"]


@pytest.mark.parametrize("width", [1280, 640], ids=["100%", "200%"])
def test_pages_pass_axe_and_never_scroll_sideways(page: Page, legible, width):
    app, url, uid = legible
    page.set_viewport_size({"width": width, "height": 800})
    browser_log_in(page, url, "root")
    for path in pages(uid):
        page.goto(url + path)
        page.wait_for_load_state("load")
        assert_accessible(page)
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert sizes[0] <= sizes[1], f"{path} scrolls sideways at {width} px: {sizes}, {too_wide(page)}"
        logout = page.get_by_role("button", name="Log out")
        box = logout.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{path}: Log out off screen {box}"


def test_marks_say_their_label_and_keep_punctuation_on_their_line(page: Page, legible):
    app, url, uid = legible
    browser_log_in(page, url, "root")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{url}/documents/{uid}")
    org = page.locator('#doc-text mark[data-labels="ORG"]').first
    # the accessible text of the mark starts with its label and state, then its own text
    tree = page.locator("#doc-text").aria_snapshot()
    assert re.search(rf'mark: "?ORG suggestion: ?{re.escape(org.text_content())}"?\n', tree), tree[:400]
    # the text itself is unchanged: the words are generated content, not characters
    with get_db(app).reading() as s:
        text = s.exec(select(Document.text).where(Document.uid == uid)).scalars().one()
    assert page.locator("#doc-text").text_content() == text
    # a mark followed by punctuation shares a nowrap box with it
    glued = page.locator("#doc-text .nw").first
    expect(glued).to_have_count(1)
    tail = glued.evaluate("n => n.lastChild.textContent")
    assert tail and not tail[0].isalnum() and not tail[0].isspace()
    assert glued.evaluate("n => getComputedStyle(n).textWrapMode") == "nowrap"
    # the curation text says whether a stretch is in gold or open
    page.goto(f"{url}/curate/{uid}")
    assert "PRODUCT open conflict" in page.locator("#cur-text").aria_snapshot()


def test_the_current_ring_stays_inside_the_mark(page: Page, legible):
    app, url, uid = legible
    browser_log_in(page, url, "root")
    page.goto(f"{url}/curate/{uid}")
    page.locator("#cur-text").focus()
    page.keyboard.press("j")
    here = page.locator("#cur-text mark.cur-here").first
    expect(here).to_be_visible()
    style = here.evaluate("m => { const s = getComputedStyle(m); return [s.outlineStyle, s.boxShadow]; }")
    assert style[0] == "none" and "inset" in style[1]
