"""A long text in the workspace, shown a window of blocks at a time, in Chromium: scrolling
brings every block with exact offsets and drops the far ones, j walks every suggestion in
order across the window's edge, find counts the whole text and marks a match beyond the
window, accept all and a panel row reach blocks the page did not hold. Checked against what
the database stores.

The limits are made small (a text over 5,000 characters is windowed, 2,000 characters a
fetch) so a document of the seeds repeated shows every case the 1 MB one does.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select

from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.models import Document, Layer, Span, Suggestion, SuggestionDecision
from annotator.project import labels_of
from annotator.web.workspace.views import BLOCK_MAX, text_blocks
from tests.conftest import SEEDS, make_test_app, serving
from tests.helpers import browser_log_in, give
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser
expect.set_options(timeout=15000)

OVER, CHUNK, KEEP = 5000, 2000, 6  # KEEP: ws-window.js holds at most KEEP chunks
COUNTED = "() => WSSave.pending() === 0"
EDGE = "((end) => document.getElementById('doc-text')[end + 'ElementChild'].getBoundingClientRect())"
WHERE = f"""() => ({{scrollY, innerHeight, state: WSWindow.state(), first: {EDGE}('first').toJSON(),
  padding: document.getElementById('doc-text').style.paddingTop, active: document.activeElement.id}})"""


@pytest.fixture(scope="module")
def long_app(tmp_path_factory, prehighlighter):
    folder = tmp_path_factory.mktemp("window")
    app = make_test_app(folder, WORKSPACE_WINDOW_OVER=OVER, WORKSPACE_WINDOW_CHUNK=CHUNK, CONFIRM_BULK_OVER=5)
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    path = folder / "long.txt"
    path.write_text("\n\n".join(seeds * 3), encoding="utf-8")
    report = import_paths(get_db(app), [str(path)], labels_of(app), prehighlighter)
    assert report.ok and report.new == 1
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def long_server(long_app):
    with serving(long_app) as url:
        yield url


@pytest.fixture(scope="module")
def long_doc(long_app) -> Document:
    with get_db(long_app).reading() as s:
        return s.exec(select(Document)).scalars().one()


def open_as(page: Page, app, base: str, doc: Document, name: str) -> None:
    give(app, name, [doc.uid])
    browser_log_in(page, base, name)
    page.goto(f"{base}/annotate/{doc.uid}")
    page.wait_for_function("() => window.WSKeys && WSKeys.ready() && window.WSWindow")


def held(page: Page) -> dict:
    return page.evaluate(
        """() => ({
          window: WSWindow.state(),
          blocks: [...document.getElementById('doc-text').children].map(b => [b.id, +b.dataset.start, b.textContent]),
          marks: [...document.querySelectorAll('#doc-text mark')]
            .map(m => [+m.dataset.start, +m.dataset.end, m.textContent]),
        })"""
    )


def assert_exact(text: str, seen: dict) -> None:
    """Every block and mark on the page stands where the stored text says (code points)."""
    for _, start, piece in seen["blocks"]:
        assert text[start : start + len(piece)] == piece
    for start, end, piece in seen["marks"]:
        assert text[start:end] == piece


def pending_in_order(app, doc: Document, name: str) -> list[Suggestion]:
    with get_db(app).reading() as s:
        layer = s.exec(select(Layer).where(Layer.document_id == doc.id, Layer.name == name)).scalars().first()
        decided = set()
        if layer is not None:
            answered = select(SuggestionDecision.suggestion_id).where(SuggestionDecision.layer_id == layer.id)
            decided = set(s.exec(answered).scalars())
        rows = s.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
    rows = [r for r in rows if r.id not in decided]
    return sorted(rows, key=lambda r: (r.start, -r.end, r.label, r.id))


def spans_of(app, doc: Document, name: str) -> list[tuple[int, int, str]]:
    with get_db(app).reading() as s:
        query = select(Span.start, Span.end, Span.label).join(Layer, Layer.id == Span.layer_id)
        return sorted(s.exec(query.where(Layer.document_id == doc.id, Layer.name == name)).all())


def test_the_page_holds_a_window_and_scrolling_brings_every_block_exact(page: Page, long_app, long_server, long_doc):
    text, n = long_doc.text, len(text_blocks(long_doc.text))
    open_as(page, long_app, long_server, long_doc, "scroller")
    first = held(page)
    assert first["window"]["lo"] == 0 and first["window"]["n"] == n and first["window"]["chunk"] == CHUNK
    assert 1 < len(first["blocks"]) < n, "the page opens with the first blocks only"
    assert_exact(text, first)
    expect(page.locator("#ws-window-hint")).to_contain_text("finds in all of it")
    assert_accessible(page)

    seen, most, trimmed = set(), 0, False
    for _ in range(400):
        now = held(page)
        assert_exact(text, now)
        seen.update(b[0] for b in now["blocks"])
        starts = [b[1] for b in now["blocks"]]
        assert starts == sorted(starts) and now["window"]["hi"] - now["window"]["lo"] == len(now["blocks"])
        last = now["blocks"][-1]
        most = max(most, last[1] + len(last[2]) - now["blocks"][0][1])
        trimmed = trimmed or now["window"]["lo"] > 0
        at_end = page.evaluate("() => scrollY + innerHeight >= document.documentElement.scrollHeight - 4")
        if now["window"]["hi"] == n and at_end:
            break
        page.mouse.wheel(0, 900)
        page.wait_for_timeout(60)
    assert seen == {f"b-{i}" for i in range(n)}, "every block came as the page scrolled"
    assert trimmed and most <= (KEEP + 1) * CHUNK + BLOCK_MAX, "blocks far above were dropped"
    assert page.evaluate(f"() => {EDGE}('last').top < innerHeight")

    page.keyboard.press("Home")  # back to the top: the padding there is a jump, not a walk
    page.wait_for_function("() => WSWindow.state().lo === 0")
    try:
        page.wait_for_function(f"() => {EDGE}('first').bottom > 0")
    except PlaywrightTimeoutError:  # say where the page was (see the Home and End test below)
        pytest.fail(f"after Home the first block stayed above the screen: {page.evaluate(WHERE)}")
    assert_exact(text, held(page))


# the page's first jump answers late, as on a loaded server: the screen has moved on by then
SLOW_FIRST_JUMP = """() => {
  const real = window.fetch;
  window.slowJumps = 0;
  window.fetch = (url, options) => {
    if (String(url).includes("/blocks?at=") && window.slowJumps++ === 0)
      return new Promise((done) => setTimeout(done, 1500)).then(() => real(url, options));
    return real(url, options);
  };
}"""
ON_SCREEN = """() => [...document.querySelectorAll('#doc-text .blk')]
  .some((b) => { const r = b.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })"""


def test_a_late_jump_answer_does_not_land_where_the_screen_has_left(page: Page, long_app, long_server, long_doc):
    open_as(page, long_app, long_server, long_doc, "jumper")
    page.evaluate(SLOW_FIRST_JUMP)
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")  # into the padding: a jump
    page.wait_for_function("() => window.slowJumps === 1")
    page.evaluate("() => window.scrollTo(0, 0)")  # back to the first blocks before that jump answers
    page.wait_for_timeout(2500)  # the late answer has come by now
    page.wait_for_function(ON_SCREEN)
    now = held(page)
    assert now["window"]["lo"] == 0, "the blocks at the top stay: the late answer was for a screen left behind"
    assert_exact(long_doc.text, now)

    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")  # a jump that answers in time
    page.wait_for_function(f"() => WSWindow.state().hi === {len(text_blocks(long_doc.text))}")
    page.wait_for_function(ON_SCREEN)
    assert_exact(long_doc.text, held(page))


# every fetch of blocks answers 0-150 ms late, as on a loaded server: blocks then land while
# a scroll is still under way
LATE_BLOCKS = """() => {
  const real = window.fetch;
  window.fetch = (url, options) => String(url).includes("/blocks?")
    ? new Promise((done) => setTimeout(done, Math.random() * 150)).then(() => real(url, options))
    : real(url, options);
}"""
AT_TOP = f"() => scrollY === 0 && WSWindow.state().lo === 0 && {EDGE}('first').top >= 0"


def test_home_end_and_a_fling_upwards_reach_the_ends_of_the_text(page: Page, long_app, long_server, long_doc):
    """Home and End go to the text's ends at once, and a fling up lands on the first block
    with nothing above it: blocks that came while the browser's animated scroll ran, each
    kept in place, used to leave the page short of the end it went to."""
    open_as(page, long_app, long_server, long_doc, "edger")
    page.evaluate(LATE_BLOCKS)
    n = len(text_blocks(long_doc.text))
    for way_up in ("Home", "fling", "Home"):
        page.keyboard.press("End")
        try:
            page.wait_for_function(f"() => WSWindow.state().hi === {n} && {EDGE}('last').top < innerHeight")
        except PlaywrightTimeoutError:
            pytest.fail(f"after End the text's last block is not on the screen: {page.evaluate(WHERE)}")
        assert page.evaluate(f"() => {EDGE}('last').bottom > 0"), "the text's last block is on the screen"
        page.wait_for_timeout(300)  # the fetches that End set off have answered
        if way_up == "Home":
            page.keyboard.press("Home")
        else:
            for _ in range(12):
                page.mouse.wheel(0, -3000)
                page.wait_for_timeout(15)
        try:
            page.wait_for_function(AT_TOP, timeout=5000)
            page.wait_for_timeout(1000)  # and it stays there once the late blocks have come
            page.wait_for_function(AT_TOP, timeout=1000)
        except PlaywrightTimeoutError:
            pytest.fail(f"after {way_up} the page did not stay at the text's start: {page.evaluate(WHERE)}")
        assert_exact(long_doc.text, held(page))


def test_j_walks_every_suggestion_in_order_across_the_edge_and_a_accepts_beyond_it(
    page: Page, long_app, long_server, long_doc
):
    open_as(page, long_app, long_server, long_doc, "walker")
    first = held(page)
    edge = first["blocks"][-1][1] + len(first["blocks"][-1][2])
    expected = pending_in_order(long_app, long_doc, "walker")
    inside = sum(1 for r in expected if r.start < edge)
    walk = expected[: inside + 15]
    assert len(walk) > inside + 5, "the walk goes past the first window"
    got = []
    for _ in walk:
        before = page.evaluate("() => WSKeys.current() && WSKeys.current().key")
        page.keyboard.press("j")
        page.wait_for_function("(k) => WSKeys.current() && WSKeys.current().key !== k", arg=before)
        got.append(page.evaluate("() => WSKeys.current().key"))
    assert got == [f"g{r.id}" for r in walk]
    assert page.evaluate("() => WSWindow.state().hi") > first["window"]["hi"], "blocks past the edge were fetched"

    beyond = walk[-1]
    page.keyboard.press("a")
    page.wait_for_function(COUNTED)
    assert (beyond.start, beyond.end, beyond.label) in spans_of(long_app, long_doc, "walker")
    assert page.evaluate("(k) => WSKeys.current().key !== k", f"g{beyond.id}"), "the next suggestion is current"
    for _ in range(3):  # back over the span just made, then two suggestions
        page.keyboard.press("k")
    page.wait_for_function(COUNTED)
    assert page.evaluate("() => WSKeys.current().key") == f"g{walk[-3].id}"


def a_word_to_find(text: str) -> str:
    """A capitalised word that is a whole word wherever it appears, and appears often."""
    counts = Counter(re.findall(r"\b[A-Z][a-z]{4,}\b", text))
    for word, n in counts.most_common():
        if n >= 6 and len(re.findall(re.escape(word), text, flags=re.IGNORECASE)) == n:
            return word
    raise AssertionError("no word to find")


def test_find_counts_the_whole_text_and_marks_a_match_beyond_the_window(page: Page, long_app, long_server, long_doc):
    text = long_doc.text
    word = a_word_to_find(text)
    places = [m.start() for m in re.finditer(re.escape(word), text)]
    open_as(page, long_app, long_server, long_doc, "finder")
    first = held(page)
    edge = first["blocks"][-1][1] + len(first["blocks"][-1][2])
    far = next(i for i, p in enumerate(places) if p > edge + 2 * CHUNK)
    page.keyboard.press("/")
    page.keyboard.type(word)
    expect(page.locator("#ws-find-count")).to_have_text(f"1 of {len(places)}")
    for _ in range(far):
        page.keyboard.press("Enter")
    expect(page.locator("#ws-find-count")).to_have_text(f"{far + 1} of {len(places)}")
    page.wait_for_function("(p) => WSWindow.holds(p)", arg=places[far])
    page.keyboard.press("Escape")
    page.wait_for_function("(w) => String(window.getSelection()) === w", arg=word)
    hotkey = page.evaluate(
        "() => [...document.querySelectorAll('.pal[data-hotkey]')]"
        ".find(p => p.dataset.hotkey && !p.classList.contains('clash')).dataset.hotkey"
    )
    label = page.locator(f'.pal[data-hotkey="{hotkey}"]').get_attribute("data-label")
    page.keyboard.press(hotkey)
    page.wait_for_function(COUNTED)
    assert (places[far], places[far] + len(word), label) in spans_of(long_app, long_doc, "finder")
    assert_exact(text, held(page))


def test_accept_all_and_a_panel_row_reach_blocks_the_page_did_not_hold(page: Page, long_app, long_server, long_doc):
    page.on("dialog", lambda dialog: dialog.accept())
    open_as(page, long_app, long_server, long_doc, "bulk")
    before = held(page)["window"]
    page.keyboard.press("Shift+A")
    page.wait_for_function("() => WSSave.pending() === 0 && !document.querySelector('#doc-text mark.is-sugg')")
    assert pending_in_order(long_app, long_doc, "bulk") == []
    after = held(page)
    same = (after["window"]["lo"], after["window"]["hi"]) == (before["lo"], before["hi"])
    assert same, "the same window, re-rendered"
    assert_exact(long_doc.text, after)

    last = spans_of(long_app, long_doc, "bulk")[-1]
    row = page.locator(f'.span-row[data-start="{last[0]}"]').last
    row.scroll_into_view_if_needed()
    row.click()
    page.wait_for_function("(s) => WSKeys.current() && WSKeys.current().start === s", arg=last[0])
    mark = page.locator(f'#doc-text mark.cur[data-start="{last[0]}"]').first
    expect(mark).to_be_in_viewport()
    assert "is-span" in mark.get_attribute("class"), "blocks fetched after accept all show spans"
    assert_exact(long_doc.text, held(page))


def test_the_read_only_view_of_a_long_text_comes_in_parts(page: Page, long_app, long_server, long_doc):
    give(long_app, "reader", [long_doc.uid])
    browser_log_in(page, long_server, "reader")
    page.goto(f"{long_server}/documents/{long_doc.uid}")
    nav = page.get_by_role("navigation", name="Parts of the text (top)")
    expect(nav).to_contain_text("Part 1 of")
    assert_accessible(page)
    nav.get_by_role("link", name="Next part ›").click()
    expect(nav).to_contain_text("Part 2 of")
    start = int(page.locator("#doc-text mark").first.get_attribute("data-start"))
    shown = page.locator("#doc-text").text_content()
    at = long_doc.text.index(shown)
    assert long_doc.text[at : at + len(shown)] == shown and at <= start < at + len(shown)
