"""The workspace's fastest keyboard path in Chromium, checked against what the database stores:
find in the text ("/"), word steps by the server's tokens, jumping to a label's next pending
suggestion, the claim form by keyboard, and messages and questions that tell the truth.

One server over a copy of the seeded project for the module; each test annotates under its
own name, so its layer starts empty.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.annotate.spans import add_span
from annotator.db import get_db
from annotator.models import Claim, Document, Layer, Span, SuggestionDecision
from annotator.project import labels_of
from tests.conftest import seeded_copy, serving
from tests.helpers import browser_log_in, give, log_in

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)

BULK_LIMIT = 5  # CONFIRM_BULK_OVER for this module: the seed articles have more pending than this


@pytest.fixture(scope="module")
def keys_app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("keys"), seeded_template)
    app.config["CONFIRM_BULK_OVER"] = BULK_LIMIT
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def keys_server(keys_app):
    with serving(keys_app) as url:
        yield url


@pytest.fixture(scope="module")
def sophgo(keys_app) -> Document:
    with get_db(keys_app).reading() as s:
        return s.exec(select(Document).where(Document.text.contains("256 gigabytes"))).scalars().one()


def layer_of(app, name: str, uid: str) -> Layer | None:
    with get_db(app).reading() as s:
        query = select(Layer).join(Document).where(Document.uid == uid, Layer.name == name)
        return s.exec(query).scalars().first()


def spans_of(app, name: str, doc: Document) -> list[tuple[int, int, str, str]]:
    layer = layer_of(app, name, doc.uid)
    if layer is None:
        return []
    with get_db(app).reading() as s:
        rows = s.exec(select(Span).where(Span.layer_id == layer.id).order_by(Span.start)).scalars().all()
    return [(r.start, r.end, r.label, doc.text[r.start : r.end]) for r in rows]


def rows_of(app, name: str, doc: Document, model) -> list:
    layer = layer_of(app, name, doc.uid)
    with get_db(app).reading() as s:
        return s.exec(select(model).where(model.layer_id == layer.id)).scalars().all() if layer else []


def mark(app, name: str, doc: Document, phrase: str, label: str, nth: int = 0) -> int:
    """A span stored through the service, as if made earlier; its id."""
    start = -1
    for _ in range(nth + 1):
        start = doc.text.index(phrase, start + 1)
    with get_db(app).writing() as s:
        layer = s.exec(select(Layer).where(Layer.document_id == doc.id, Layer.name == name)).scalars().first()
        out = add_span(
            s, labels_of(app), doc, name, name, layer.version if layer else 0, start, start + len(phrase), label
        )
        return out.ids[0]


def open_doc(page: Page, app, server: str, name: str, doc: Document) -> list[str]:
    """Log in as annotator `name` and open `doc`; the list collects the console's errors."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 900})
    give(app, name)
    browser_log_in(page, server, name)
    page.goto(f"{server}/annotate/{doc.uid}")
    page.wait_for_function("() => window.WSKeys && WSKeys.ready()")
    return errors


def settled(page: Page) -> None:
    page.wait_for_function("() => WSSave.pending() === 0")
    expect(page.locator("#ws-save")).not_to_have_attribute("data-state", "saving")


def select_text(page: Page, doc: Document, phrase: str, nth: int = 0, within: str = "") -> None:
    start = doc.text.index(within) - 1 if within else -1
    for _ in range(nth + 1):
        start = doc.text.index(phrase, start + 1)
    page.evaluate(
        "([a, b]) => WSOffsets.selectOffsets(document.getElementById('doc-text'), a, b)", [start, start + len(phrase)]
    )


SELECTED = "() => (WSOffsets.selectionOffsets(document.getElementById('doc-text')) || {}).text"


def until_selected(page: Page, test) -> str:
    """Wait until the text selection passes `test` (word steps answer after a token fetch)."""
    for _ in range(100):
        got = page.evaluate(SELECTED)
        if got is not None and test(got):
            return got
        page.wait_for_timeout(50)
    raise AssertionError(f"the selection is {page.evaluate(SELECTED)!r}")


def selected(page: Page) -> str | None:
    got = page.evaluate("() => WSOffsets.selectionOffsets(document.getElementById('doc-text'))")
    return got and got["text"]


# --- reaching text ------------------------------------------------------------------------------


