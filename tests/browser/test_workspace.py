"""The annotation workspace in Chromium: every operation by keyboard or mouse, each checked
against what the database stored (not only against what the page shows).

The module runs its own server over a copy of the seeded project plus one document full of
awkward characters, so the shared live server's document list stays as its tests expect.
Each test annotates under its own name, so its layers start empty. Screenshots go to
tests/artifacts/screenshots/.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.export.publish import export
from annotator.ingest.pipeline import import_paths
from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, SuggestionDecision
from annotator.project import labels_of
from annotator.schema import load_schema
from tests.conftest import seeded_copy, serving
from tests.helpers import browser_log_in, give

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)  # the machine is shared: allow for a slow moment

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
ODD = (
    "Tim Cook 😀 visited Apple in London.\r\n"
    "Cafe\u0301 ZÜRICH\tSophgo’s 🚀 SC11 FP300 has 256 GB.\r\n\r\n"
    "👩‍🔬 Dr Ana Lima met 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 Labs."
)


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ws_app(tmp_path_factory, seeded_template):
    folder = tmp_path_factory.mktemp("workspace")
    app = seeded_copy(folder, seeded_template)
    path = folder / "odd.jsonl"
    start = ODD.index("Apple")
    path.write_text(
        json.dumps(
            {
                "text": ODD,
                "lang": "en",
                "meta": {"title": "Odd characters"},
                "spans": [{"start": start, "end": start + 5, "label": "ORG"}],
            }
        )
        + "\n"
    )
    assert import_paths(get_db(app), [str(path)], labels_of(app), None).ok
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def ws_server(ws_app):
    with serving(ws_app) as url:
        yield url


class Stored:
    """What the database holds for one annotator's layer of one document."""

    def __init__(self, app, name: str, uid: str):
        self.db, self.name, self.uid = get_db(app), name, uid

    def _layer(self, s):
        return (
            s.exec(select(Layer).join(Document).where(Document.uid == self.uid, Layer.name == self.name))
            .scalars()
            .first()
        )

    def text(self) -> str:
        with self.db.reading() as s:
            return s.exec(select(Document.text).where(Document.uid == self.uid)).scalar_one()

    def spans(self) -> list[tuple]:
        text = self.text()
        with self.db.reading() as s:
            layer = self._layer(s)
            rows = (
                s.exec(select(Span).where(Span.layer_id == layer.id).order_by(Span.start, Span.label)).scalars().all()
                if layer
                else []
            )
        return [(r.start, r.end, r.label, text[r.start : r.end]) for r in rows]

    def rows(self, model) -> list:
        with self.db.reading() as s:
            layer = self._layer(s)
            return s.exec(select(model).where(model.layer_id == layer.id)).scalars().all() if layer else []

    def layer(self):
        with self.db.reading() as s:
            return self._layer(s)


def docs(app) -> list[Document]:
    with get_db(app).reading() as s:
        return s.exec(select(Document).order_by(Document.id)).scalars().all()


def open_workspace(page: Page, app, server: str, name: str, uid: str) -> None:
    """Log in as annotator `name` (every document assigned to them) and open `uid`."""
    page.set_viewport_size({"width": 1400, "height": 900})
    give(app, name)
    browser_log_in(page, server, name)
    page.goto(f"{server}/annotate/{uid}")
    expect(page.locator("#doc-text")).to_be_visible()
    ready(page)


def ready(page: Page) -> None:
    """The workspace's scripts have bound their keys (keys pressed earlier would be lost)."""
    page.wait_for_function("() => window.WSKeys && window.WSSave && WSKeys.ready()")


def saved(page: Page, timeout: int = 10000) -> None:
    page.wait_for_function("() => WSSave.pending() === 0", timeout=timeout)


def press(page: Page, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)
    saved(page)


