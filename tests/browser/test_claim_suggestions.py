"""Suggested claims and relations in Chromium, by keyboard, each checked against what the
database stored: accept a whole claim (its spans with it), reject one, accept a relation,
correct a claim in the pre-filled form; axe-core on the page with pending claims listed.

The module runs its own server over a copy of the seeded project; each test annotates
under its own name, so its layer starts empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.models import Claim, Document, Layer, LinkDecision, Relation, Span
from tests.conftest import seeded_copy, serving
from tests.helpers import browser_log_in, give
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("claim-suggestions"), seeded_template)
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def doc(app) -> Document:
    """The seed article with "256 gigabytes of high-bandwidth memory"."""
    with get_db(app).reading() as s:
        return s.exec(select(Document).where(Document.text.contains("256 gigabytes"))).scalars().first()


def open_workspace(page: Page, app, server: str, name: str, uid: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    give(app, name)
    browser_log_in(page, server, name)
    page.goto(f"{server}/annotate/{uid}")
    expect(page.locator("#ws-claim-sugg .ws-pending").first).to_be_visible()
    page.wait_for_function("() => window.WSKeys && window.WSSave && WSKeys.ready()")


def saved(page: Page) -> None:
    page.wait_for_function("() => WSSave.pending() === 0")


def go_to(page: Page, text: str, kind: str, key: str = "s", limit: int = 40) -> None:
    """Press `key` (s: next, S: previous) until the current item is the suggested claim (c) or
    relation (l) reading `text`."""
    for _ in range(limit):
        if page.evaluate("[WSKeys.currentText(), WSKeys.current() && WSKeys.current().kind]") == [text, kind]:
            return
        page.keyboard.press(key)
    raise AssertionError(f"never reached the suggested {text!r}")


def layer_rows(app, name: str, model) -> list:
    with get_db(app).reading() as s:
        query = select(model).join(Layer, model.layer_id == Layer.id).where(Layer.name == name)
        return s.exec(query.order_by(model.id)).scalars().all()


def claim_texts(app, name: str, text: str) -> list[tuple]:
    spans = {s.id: text[s.start : s.end] for s in layer_rows(app, name, Span)}
    return [
        (spans[c.quantity_id], spans.get(c.entity_id), spans.get(c.property_id), c.property_text)
        for c in layer_rows(app, name, Claim)
    ]


def test_accept_and_reject_suggested_claims_and_a_relation_by_keyboard(page: Page, app, server, doc):
    name = "claimtaker"
    open_workspace(page, app, server, name, doc.uid)
    go_to(page, "256 gigabytes", "c")
    quantity = doc.text.index("256 gigabytes")
    expect(page.locator(f'#doc-text mark.cur[data-start="{quantity}"]')).to_have_count(1)  # its parts lit
    expect(page.locator("#ws-claim-sugg .ws-pending.cur")).to_contain_text("suggested")
    expect(page.locator("#ws-current")).to_contain_text("suggested claim")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "workspace-suggested-claim.png"))
    assert_accessible(page)

    page.keyboard.press("a")
    saved(page)
    expect(page.locator("#ws-status")).to_contain_text(
        "Claim on 256 gigabytes accepted: entity FP300, property high-bandwidth memory"
    )
    assert claim_texts(app, name, doc.text) == [("256 gigabytes", "FP300", "high-bandwidth memory", None)]
    labels = sorted(s.label for s in layer_rows(app, name, Span))
    assert labels == ["PRODUCT", "PROPERTY", "QUANTITY"]
    expect(page.locator(f'#doc-text mark.is-span.has-claim[data-start="{quantity}"]')).to_have_count(1)
    expect(page.locator("#ws-claims .ws-claim")).to_have_count(1)

    following = page.evaluate("WSKeys.current()")  # the cursor moved on to the next suggested claim
    assert following["kind"] == "c"
    page.keyboard.press("x")
    saved(page)
    decisions = layer_rows(app, name, LinkDecision)
    assert [(d.claim_suggestion_id, d.decision) for d in decisions][-1] == (int(following["key"][1:]), "rejected")
    assert len(layer_rows(app, name, Claim)) == 1
    expect(page.locator(f'#ws-claims [data-suggested="{following["key"]}"]')).to_have_count(0)

    go_to(page, "Sophgo → MAKES → SC11 FP300", "l", key="S")  # earlier in the text
    page.keyboard.press("Enter")
    saved(page)
    expect(page.locator("#ws-status")).to_contain_text("Relation Sophgo → MAKES → SC11 FP300 accepted")
    spans = {s.id: doc.text[s.start : s.end] for s in layer_rows(app, name, Span)}
    assert [(spans[r.head_id], r.label, spans[r.child_id]) for r in layer_rows(app, name, Relation)] == [
        ("Sophgo", "MAKES", "SC11 FP300")
    ]


def test_correct_a_suggested_claim_in_the_prefilled_form(page: Page, app, server, doc):
    name = "corrector"
    open_workspace(page, app, server, name, doc.uid)
    go_to(page, "256 gigabytes", "c")
    page.keyboard.press("Shift+C")
    form = page.locator("#claim-form")
    expect(form).to_contain_text("Correct the suggested claim")
    expect(page.locator("#cf-value")).to_be_focused()
    expect(page.locator("#cf-value")).to_have_value("256")
    expect(page.locator("#cf-entity_id option:checked")).to_have_text("FP300 · PRODUCT")
    expect(page.locator("#cf-property_id option:checked")).to_have_text("high-bandwidth memory · PROPERTY")
    page.screenshot(path=str(SHOTS / "workspace-correct-claim.png"))
    assert_accessible(page)  # the form, and the page after a write
    page.locator("#cf-property_id").select_option(label="— none —")
    page.locator("#cf-property-text").fill("memory capacity")
    page.keyboard.press("Enter")
    saved(page)
    expect(page.locator("#claim-form")).to_have_count(0)
    expect(page.locator("#ws-status")).to_contain_text("Saved the claim")
    assert claim_texts(app, name, doc.text) == [("256 gigabytes", "FP300", None, "memory capacity")]