def test_find_marks_the_current_match_then_every_match(page: Page, keys_app, keys_server, sophgo):
    open_doc(page, keys_app, keys_server, "finder", sophgo)
    total = sophgo.text.count("FP300")
    page.keyboard.press("/")
    expect(page.locator("#ws-find-input")).to_be_focused()
    page.keyboard.type("fp300")  # case does not matter
    expect(page.locator("#ws-find-count")).to_have_text(f"1 of {total}")
    page.keyboard.press("Enter")
    expect(page.locator("#ws-find-count")).to_have_text(f"2 of {total}")
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")  # wraps round to the last
    expect(page.locator("#ws-find-count")).to_have_text(f"{total} of {total}")
    page.keyboard.press("Escape")
    assert selected(page) == "FP300"
    page.keyboard.press("h")  # PRODUCT: one key marks the current match
    settled(page)
    last = sophgo.text.rindex("FP300")
    assert spans_of(keys_app, "finder", sophgo) == [(last, last + 5, "PRODUCT", "FP300")]

    page.keyboard.press("/")
    expect(page.locator("#ws-find-input")).to_have_value("fp300")  # the query is kept
    page.keyboard.press("Escape")
    page.keyboard.press("Alt+h")  # every match, the one already marked passed over
    settled(page)
    expect(page.locator("#ws-status")).to_contain_text(f"Marked {total - 1} matches PRODUCT (1 already marked)")
    stored = spans_of(keys_app, "finder", sophgo)
    assert [t for *_, t in stored] == ["FP300"] * total
    assert {label for _, _, label, _ in stored} == {"PRODUCT"}


def test_word_steps_move_by_the_stored_tokens(page: Page, keys_app, keys_server, sophgo):
    open_doc(page, keys_app, keys_server, "stepper", sophgo)
    select_text(page, sophgo, "high")
    page.keyboard.press("Shift+ArrowRight")
    until_selected(page, lambda t: t != "high")
    assert selected(page) == "high-bandwidth"  # the hyphen is no stop
    page.keyboard.press("Shift+ArrowRight")
    until_selected(page, lambda t: t.endswith("memory"))
    page.keyboard.press("Shift+ArrowLeft")
    until_selected(page, lambda t: t == "high-bandwidth")
    expect(page.locator("#ws-status")).to_contain_text("Selected “high-bandwidth”")
    page.keyboard.press("r")
    settled(page)
    at = sophgo.text.index("high-bandwidth")
    assert spans_of(keys_app, "stepper", sophgo) == [(at, at + 14, "PROPERTY", "high-bandwidth")]

    select_text(page, sophgo, "DeepSeek", within="DeepSeek’s R1")
    page.keyboard.press("w")  # the next word, not "DeepSeek’s" again
    until_selected(page, lambda t: t == "R1")
    select_text(page, sophgo, "DeepSeek", within="DeepSeek’s R1")
    page.keyboard.press("Shift+ArrowRight")  # growing takes the clitic, as the server stores it
    until_selected(page, lambda t: t == "DeepSeek’s")
    page.keyboard.press("b")
    until_selected(page, lambda t: t != "DeepSeek’s")
    assert selected(page) == "of"  # "tasks of DeepSeek’s R1"


def test_f_and_a_label_key_reach_that_labels_next_suggestion(page: Page, keys_app, keys_server, sophgo):
    open_doc(page, keys_app, keys_server, "seeker", sophgo)
    presses = 0
    while page.evaluate("() => WSKeys.currentText()") != "256 gigabytes":
        page.keyboard.press("f")
        page.keyboard.press("q")
        presses += 2
        current = page.evaluate("() => WSKeys.current()")
        assert current["kind"] == "g" and current["label"] == "QUANTITY"
        assert presses < 12, "256 gigabytes is the document's first few quantities"
    page.keyboard.press("a")
    settled(page)
    at = sophgo.text.index("256 gigabytes")
    assert (at, at + 13, "QUANTITY", "256 gigabytes") in spans_of(keys_app, "seeker", sophgo)
    page.keyboard.press("f")
    page.keyboard.press("q")
    ahead = page.evaluate("() => WSKeys.current()")
    assert ahead["label"] == "QUANTITY" and ahead["start"] > at
    page.keyboard.press("F")
    page.keyboard.press("q")  # back: the accepted one is no suggestion any more
    back = page.evaluate("() => WSKeys.current()")
    if presses == 2:  # it was the first: nothing pending before it
        assert back == ahead
        expect(page.locator("#ws-status")).to_contain_text("No more pending QUANTITY suggestions before")
    else:
        assert back["label"] == "QUANTITY" and back["start"] < at
    page.keyboard.press("f")
    page.keyboard.press("1")  # no label has that key: said, nothing stored
    expect(page.locator("#ws-status")).to_contain_text("no label key")
    assert len(spans_of(keys_app, "seeker", sophgo)) == 1


