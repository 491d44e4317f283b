"""The workspace for screen-reader, keyboard-only and low-vision annotators, in Chromium, at
100 % and at 200 % zoom (a 1280 x 900 screen: 640 x 450 CSS pixels at device scale 2): what
marks say, where the focus goes, what is read aloud, what stays on screen, and axe-core
(WCAG 2.1 A/AA) on every state of the page. Where a step writes, the test reads what the
database stored.

One server over a copy of the seeded project for the module; each test annotates under its
own name, so its layer starts empty.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from annotator.annotate.links import save_claim
from annotator.annotate.spans import add_span
from annotator.db import get_db
from annotator.models import Claim, Document, Layer, Relation, Span, SuggestionDecision
from annotator.project import labels_of
from tests.conftest import seeded_copy, serving
from tests.helpers import browser_log_in, give
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
ZOOMS = {"100%": ({"width": 1280, "height": 900}, 1), "200%": ({"width": 640, "height": 450}, 2)}


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("workspace-a11y"), seeded_template)
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def doc(app) -> Document:
    """The Sophgo seed article ("This card features 256 gigabytes of high-bandwidth memory")."""
    with get_db(app).reading() as s:
        return s.exec(select(Document).where(Document.text.contains("256 gigabytes"))).scalars().first()


@contextmanager
def workspace(browser: Browser, app, server: str, name: str, doc: Document, zoom: str = "100%"):
    """A fresh window at `zoom`, logged in as annotator `name`, on the workspace of `doc`."""
    viewport, scale = ZOOMS[zoom]
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)
    page = context.new_page()
    give(app, name)
    browser_log_in(page, server, name)
    page.goto(f"{server}/annotate/{doc.uid}")
    page.wait_for_function("() => window.WSKeys && window.WSSave && WSKeys.ready()")
    try:
        yield page
    finally:
        context.close()


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


def claim_on(app, name: str, doc: Document, quantity: int) -> None:
    with get_db(app).writing() as s:
        layer = s.exec(select(Layer).where(Layer.document_id == doc.id, Layer.name == name)).scalars().one()
        save_claim(s, labels_of(app), doc, name, name, layer.version, {"quantity_id": quantity, "value": "256"})


def rows_of(app, name: str, doc: Document, model) -> list:
    with get_db(app).reading() as s:
        layer = s.exec(select(Layer).where(Layer.document_id == doc.id, Layer.name == name)).scalars().first()
        return s.exec(select(model).where(model.layer_id == layer.id)).scalars().all() if layer else []


def settled(page: Page) -> None:
    page.wait_for_function("() => WSSave.pending() === 0")
    expect(page.locator("#ws-save")).not_to_have_attribute("data-state", "saving")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def focus_is_kept(page: Page) -> str:
    """What has the focus: never the page body; returned as a short description."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    seen = page.evaluate(
        """() => { const a = document.activeElement;
        if (!a || a === document.body) return null;
        return a.tagName + ' ' + (a.id || a.getAttribute('aria-label') || a.textContent).slice(0, 60); }"""
    )
    assert seen, "the focus fell to the page body"
    return seen


def current_is_focused(page: Page) -> None:
    """The current item (j/k) has the keyboard focus: its first mark, marked aria-current."""
    page.wait_for_function(
        """() => { const cur = WSKeys.current(), a = document.activeElement;
        return cur && a && a.matches('#doc-text mark[aria-current="true"]')
            && a.dataset.i.split(' ').some((w) => w.startsWith(cur.key + ':')); }"""
    )


def go_to(page: Page, text: str, key: str = "j", kind: str | None = None, limit: int = 200) -> None:
    for _ in range(limit):
        cur = page.evaluate("[WSKeys.currentText(), WSKeys.current() && WSKeys.current().kind]")
        if cur[0] == text and (kind is None or cur[1] == kind):
            return
        page.keyboard.press(key)
    raise AssertionError(f"never reached {text!r}")