def go_to(page: Page, text: str, key: str = "j", kind: str | None = None, limit: int = 400) -> None:
    """Press `key` until the current item reads `text` (and is of `kind`): keyboard only."""
    for _ in range(limit):
        cur = page.evaluate("[WSKeys.currentText(), WSKeys.current() && WSKeys.current().kind]")
        if cur[0] == text and (kind is None or cur[1] == kind):
            return
        page.keyboard.press(key)
    raise AssertionError(f"never reached {text!r}")


def drag_select(page: Page, start: int, end: int) -> None:
    """Select [start, end) (code points) with a real mouse drag, from the left edge of its first
    line box to the right edge of its last."""
    (left, y1), (right, y2) = page.evaluate(
        """([a, b]) => {
        const root = document.getElementById('doc-text');
        const p = WSOffsets.domPoint(root, a), q = WSOffsets.domPoint(root, b);
        const r = document.createRange(); r.setStart(p.node, p.offset); r.setEnd(q.node, q.offset);
        const rects = [...r.getClientRects()].filter(x => x.width > 0);
        const first = rects[0], last = rects[rects.length - 1];
        return [[first.left, first.top + first.height / 2], [last.right, last.top + last.height / 2]];
    }""",
        [start, end],
    )
    page.mouse.move(left + 1, y1)
    page.mouse.down()
    page.mouse.move(right - 1, y2, steps=4)
    page.mouse.up()