# --- the claim form by keyboard -----------------------------------------------------------------


def test_claim_form_presets_the_sentences_entity_and_saves_with_enter_on_a_select(
    page: Page, keys_app, keys_server, sophgo
):
    name = "claimer"
    give(keys_app, name)
    text = sophgo.text
    quantity_at = text.index("256 gigabytes")
    # "... within the FP300 compute card, which was initially released last year. This card features 256 gigabytes"
    fp300 = mark(keys_app, name, sophgo, "FP300", "PRODUCT", nth=text[:quantity_at].count("FP300") - 1)
    card = mark(keys_app, name, sophgo, "card", "ENTITY", nth=text[:quantity_at].count("card") - 1)
    quantity = mark(keys_app, name, sophgo, "256 gigabytes", "QUANTITY")

    open_doc(page, keys_app, keys_server, name, sophgo)
    page.evaluate(f"() => WSKeys.setCurrent('s{quantity}')")
    page.keyboard.press("C")
    entity = page.locator("#cf-entity_id")
    expect(entity).to_have_value(str(card))  # from the quantity's own sentence, not FP300 before it
    texts = entity.locator("option").all_inner_texts()
    assert texts[1:3] == ["card · ENTITY", "FP300 · PRODUCT"]  # mention first, nearest first
    entity.focus()
    page.keyboard.type("FP3")  # typing the mention jumps to it
    expect(entity).to_have_value(str(fp300))
    page.keyboard.press("Enter")  # on the select: saves, does not open the list
    settled(page)
    claims = rows_of(keys_app, name, sophgo, Claim)
    assert [(c.quantity_id, c.entity_id) for c in claims] == [(quantity, fp300)]
    expect(page.locator("#claim-form")).to_have_count(0)


# --- messages and questions that tell the truth -------------------------------------------------


def test_grow_says_the_span_as_it_is_now_and_undo_with_nothing_left_is_quiet(page: Page, keys_app, keys_server, sophgo):
    name = "grower"
    give(keys_app, name)
    span = mark(keys_app, name, sophgo, "SC11", "PRODUCT")
    errors = open_doc(page, keys_app, keys_server, name, sophgo)
    page.evaluate(f"() => WSKeys.setCurrent('s{span}')")
    page.keyboard.press("]")
    settled(page)
    expect(page.locator("#ws-status")).to_have_text("Now PRODUCT “SC11 FP300”")
    page.keyboard.press("u")
    page.keyboard.press("u")  # the span made before this page has its own undo step
    settled(page)
    page.keyboard.press("u")
    settled(page)
    expect(page.locator("#ws-status")).to_contain_text("Nothing to undo")
    page.keyboard.press("U")
    page.keyboard.press("U")
    page.keyboard.press("U")
    settled(page)
    expect(page.locator("#ws-status")).to_contain_text("Nothing to redo")
    at = sophgo.text.index("SC11 FP300")
    assert spans_of(keys_app, name, sophgo) == [(at, at + 10, "PRODUCT", "SC11 FP300")]
    assert errors == []


