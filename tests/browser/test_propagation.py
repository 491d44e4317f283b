"""Propagation and the gazetteer in Chromium, keyboard only, checked against the database:
an annotator marks a word, is offered its other places, confirms them all with E (one undo
takes them back) and is told the gazetteer is for curators; a curator adds a name with G.
axe-core runs once, on the page with the offer in the status line.

The module runs its own server over a copy of the seeded project; each test annotates
under its own name, so its layer starts empty.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.annotate.propagation import occurrences
from annotator.db import get_db
from annotator.models import AuditEvent, Document, GazetteerName, Layer, Span, Suggestion
from tests.conftest import seeded_copy, serving
from tests.helpers import add_user, browser_log_in, give
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)

NAME = "DeepSeek"


@pytest.fixture(scope="module")
def app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("propagation"), seeded_template)
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def doc(app) -> Document:
    """The seed article that opens with "DeepSeek" and names it many times."""
    with get_db(app).reading() as s:
        return s.exec(select(Document).where(Document.text.startswith(f"{NAME} 'is developing"))).scalars().one()


def open_workspace(page: Page, server: str, name: str, uid: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    browser_log_in(page, server, name)
    page.goto(f"{server}/annotate/{uid}")
    expect(page.locator("#doc-text")).to_be_visible()
    page.wait_for_function("() => window.WSKeys && window.WSSave && WSKeys.ready()")


def press(page: Page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)
    page.wait_for_function("() => WSSave.pending() === 0")


def mark_first_word(page: Page) -> None:
    """w selects the text's first word, o marks it ORG."""
    press(page, "w")  # the step waits for the server's tokens the first time
    assert page.evaluate("() => window.getSelection().toString()") == NAME
    press(page, "o")


def spans(app, name: str, doc: Document) -> list[tuple]:
    with get_db(app).reading() as s:
        rows = s.exec(
            select(Span.start, Span.end, Span.label)
            .join(Layer, Span.layer_id == Layer.id)
            .where(Layer.name == name, Layer.document_id == doc.id)
            .order_by(Span.start)
        ).all()
    return [(doc.text[a:b], a, label) for a, b, label in rows]


def test_confirm_a_name_everywhere_by_keyboard_with_one_undo(page: Page, app, server, doc):
    name = "spreader"
    give(app, name)
    open_workspace(page, server, name, doc.uid)
    places = occurrences(doc.text, NAME, doc.tokens)
    assert len(places) > 2
    mark_first_word(page)
    status = page.locator("#ws-status")
    expect(status).to_contain_text(f"“{NAME}” appears {len(places) - 1} more times: press E to confirm them all")
    expect(status.get_by_role("button", name=f"Confirm all {len(places) - 1}")).to_be_visible()
    bar = page.locator("#ws-current")  # the mouse's way: buttons on the current span's line
    expect(bar.get_by_role("button", name="Confirm everywhere")).to_be_visible()
    expect(bar.get_by_role("button", name="Add to gazetteer")).to_have_count(0)
    assert_accessible(page)

    press(page, "Shift+E")
    expect(status).to_contain_text(f"Confirmed ORG “{NAME}” at {len(places) - 1} more places in this document")
    assert spans(app, name, doc) == [(NAME, a, "ORG") for a, _ in places]
    expect(page.locator("#doc-text mark.is-span")).not_to_have_count(0)
    with get_db(app).reading() as s:
        query = select(Suggestion.document_id).where(Suggestion.pipeline == "propagation", Suggestion.label == "ORG")
        others = set(s.exec(query).scalars())
    assert others and doc.id not in others  # suggested in other documents (where not suggested already)

    press(page, "u")
    expect(status).to_contain_text(f"Undid propagate “{NAME}”")
    assert spans(app, name, doc) == [(NAME, 0, "ORG")]

    press(page, "Shift+G")  # the gazetteer is the curators'
    expect(status).to_contain_text("Only curators and admins add names to the gazetteer")
    with get_db(app).reading() as s:
        assert s.exec(select(GazetteerName)).scalars().all() == []


def test_a_curator_adds_a_name_to_the_gazetteer_with_one_key(page: Page, app, server, doc):
    name = "keeper"
    add_user(app, name, "curator")
    open_workspace(page, server, name, doc.uid)
    mark_first_word(page)
    assert page.evaluate("WSKeys.current().kind") == "s"
    expect(page.locator("#ws-current").get_by_role("button", name="Add to gazetteer")).to_be_visible()
    press(page, "Shift+G")
    expect(page.locator("#ws-status")).to_contain_text(f"Added ORG “{NAME}” to the gazetteer")
    with get_db(app).reading() as s:
        names = [(g.label, g.text, g.added_by) for g in s.exec(select(GazetteerName)).scalars()]
        events = s.exec(select(AuditEvent.user).where(AuditEvent.action == "add_gazetteer_name")).scalars().all()
    assert names == [("ORG", NAME, name)] and events == [name]