def shoot(page: Page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


# --- spans ------------------------------------------------------------------------------------


def test_select_label_relabel_adjust_and_delete(page: Page, ws_app, ws_server):
    doc = docs(ws_app)[0]
    db = Stored(ws_app, "spanner", doc.uid)
    open_workspace(page, ws_app, ws_server, "spanner", doc.uid)
    text = doc.text

    # mouse: drag over "compute card", hotkey h (PRODUCT)
    start = text.index("compute card successfully")
    drag_select(page, start + 2, start + 10)  # "mpute ca": snapped to whole words by the server
    press(page, "h")
    assert db.spans() == [(start, start + 12, "PRODUCT", "compute card")]
    expect(page.locator("#ws-status")).to_contain_text("Added PRODUCT “compute card”")

    # keyboard: w selects the word after the current span, Shift+→ grows it, o labels it ORG
    press(page, "w", "Shift+ArrowRight", "o")
    passed = text.index("successfully passed")
    assert (passed, passed + 19, "ORG", "successfully passed") in db.spans()

    # click: double-click a word, then the palette's PERSON button (the selection survives the click)
    cttl = text.index("CTTL)")
    drag_select(page, cttl, cttl + 4)
    page.locator('#ws-palette .pal[data-label="PERSON"]').click()
    saved(page)
    assert (cttl, cttl + 4, "PERSON", "CTTL") in db.spans()
    # an overlapping span with another label is allowed (CTTL is also an ORG suggestion)
    expect(page.locator(f'#doc-text mark[data-start="{cttl}"]')).to_have_class("m lbl-1 is-span overlap cur")

    # relabel the current span (PERSON -> ORG), grow it, shrink it back, delete it
    press(page, "o")
    assert (cttl, cttl + 4, "ORG", "CTTL") in db.spans()
    press(page, "]")
    assert (cttl, cttl + 5, "ORG", "CTTL)") in db.spans()
    press(page, "}")
    press(page, "x")
    assert [s[3] for s in db.spans()] == ["compute card", "successfully passed"]
    shoot(page, "workspace-spans.png")


def test_accept_and_reject_one_and_all_and_it_survives_a_reload(page: Page, ws_app, ws_server):
    doc = docs(ws_app)[1]
    db = Stored(ws_app, "decider", doc.uid)
    open_workspace(page, ws_app, ws_server, "decider", doc.uid)
    total = int(page.locator("[data-testid=pending-total]").text_content())
    press(page, "j")
    first = page.evaluate("WSKeys.currentText()")
    press(page, "a")  # accept by key; the cursor moves on to the next suggestion
    second = page.evaluate("WSKeys.currentText()")
    press(page, "x")  # reject by key
    assert [s[3] for s in db.spans()] == [first]
    assert sorted(d.decision for d in db.rows(SuggestionDecision)) == ["accepted", "rejected"] and second

    # by mouse: click a suggestion, then Accept in the line above the text
    mark = page.locator("#doc-text mark.is-sugg").nth(3)
    start = int(mark.get_attribute("data-start"))
    mark.click()
    page.locator("#ws-current").get_by_role("button", name="Accept").click()
    saved(page)
    assert any(s[0] == start for s in db.spans())

    # all of one label rejected, all of another accepted, by click
    rows = page.locator("#ws-suggestions .ws-by-label li")
    reject_label, accept_label = rows.nth(0).get_attribute("data-label"), rows.nth(1).get_attribute("data-label")
    n_reject = int(rows.nth(0).locator(".n").text_content())
    rows.nth(0).get_by_role("button", name=f"Reject all {n_reject} {reject_label} suggestions").click()
    saved(page)
    n_accept = int(rows.nth(0).locator(".n").text_content())  # the list moved up by one
    page.get_by_role("button", name=f"Accept all {n_accept} {accept_label} suggestions").click()
    saved(page)
    decisions = db.rows(SuggestionDecision)
    assert sum(d.decision == "rejected" for d in decisions) >= n_reject
    assert sum(s[2] == accept_label for s in db.spans()) >= n_accept
    left = int(page.locator("[data-testid=pending-total]").text_content())
    assert len(decisions) + left == total
    press(page, "Shift+X")  # reject all that remain
    expect(page.locator("#ws-suggestions")).to_contain_text("None left")
    assert len(db.rows(SuggestionDecision)) == total
    confirmed = len(db.spans())

    page.reload()
    ready(page)
    expect(page.locator("#doc-text mark.is-sugg")).to_have_count(0)
    assert page.locator("#ws-span-count").text_content() == str(confirmed)
    keys = page.evaluate(
        "new Set([...document.querySelectorAll('#doc-text mark')].flatMap(m => m.dataset.i.split(' '))).size"
    )
    assert keys == confirmed
    press(page, "Shift+A")  # nothing pending: nothing happens, nothing breaks
    assert len(db.spans()) == confirmed


# --- relations and claims ---------------------------------------------------------------------------


def test_relation_by_keyboard_drawn_listed_and_deleted(page: Page, ws_app, ws_server):
    doc = docs(ws_app)[0]
    db = Stored(ws_app, "relater", doc.uid)
    open_workspace(page, ws_app, ws_server, "relater", doc.uid)
    text = doc.text
    go_to(page, "SC11 FP300", "n")
    press(page, "a")
    sophgo = text.index("Sophgo’s SC11")
    go_to(page, "Sophgo", "k")
    assert page.evaluate("WSKeys.current().start") == sophgo
    press(page, "a")
    go_to(page, "Sophgo", "k", kind="s")
    page.keyboard.press("Shift+R")
    expect(page.locator("#ws-current")).to_contain_text("Relation from ORG “Sophgo”")
    page.keyboard.press("j")  # only confirmed spans can be picked now: the card
    page.keyboard.press("Enter")
    choices = page.locator("#relation-form .choice")
    expect(choices).to_have_text(["1 MAKES", "2 USES"])  # only labels allowed for ORG -> PRODUCT
    press(page, "1")
    relations = db.rows(Relation)
    assert [r.label for r in relations] == ["MAKES"]
    spans = {s.id: text[s.start : s.end] for s in db.rows(Span)}
    assert (spans[relations[0].head_id], spans[relations[0].child_id]) == ("Sophgo", "SC11 FP300")
    expect(page.locator("#ws-relations .ws-rel")).to_have_count(1)
    expect(page.locator("#ws-arcs .ws-arc")).to_have_count(1)
    expect(page.locator("#ws-arcs text")).to_have_text("MAKES")
    page.locator("#ws-relations .ws-rel").hover()
    shoot(page, "workspace-relation.png")
    page.get_by_role("button", name="Delete relation Sophgo MAKES SC11 FP300").click()
    saved(page)
    assert db.rows(Relation) == []
    expect(page.locator("#ws-arcs .ws-arc")).to_have_count(0)
    # and by mouse: the card, "Relation…", the company, then the label
    page.locator(f'#doc-text mark.is-span[data-start="{text.index("SC11 FP300")}"]').click()
    page.locator("#ws-current").get_by_role("button", name="Relation…").click()
    page.locator(f'#doc-text mark.is-span[data-start="{sophgo}"]').click()
    expect(page.locator("#relation-form")).to_contain_text("No relation is allowed from PRODUCT to ORG")
    page.locator("#relation-form").get_by_role("button", name="Cancel").click()
    page.locator(f'#doc-text mark.is-span[data-start="{sophgo}"]').click()
    page.locator("#ws-current").get_by_role("button", name="Relation…").click()
    page.locator(f'#doc-text mark.is-span[data-start="{text.index("SC11 FP300")}"]').click()
    page.locator("#relation-form").get_by_role("button", name="USES").click()
    saved(page)
    assert [r.label for r in db.rows(Relation)] == ["USES"]


def test_numeric_claim_built_entirely_by_keyboard(page: Page, ws_app, ws_server):
    """ "Sophgo's SC11 FP300 has 256 GB of high-bandwidth memory", from suggestions to a claim."""
    doc = docs(ws_app)[0]
    db = Stored(ws_app, "claimer", doc.uid)
    open_workspace(page, ws_app, ws_server, "claimer", doc.uid)
    text = doc.text
    go_to(page, "FP300", "n")  # "... within the FP300 compute card": the card, in the claim's paragraph
    press(page, "a")
    go_to(page, "256 gigabytes", "n")
    press(page, "a")
    go_to(page, "256 gigabytes", "k", kind="s")
    press(page, "w", "Shift+ArrowRight", "r")  # "of high…" as PROPERTY, then corrected word by word
    hb = text.index("high-bandwidth memory")
    press(page, "{")  # drop "of" from the left
    for _ in range(4):  # take tokens on the right up to "memory"
        if any(s[3] == "high-bandwidth memory" for s in db.spans()):
            break
        press(page, "]")
    assert (hb, hb + 21, "PROPERTY", "high-bandwidth memory") in db.spans()
    go_to(page, "256 gigabytes", "k", kind="s")
    page.keyboard.press("Shift+C")
    form = page.locator("#claim-form")
    expect(form).to_be_visible()
    expect(page.locator("#cf-value")).to_be_focused()
    expect(page.locator("#cf-value")).to_have_value("256")
    expect(page.locator("#cf-unit")).to_have_value("GB")
    # FP300 stands in the sentence before: no entity is guessed from another sentence
    expect(page.locator("#cf-entity_id option:checked")).to_have_text("— none —")
    page.locator("#cf-entity_id").select_option(label="FP300 · PRODUCT")
    expect(page.locator("#cf-property_id option:checked")).to_have_text("high-bandwidth memory · PROPERTY")
    shoot(page, "workspace-claim-form.png")
    for _ in range(9):  # unit, qualifier, entity, property, its text, condition, time, source, IsApproximate
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # IsCount
    page.keyboard.press("Space")
    page.keyboard.press("Control+Enter")
    saved(page)
    claims = db.rows(Claim)
    assert len(claims) == 1
    spans = {s.id: s for s in db.rows(Span)}
    claim, quantity = claims[0], spans[claims[0].quantity_id]
    assert text[quantity.start : quantity.end] == "256 gigabytes"
    assert (quantity.value, quantity.unit, quantity.qualifier) == (256.0, "GB", None)
    entity, prop = spans[claim.entity_id], spans[claim.property_id]
    assert (text[entity.start : entity.end], text[prop.start : prop.end]) == ("FP300", "high-bandwidth memory")
    assert claim.modifiers == ["IsCount"]
    expect(page.locator("#claim-form")).to_have_count(0)
    expect(page.locator("#ws-claims .ws-claim")).to_contain_text("256 GB")

    page.reload()  # everything as left
    ready(page)
    expect(page.locator("#ws-claims .ws-claim")).to_have_count(1)
    expect(page.locator(f'#doc-text mark.has-claim[data-start="{quantity.start}"]')).to_have_count(1)
    # edit: a unit outside the table is kept and flagged
    page.locator("#ws-claims").get_by_role("button", name="Edit").click()
    page.locator("#cf-unit").fill("gigs")
    page.keyboard.press("Enter")
    saved(page)
    expect(page.locator("#ws-status")).to_contain_text("not in the unit table")
    expect(page.locator("#ws-claims .flag")).to_have_text("non-canonical unit")
    with get_db(ws_app).reading() as s:
        assert s.get(Span, quantity.id).unit == "gigs"
    page.keyboard.press("Escape")


def test_undo_and_redo_by_keyboard(page: Page, ws_app, ws_server):
    doc = docs(ws_app)[2]
    db = Stored(ws_app, "undoer", doc.uid)
    open_workspace(page, ws_app, ws_server, "undoer", doc.uid)
    press(page, "j", "a", "a", "x")
    after = db.spans()
    assert len(after) == 2
    press(page, "u", "Control+z")
    assert len(db.spans()) == 1
    press(page, "u")
    assert db.spans() == [] and db.rows(SuggestionDecision) == []
    press(page, "U", "Control+y")
    assert db.spans() == after
    expect(page.locator("#ws-redo .n")).to_have_text("1")
    press(page, "Control+Shift+z")
    assert len(db.rows(SuggestionDecision)) == 3
    expect(page.locator("#ws-redo")).to_be_disabled()


# --- never lose work ---------------------------------------------------------------------------


def test_two_tabs_never_overwrite_each_other(page: Page, ws_app, ws_server):
    doc = docs(ws_app)[3]
    db = Stored(ws_app, "twotabs", doc.uid)
    open_workspace(page, ws_app, ws_server, "twotabs", doc.uid)
    other = page.context.new_page()  # the same session: the same annotator in a second tab
    other.set_viewport_size({"width": 1400, "height": 900})
    other.goto(page.url)
    ready(other)
    press(page, "j", "a")
    assert len(db.spans()) == 1
    press(other, "j", "j", "a")  # stale: refused, nothing overwritten
    message = other.locator("#ws-status .ws-msg-conflict")
    expect(message).to_contain_text("changed elsewhere")
    expect(other.locator("#ws-save")).to_contain_text("Reload to see the latest version")
    shoot(other, "workspace-conflict.png")
    assert len(db.spans()) == 1 and len(db.rows(SuggestionDecision)) == 1
    press(other, "a")  # still refused after the conflict: the page is out of date
    assert len(db.spans()) == 1
    with other.expect_navigation():
        message.get_by_role("link", name="Reload the page").click()
    ready(other)
    expect(other.locator("#doc-text mark.is-span")).to_have_count(1)
    press(other, "n", "a")
    assert len(db.spans()) == 2
    other.close()


def test_network_error_is_shown_and_retried_until_saved(page: Page, ws_app, ws_server):
    doc = docs(ws_app)[4]
    db = Stored(ws_app, "offline", doc.uid)
    open_workspace(page, ws_app, ws_server, "offline", doc.uid)
    failures = []

    def drop(route):
        failures.append(route.request.url)
        route.abort("internetdisconnected")

    page.evaluate("document.getElementById('ws').dataset.retryMs = 150")  # quick retries for the test
    page.route("**/decide", drop)
    page.keyboard.press("j")
    page.keyboard.press("a")
    page.keyboard.press("a")  # a second change waits behind the first
    expect(page.locator("#ws-save")).to_contain_text("Connection problem: 2 changes not saved yet")
    shoot(page, "workspace-offline.png")
    assert db.spans() == []
    page.unroute("**/decide")
    saved(page, timeout=10000)
    expect(page.locator("#ws-save")).to_have_text("All changes saved")
    assert len(db.spans()) == 2 and len(failures) >= 1
    assert len(db.rows(AuditEvent)) == 2  # each change stored once


def test_a_write_stored_before_the_connection_dropped_is_not_sent_twice(page: Page, ws_app, ws_server):
    """The server stores the accept, then the answer is lost: the page retries, the server
    recognises the write by its key and answers as saved; nothing is stored twice and no
    conflict is shown."""
    doc = docs(ws_app)[4]
    db = Stored(ws_app, "lostanswer", doc.uid)
    open_workspace(page, ws_app, ws_server, "lostanswer", doc.uid)
    lost, harness_errors = [], []

    def store_then_drop(route):
        if lost:
            route.continue_()
            return
        try:
            lost.append(route.fetch().status)  # the server answers; the page never sees it
        except Exception as exc:
            harness_errors.append(repr(exc))
        route.abort("connectionreset")

    page.evaluate("document.getElementById('ws').dataset.retryMs = 150")
    page.route("**/decide", store_then_drop)
    page.keyboard.press("j")
    page.keyboard.press("a")
    saved(page, timeout=10000)
    assert lost == [200], f"the route dropped no stored answer; Playwright's fetch failed with {harness_errors}"
    expect(page.locator("#ws-status")).to_contain_text("first attempt had reached the server")
    expect(page.locator("#ws-save")).to_have_text("All changes saved")
    assert len(db.spans()) == 1 and len(db.rows(AuditEvent)) == 1
    expect(page.locator("#doc-text mark.is-span")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("a")  # the page's version is current: the next write goes through
    saved(page)
    assert len(db.spans()) == 2


# --- offsets ------------------------------------------------------------------------------------


def test_offsets_are_code_points_after_emoji_accents_crlf_and_tabs(page: Page, ws_app, ws_server):
    doc = next(d for d in docs(ws_app) if d.title == "Odd characters")
    db = Stored(ws_app, "unicode", doc.uid)
    open_workspace(page, ws_app, ws_server, "unicode", doc.uid)
    assert page.locator("#doc-text").text_content() == ODD
    apple = ODD.index("Apple")
    dom = page.evaluate("""() => { const t = document.getElementById('doc-text').textContent;
                                   return t.indexOf('Apple'); }""")
    assert (apple, dom) == (19, 20)  # the emoji: one code point, two UTF-16 units
    drag_select(page, apple, apple + 5)
    press(page, "p")  # a PERSON span on top of the imported ORG suggestion
    cafe = ODD.index("Cafe\u0301")
    drag_select(page, cafe, cafe + 5)
    press(page, "g")
    zurich = ODD.index("ZÜRICH")
    drag_select(page, zurich, zurich + 6)
    press(page, "g")
    card = ODD.index("SC11")
    drag_select(page, card, card + 10)
    press(page, "h")
    lab = ODD.index("𝔘𝔫𝔦𝔠𝔬𝔡𝔢")
    drag_select(page, lab, lab + 12)
    press(page, "o")
    stored = db.spans()
    assert [(s[0], s[1], s[3]) for s in stored] == [
        (apple, apple + 5, "Apple"),
        (cafe, cafe + 5, "Cafe\u0301"),
        (zurich, zurich + 6, "ZÜRICH"),
        (card, card + 10, "SC11 FP300"),
        (lab, lab + 12, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 Labs"),
    ]
    for start, end, _label, quoted in stored:
        assert ODD[start:end] == quoted
    marks = page.evaluate("""() => [...document.querySelectorAll('#doc-text mark.is-span')].map(
        m => [+m.dataset.start, +m.dataset.end, m.textContent])""")
    for start, end, quoted in marks:
        assert ODD[start:end] == quoted
    shoot(page, "workspace-unicode.png")


def test_bad_offsets_posted_from_the_page_are_refused(page: Page, ws_app, ws_server):
    doc = next(d for d in docs(ws_app) if d.title == "Odd characters")
    db = Stored(ws_app, "prober", doc.uid)
    open_workspace(page, ws_app, ws_server, "prober", doc.uid)
    statuses = page.evaluate(
        """async ([url, n]) => {
        const out = [];
        for (const [start, end, label] of [[-1, 3, 'ORG'], [0, n + 1, 'ORG'], [5, 5, 'ORG'], [9, 4, 'ORG'],
                                           [0, 3, 'NOPE'], ['1.5', 3, 'ORG']]) {
            const body = new URLSearchParams({start, end, label, version: 0});
            const csrf = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch(url, {method: 'POST', body, headers: {'HX-Request': 'true', 'X-CSRFToken': csrf}});
            out.push([r.status, await r.text()]);
        }
        return out;
    }""",
        [page.evaluate("JSON.parse(document.getElementById('ws').dataset.urls).spans"), len(ODD)],
    )
    assert [s for s, _ in statuses] == [422] * 6
    assert all("ws-msg-error" in body for _, body in statuses)
    assert db.layer().version == 0 and db.spans() == []  # the assignment's layer, untouched


# --- export, progress, help ----------------------------------------------------------------------


def test_what_the_browser_confirmed_exports_schema_valid(page: Page, ws_app, ws_server, tmp_path):
    doc = docs(ws_app)[0]
    name = "exporter"
    open_workspace(page, ws_app, ws_server, name, doc.uid)
    press(page, "j", "a", "a", "x")
    go_to(page, "256 gigabytes", "n")
    press(page, "a")
    go_to(page, "256 gigabytes", "k", kind="s")
    page.keyboard.press("Shift+C")
    expect(page.locator("#cf-value")).to_be_focused()
    press(page, "Enter")
    result = export(get_db(ws_app), labels_of(ws_app), name, out_dir=tmp_path)
    lines = (Path(result.path) / "data.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [doc.uid]
    record = records[0]
    jsonschema.validate(record, load_schema())
    assert record["layer"] == name and record["annotators"] == [name]
    stored = Stored(ws_app, name, doc.uid).spans()
    assert [(s["start"], s["end"], s["label"]) for s in record["spans"]] == [s[:3] for s in stored]
    for span in record["spans"]:
        assert record["text"][span["start"] : span["end"]] == span["text"]
    assert len(record["claims"]) == 1 and record["claims"][0]["quantity"] in {s["id"] for s in record["spans"]}


def test_progress_mark_done_navigation_and_help(page: Page, ws_app, ws_server):
    all_docs = docs(ws_app)
    doc = all_docs[1]
    db = Stored(ws_app, "finisher", doc.uid)
    open_workspace(page, ws_app, ws_server, "finisher", doc.uid)
    expect(page.locator("#ws-progress")).to_contain_text(f"0 of {len(all_docs)} done")
    page.keyboard.press("?")
    expect(page.locator("#ws-help")).to_be_visible()
    expect(page.locator("#ws-help")).to_contain_text("accept the suggestion")
    shoot(page, "workspace-help.png")
    page.keyboard.press("Escape")
    expect(page.locator("#ws-help")).to_be_hidden()
    page.once("dialog", lambda dialog: dialog.accept())  # suggestions are still pending: it asks first
    press(page, "Shift+D")
    expect(page.locator("#ws-progress")).to_contain_text(f"1 of {len(all_docs)} done")
    expect(page.locator("#ws-progress .ws-done-badge")).to_be_visible()
    assert db.layer().status == "done"
    with page.expect_navigation():
        page.keyboard.press("Shift+N")
    assert page.url.endswith(f"/annotate/{all_docs[2].uid}")
    ready(page)
    with page.expect_navigation():
        page.keyboard.press("Shift+P")
    expect(page.locator("#ws-progress .ws-done-badge")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "workspace.png")
    shoot(page, "workspace-full.png", full_page=True)