def test_done_with_pending_and_bulk_decisions_ask_first(page: Page, keys_app, keys_server, sophgo):
    name = "asker"
    open_doc(page, keys_app, keys_server, name, sophgo)
    asked: list[str] = []
    answer = {"yes": False}

    def on_dialog(dialog):
        asked.append(dialog.message)
        dialog.accept() if answer["yes"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.keyboard.press("D")
    assert asked and "still pending" in asked[-1]
    page.keyboard.press("A")
    pending = page.locator('[data-testid="pending-total"]').inner_text()
    assert int(pending) > BULK_LIMIT and asked[-1] == f"Accept all {pending} pending suggestions?"
    page.wait_for_timeout(300)
    assert rows_of(keys_app, name, sophgo, SuggestionDecision) == []  # nothing stored by either refusal
    assert layer_of(keys_app, name, sophgo.uid).status != "done"

    answer["yes"] = True
    page.keyboard.press("X")
    settled(page)
    expect(page.locator('[data-testid="pending-total"]')).to_have_text("0")
    assert len(rows_of(keys_app, name, sophgo, SuggestionDecision)) == int(pending)
    page.keyboard.press("D")
    settled(page)
    assert layer_of(keys_app, name, sophgo.uid).status == "done"


def test_gold_workspace_breadcrumb_says_gold(page: Page, keys_app, keys_server, sophgo):
    from tests.helpers import add_user

    add_user(keys_app, "goldlead", "curator")
    page.set_viewport_size({"width": 1400, "height": 900})
    browser_log_in(page, keys_server, "goldlead")
    page.goto(f"{keys_server}/gold/{sophgo.uid}")
    expect(page.locator(".crumbs [aria-current=page]")).to_have_text("Gold")


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good, ranges, message",
    [
        ("{fp}", "12-x", "is not a range of code points"),
        ("", " , ", "Name the places to mark"),
        ("{fp}", "5-99999", "not on this document"),
    ],
)
def test_marking_many_refuses_bad_ranges_and_stores_nothing(keys_app, sophgo, good, ranges, message):
    name = f"badranges{abs(hash(ranges)) % 10000}"
    client = log_in(keys_app, keys_app.test_client(), name)
    give(keys_app, name)
    start = sophgo.text.index("FP300")
    fp = f"{start}-{start + 5}"
    response = client.post(
        f"/annotate/{sophgo.uid}/spans/many",
        data={"version": "0", "label": "PRODUCT", "ranges": ",".join(filter(None, [good, ranges])).format(fp=fp)},
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert spans_of(keys_app, name, sophgo) == []


def test_tokens_are_read_by_range_and_refuse_bad_bounds(keys_app, sophgo):
    client = log_in(keys_app, keys_app.test_client(), "tokenreader")
    give(keys_app, "tokenreader")
    at = sophgo.text.index("high-bandwidth")
    got = client.get(f"/annotate/{sophgo.uid}/tokens?lo={at}&hi={at + 14}").get_json()["tokens"]
    assert [sophgo.text[a:b] for a, b in got] == ["high", "-", "bandwidth"]
    assert client.get(f"/annotate/{sophgo.uid}/tokens?lo=9&hi=2").status_code == 422
    assert client.get(f"/annotate/{sophgo.uid}/tokens?lo=a").status_code == 422
    assert keys_app.test_client().get(f"/annotate/{sophgo.uid}/tokens?lo=0&hi=9").status_code in (302, 401)


def test_gold_offers_only_suggestions_no_layer_has_answered(keys_app):
    from annotator.annotate.suggestions import decide
    from annotator.models import Suggestion

    # a seed document nobody in this module has answered a suggestion of (the browser tests
    # work on the Sophgo article), so what gold offers is known whatever ran before
    with get_db(keys_app).reading() as s:
        touched = select(Suggestion.document_id).join(
            SuggestionDecision, SuggestionDecision.suggestion_id == Suggestion.id
        )
        doc = s.exec(select(Document).where(Document.id.not_in(touched)).order_by(Document.id)).scalars().first()
        ids = s.exec(select(Suggestion.id).where(Suggestion.document_id == doc.id)).scalars().all()
    assert len(ids) > 2
    give(keys_app, "goldprep")
    with get_db(keys_app).writing() as s:  # an annotator rejected one: curation settled it
        decide(s, labels_of(keys_app), doc, "goldprep", "goldprep", 0, "rejected", ids=[ids[0]])
    client = log_in(keys_app, keys_app.test_client(), "goldcur", "curator")
    page = client.get(f"/gold/{doc.uid}").get_data(as_text=True)
    assert f'data-testid="pending-total">{len(ids) - 1}<' in page
    marked = set(re.findall(r"\bg(\d+):", page))
    assert str(ids[0]) not in marked and str(ids[1]) in marked
    response = client.post(f"/gold/{doc.uid}/decide", data={"version": "0", "decision": "rejected", "scope": "all"})
    assert response.status_code == 200, response.get_data(as_text=True)
    gold = rows_of(keys_app, "gold", doc, SuggestionDecision)
    assert sorted(d.suggestion_id for d in gold) == sorted(ids[1:])