def on_screen(page: Page, selector: str) -> dict:
    """The element's box and the free part of the window (below the sticky bar)."""
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        const bar = document.querySelector('.ws-bar').getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, bar: bar.bottom, barHeight: bar.height,
                height: innerHeight, width: innerWidth}; }""",
        selector,
    )


LISTEN = """() => {
    window.__said = [];
    const live = (n) => n && n.closest && n.closest('[aria-live], [role=alert], [role=status]');
    const note = (region) => {
        const text = region.textContent.trim();
        if (!text) return;
        const how = region.getAttribute('role') === 'alert' || region.getAttribute('aria-live') === 'assertive'
            ? 'assertive' : 'polite';
        window.__said.push([how, region.id, text]);
    };
    new MutationObserver((records) => {
        const touched = new Set();
        for (const r of records) {
            const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
            const region = live(el);
            if (region) touched.add(region);
        }
        touched.forEach(note);
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def listen(page: Page) -> None:
    """Record from now on every text a live region is given: [politeness, region id, text]."""
    page.evaluate(LISTEN)


def said(page: Page) -> list[list[str]]:
    page.wait_for_timeout(150)  # the regions are filled a moment after the change (ws-say.js)
    return page.evaluate("window.__said")


# --- 1. marks say what they are --------------------------------------------------------------


def test_marks_say_their_text_label_state_claim_and_which_is_current(browser, app, server, doc):
    name = "reader"
    give(app, name)
    quantity = mark(app, name, doc, "256 gigabytes", "QUANTITY")
    claim_on(app, name, doc, quantity)
    mark(app, name, doc, "SC11 FP300", "PRODUCT")
    with workspace(browser, app, server, name, doc) as page:
        tree = page.locator("#doc-text").aria_snapshot()
        # (a suggestion the span was made over without deciding it is still pending, and says so)
        assert re.search(r'mark: "QUANTITY span with a claim(; QUANTITY suggestion)?: 256 gigabytes"\n', tree), tree
        assert re.search(r'mark: "PRODUCT span(; PRODUCT suggestion)?: SC11 FP300"\n', tree), tree
        assert re.search(r'mark: "ORG suggestion: Sophgo"\n', tree), tree
        # the tag drawn at a span's end is silent: the label is heard once, before the text
        assert "256 gigabytes QUANTITY" not in tree
        # the words are generated content: the text itself is the stored text
        assert page.locator("#doc-text").text_content() == doc.text
        # punctuation right after a mark stays on the mark's line ("Sophgo’s" never breaks at ’)
        glued = page.locator("#doc-text .nw").first
        assert glued.evaluate("n => n.firstElementChild.tagName + ' ' + getComputedStyle(n).textWrapMode") == (
            "MARK nowrap"
        )
        tail = glued.evaluate("n => n.lastChild.textContent")
        assert tail and not tail[0].isalnum() and not tail[0].isspace()
        go_to(page, "256 gigabytes", kind="s")
        current_is_focused(page)
        current = page.locator('#doc-text mark[aria-current="true"]')
        expect(current).to_have_count(1)
        expect(current).to_have_text("256 gigabytes")
        expect(page.locator('.span-row[aria-current="true"]')).to_contain_text("256 gigabytes")
        while page.evaluate("WSKeys.currentText()") == "256 gigabytes":  # its suggestion comes next
            page.keyboard.press("j")
        current_is_focused(page)  # the mark it left is current no more
        expect(page.locator('#doc-text mark[aria-current="true"]')).not_to_have_text("256 gigabytes")
        # a suggested claim or relation (s) takes the focus as its row in the panel
        page.keyboard.press("s")
        page.wait_for_function(
            """() => { const a = document.activeElement, cur = WSKeys.current();
            return cur && a.matches('li[data-suggested][aria-current="true"]') && a.dataset.suggested === cur.key; }"""
        )
    claims = rows_of(app, name, doc, Claim)
    assert [c.quantity_id for c in claims] == [quantity]  # what the mark says is what is stored
    assert rows_of(app, name, doc, SuggestionDecision) == []  # moving decided nothing


# --- 2. the current item is keyboard focus, clear of the bar ----------------------------------------


@pytest.mark.parametrize("zoom", ZOOMS)
def test_j_and_k_move_the_focus_and_keep_it_clear_of_the_bar(browser, app, server, doc, zoom):
    name = f"mover{zoom[:3]}"
    with workspace(browser, app, server, name, doc, zoom) as page:
        keys = ["j"] * 40 + ["k"] * 40
        hidden = []
        for n, key in enumerate(keys):
            page.keyboard.press(key)
            current_is_focused(page)
            settle = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
            page.evaluate(settle)
            box = on_screen(page, "#doc-text mark[aria-current='true']")
            if box["top"] < box["bar"] - 1 or box["bottom"] > box["height"] + 1:
                hidden.append((n, key, box))
        assert hidden == [], f"{len(hidden)} of {len(keys)} presses left the current item off screen: {hidden[:3]}"
        assert box["barHeight"] <= 0.25 * box["height"] + 1, box  # the bar takes a quarter of the screen at most
    assert rows_of(app, name, doc, SuggestionDecision) == [] and rows_of(app, name, doc, Span) == []


# --- 3. the focus never falls to the body -----------------------------------------------------------


def test_the_focus_stays_after_forms_bulk_decisions_redo_and_deleting(browser, app, server, doc):
    name = "keeper"
    give(app, name)
    quantity = mark(app, name, doc, "256 gigabytes", "QUANTITY")
    sophgo = mark(app, name, doc, "Sophgo", "ORG", nth=doc.text[: doc.text.index("SC11 FP300")].count("Sophgo") - 1)
    card = mark(app, name, doc, "SC11 FP300", "PRODUCT")
    with workspace(browser, app, server, name, doc) as page:
        # the claim form, cancelled with Esc and with its button, then saved with Enter
        page.evaluate(f"() => WSKeys.setCurrent('s{quantity}')")
        current_is_focused(page)
        page.keyboard.press("Shift+C")
        expect(page.locator("#cf-value")).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.locator("#claim-form")).to_have_count(0)
        assert focus_is_kept(page).startswith("MARK")
        current_is_focused(page)
        page.keyboard.press("Shift+C")
        expect(page.locator("#cf-value")).to_be_focused()
        page.locator("#claim-form").get_by_role("button", name="Cancel").press("Enter")
        expect(page.locator("#claim-form")).to_have_count(0)
        assert focus_is_kept(page).startswith("MARK")
        assert rows_of(app, name, doc, Claim) == []
        page.keyboard.press("Shift+C")
        page.locator("#cf-value").fill("256")
        page.keyboard.press("Enter")
        settled(page)
        expect(page.locator("#claim-form")).to_have_count(0)
        assert focus_is_kept(page).startswith("MARK")
        current_is_focused(page)
        assert [(c.quantity_id) for c in rows_of(app, name, doc, Claim)] == [quantity]

        # a relation, its type chosen by key, then deleted from its button in the panel
        page.evaluate(f"() => WSKeys.setCurrent('s{sophgo}')")
        current_is_focused(page)
        page.keyboard.press("Shift+R")
        go_to(page, "SC11 FP300", kind="s")
        page.keyboard.press("Enter")
        expect(page.locator("#relation-form [data-choice]").first).to_be_focused()
        page.keyboard.press("1")
        settled(page)
        expect(page.locator("#relation-form")).to_have_count(0)
        assert focus_is_kept(page).startswith("MARK")
        relations = rows_of(app, name, doc, Relation)
        assert [(r.head_id, r.child_id, r.label) for r in relations] == [(sophgo, card, "MAKES")]
        page.get_by_role("button", name="Delete relation Sophgo MAKES SC11 FP300").press("Enter")
        settled(page)
        assert rows_of(app, name, doc, Relation) == []
        focus_is_kept(page)

        # accept all of one label from its button, then undo and redo from the Redo button
        before = len(rows_of(app, name, doc, Span))
        row = page.locator('#ws-suggestions li[data-label="MODEL"]')
        n = int(row.locator(".n").inner_text())
        row.get_by_role("button", name=f"Accept all {n} MODEL suggestions").press("Enter")
        settled(page)
        models = [s for s in rows_of(app, name, doc, Span) if s.label == "MODEL"]
        assert len(models) == n and len(rows_of(app, name, doc, Span)) == before + n
        focus_is_kept(page)
        page.locator("#ws-undo").press("Enter")
        settled(page)
        assert len(rows_of(app, name, doc, Span)) == before
        focus_is_kept(page)
        page.locator("#ws-redo").press("Enter")
        settled(page)
        assert len(rows_of(app, name, doc, Span)) == before + n
        assert focus_is_kept(page).startswith("BUTTON")  # Redo has no more to do: Undo beside it


def test_a_focus_the_annotator_moved_away_is_left_where_they_put_it(browser, app, server, doc):
    """Only a focus whose element was swapped away is put back: after a click on plain text, a
    write by mouse neither pulls the focus back to the current item nor scrolls the page."""
    name = "clicker"
    with workspace(browser, app, server, name, doc) as page:
        page.keyboard.press("j")
        current_is_focused(page)
        at = doc.text.index("compute card")
        spot = page.evaluate(
            """(at) => { const root = document.getElementById('doc-text');
            const p = WSOffsets.domPoint(root, at + 2), r = document.createRange();
            r.setStart(p.node, p.offset); r.setEnd(p.node, p.offset + 1);
            const box = r.getBoundingClientRect();
            return [box.left + box.width / 2, box.top + box.height / 2, !!p.node.parentElement.closest('mark')]; }""",
            at,
        )
        assert not spot[2], "the click must land on plain text"
        page.mouse.click(spot[0], spot[1])  # plain text: the focus leaves the mark, as the annotator chose
        clicked = page.evaluate("document.activeElement.id")
        assert clicked in ("", "main")  # the body, or the page's main region
        page.evaluate(f"() => WSOffsets.selectOffsets(document.getElementById('doc-text'), {at}, {at + 12})")
        scrolled = page.evaluate("scrollY")
        page.locator('.pal[data-label="PRODUCT"]').click()
        settled(page)
        assert page.evaluate("document.activeElement.id") == clicked  # not pulled to the current item
        assert page.evaluate("scrollY") == scrolled
    spans = rows_of(app, name, doc, Span)
    assert [(s.start, s.end, s.label) for s in spans] == [(at, at + 12, "PRODUCT")]


# --- 4. announcements that tell the truth -------------------------------------------------------------


def test_announcements_are_said_once_and_truthfully(browser, app, server, doc):
    name = "listener"
    give(app, name)
    quantity = mark(app, name, doc, "256 gigabytes", "QUANTITY")
    mark(app, name, doc, "Sophgo", "ORG")
    with workspace(browser, app, server, name, doc) as page:
        assert page.locator("#ws-save").get_attribute("aria-live") is None  # not assertive on every key
        listen(page)
        # a refused claim value: said once, assertively, and no "All changes saved" after it
        page.evaluate(f"() => WSKeys.setCurrent('s{quantity}')")
        page.keyboard.press("Shift+C")
        page.locator("#cf-value").fill("lots")
        page.keyboard.press("Enter")
        settled(page)
        refusal = page.locator("#ws-status .ws-msg-text").inner_text()
        assert "lots" in refusal
        heard = said(page)
        about = [h for h in heard if "lots" in h[2]]
        assert about == [["assertive", "ws-alert", refusal]], heard
        assert not any("saved" in h[2].lower() for h in heard), heard
        expect(page.locator("#ws-save")).not_to_have_text("All changes saved")
        assert rows_of(app, name, doc, Claim) == []
        page.keyboard.press("Escape")

        # saving fast says nothing aloud; what a key did is said politely
        listen(page)
        go_to(page, "DeepSeek", "n", kind="g")
        page.keyboard.press("a")
        settled(page)
        heard = said(page)
        assert not any("Saving" in h[2] for h in heard), heard
        assert any(h[0] == "polite" and "Accepted ORG “DeepSeek”" in h[2] for h in heard), heard
        assert not any(h[0] == "assertive" for h in heard), heard
        assert any(s.label == "ORG" and doc.text[s.start : s.end] == "DeepSeek" for s in rows_of(app, name, doc, Span))

        # a slow save is said, politely, once it has taken a while, and so is its end
        def slow(route):
            page.wait_for_timeout(3000)
            route.continue_()

        page.route("**/decide", slow)
        listen(page)
        page.keyboard.press("n")
        text, label = page.evaluate("[WSKeys.currentText(), WSKeys.current().label]")
        page.keyboard.press("a")
        page.wait_for_function("() => WSSave.pending() === 0", timeout=20000)
        settled(page)
        page.unroute("**/decide")
        heard = said(page)
        saving, done = ["polite", "ws-said", "Saving…"], ["polite", "ws-said", "All changes saved"]
        assert saving in heard and done in heard and heard.index(saving) < heard.index(done), heard
        assert not any(h[0] == "assertive" for h in heard), heard
        stored = [(doc.text[s.start : s.end], s.label) for s in rows_of(app, name, doc, Span)]
        assert (text, label) in stored

        # a selection made by keys is said
        listen(page)
        page.keyboard.press("w")
        page.wait_for_function("() => WSSave.pending() === 0 && !!window.getSelection().toString()")
        heard = said(page)
        assert any(h[0] == "polite" and h[2].startswith("Selected “") for h in heard), heard
        page.keyboard.press("Escape")

        # a relation the configuration does not allow is said
        listen(page)
        page.evaluate(f"() => WSKeys.setCurrent('s{quantity}')")
        page.keyboard.press("Shift+R")
        go_to(page, "Sophgo", "k", kind="s")
        page.keyboard.press("Enter")
        expect(page.locator("#relation-form")).to_contain_text("No relation is allowed from QUANTITY to ORG")
        heard = said(page)
        assert any(h[0] == "polite" and "No relation is allowed from QUANTITY to ORG" in h[2] for h in heard), heard
        focus_is_kept(page)
        page.keyboard.press("Escape")
        assert rows_of(app, name, doc, Relation) == []

        # the current-item line: rewritten only when it changes, with no keycaps read
        go_to(page, "Sophgo", "j")
        first = page.evaluate("WSKeys.current().key")
        page.evaluate(
            """() => { window.__rewrites = 0;
            new MutationObserver(() => window.__rewrites++).observe(document.getElementById('ws-current'),
                {childList: true, subtree: true, characterData: true}); }"""
        )
        page.evaluate(f"() => WSKeys.setCurrent('{first}')")  # the same item again: the same words
        page.keyboard.press("j")
        page.keyboard.press("k")  # away and back: said twice, as it changed twice
        page.wait_for_timeout(100)
        assert page.evaluate("window.__rewrites") == 2
        line = page.locator("#ws-current").aria_snapshot()
        assert not re.search(r'button "[^"]* [a-zA-Z\[\]]"', line), line  # "Accept a", "Delete x"
        for kbd in page.locator("#ws-current kbd").all():
            assert kbd.get_attribute("aria-hidden") == "true"


# --- 5 and 6. on screen at 200 %, names with context, axe on every state ---------------------------


@pytest.mark.parametrize("zoom", ZOOMS)
def test_forms_open_on_screen_controls_say_what_they_act_on_and_axe_finds_nothing(browser, app, server, doc, zoom):
    name = f"zoomer{zoom[:3]}"
    give(app, name)
    quantity = mark(app, name, doc, "256 gigabytes", "QUANTITY")
    sophgo = mark(app, name, doc, "Sophgo", "ORG")
    with workspace(browser, app, server, name, doc, zoom) as page:
        bar = on_screen(page, ".ws-bar")
        assert bar["barHeight"] <= 0.25 * bar["height"] + 1, bar
        assert_accessible(page)  # the fresh page
        expect(page.get_by_role("button", name="Keyboard shortcuts")).to_have_text("?")

        # a suggestion's buttons name it
        page.evaluate("() => WSKeys.setCurrent(WSKeys.items().find((it) => it.kind === 'g').key)")
        text, label = page.evaluate("[WSKeys.currentText(), WSKeys.current().label]")
        accept = page.locator("#ws-current").get_by_role("button", name=f"Accept suggestion {text} {label}", exact=True)
        expect(accept).to_be_visible()

        # the claim form opens on screen, and its Edit button names the claim once saved
        page.evaluate(f"() => WSKeys.setCurrent('s{quantity}')")
        current_is_focused(page)
        page.keyboard.press("Shift+C")
        expect(page.locator("#cf-value")).to_be_focused()
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        form = on_screen(page, "#claim-form")
        field = on_screen(page, "#cf-value")
        assert form["top"] >= 0 and form["left"] >= 0 and form["right"] <= form["width"] + 1, form
        assert field["top"] >= 0 and field["bottom"] <= field["height"], field
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"workspace-claim-form-{zoom[:3]}.png"))
        assert_accessible(page)
        page.locator("#cf-value").fill("256")
        page.keyboard.press("Enter")
        settled(page)
        assert [c.quantity_id for c in rows_of(app, name, doc, Claim)] == [quantity]
        expect(page.get_by_role("button", name="Edit the claim on 256 gigabytes", exact=True)).to_have_count(1)
        expect(page.locator("#ws-save")).to_have_text("All changes saved")
        bar = on_screen(page, ".ws-bar")  # with a message and the save line too
        assert bar["barHeight"] <= 0.25 * bar["height"] + 1, bar

        # the relation form opens on screen
        page.evaluate(f"() => WSKeys.setCurrent('s{sophgo}')")
        current_is_focused(page)
        page.keyboard.press("Shift+R")
        page.evaluate(f"() => WSKeys.setCurrent('s{quantity}')")
        page.keyboard.press("Enter")
        expect(page.locator("#relation-form [data-choice]").first).to_be_focused()
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        form = on_screen(page, "#relation-form")
        assert form["top"] >= 0 and form["bottom"] <= form["height"] + 1, form
        page.screenshot(path=str(SHOTS / f"workspace-relation-form-{zoom[:3]}.png"))
        assert_accessible(page)
        page.keyboard.press("1")
        settled(page)
        relations = rows_of(app, name, doc, Relation)
        assert [(r.head_id, r.child_id, r.label) for r in relations] == [(sophgo, quantity, "HAS_QUANTITY")]

        # the help dialog and the find bar
        page.keyboard.press("?")
        expect(page.locator("#ws-help")).to_be_visible()
        assert_accessible(page)
        page.keyboard.press("Escape")
        focus_is_kept(page)
        page.keyboard.press("/")
        expect(page.locator("#ws-find-input")).to_be_focused()
        page.keyboard.type("FP300")
        assert_accessible(page)
        page.keyboard.press("Escape")
        focus_is_kept(page)
