"""The keystroke benchmark's model of the workspace keys (benchmarks/_keyplan.py) against the
page itself in Chromium: word steps, find and the claim form's type-ahead must land where the
page lands, or the benchmark would plan keys the page does not take."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from annotator.db import get_db
from annotator.models import Document
from benchmarks import _keyplan as kp
from benchmarks.keystrokes import STATE
from tests.conftest import seeded_copy, serving
from tests.helpers import browser_log_in, give

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def plan_app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("keyplan"), seeded_template)
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def plan_server(plan_app):
    with serving(plan_app) as url:
        yield url


@pytest.fixture(scope="module")
def sophgo(plan_app) -> Document:
    with get_db(plan_app).reading() as s:
        return s.exec(select(Document).where(Document.text.contains("256 gigabytes"))).scalars().one()


def open_doc(page: Page, app, server: str, doc: Document) -> kp.Words:
    give(app, "planner")
    browser_log_in(page, server, "planner")
    page.goto(f"{server}/annotate/{doc.uid}")
    page.wait_for_function("() => window.WSKeys && WSKeys.ready()")
    tokens = page.request.get(f"{server}/annotate/{doc.uid}/tokens?lo=0&hi={len(doc.text)}").json()["tokens"]
    blocks = page.evaluate("() => [...document.getElementById('doc-text').children].map((b) => +b.dataset.start)")
    return kp.Words(doc.text, [tuple(t) for t in tokens], blocks)


def test_word_steps_land_where_the_page_lands(page: Page, plan_app, plan_server, sophgo):
    words = open_doc(page, plan_app, plan_server, sophgo)
    text = sophgo.text
    offsets = sorted({0, len(text), *words.blocks, *range(0, len(text), 97), text.index("DeepSeek’s R1") + 8})
    for offset in offsets:
        for step in (1, -1):
            got = page.evaluate("([o, d]) => WSFind.word(o, d)", [offset, step])
            model = words.word(offset, step)
            assert (got and (got["start"], got["end"])) == (model and tuple(model)), (offset, step)
    for phrase in ("high", "DeepSeek", "China Telecommunication", "up to 1.1"):
        start = text.index(phrase)
        got = page.evaluate("([s, e]) => WSFind.extend({start: s, end: e}, 1)", [start, start + len(phrase)])
        assert (got["start"], got["end"]) == words.extend(start, start + len(phrase)), phrase


def test_find_plans_select_their_target(page: Page, plan_app, plan_server, sophgo):
    """The cheapest find plan for a phrase, pressed on the page, selects that phrase as the
    server will snap it (the label key is left out: nothing is stored)."""
    words = open_doc(page, plan_app, plan_server, sophgo)
    text = sophgo.text
    for phrase in ("card features", "China Telecommunication Technology Labs", "R1"):
        start = text.index(phrase)
        plans = kp.find_plans(page.evaluate(STATE), text, words, start, start + len(phrase), "?")
        assert plans, phrase
        best = min(plans, key=lambda p: p.keys)
        for kind, value in best.actions[:-1]:
            page.keyboard.press(value) if kind == "key" else page.keyboard.type(value)
        page.wait_for_function("() => WSSave.pending() === 0")
        sel = page.evaluate("() => WSOffsets.selectionOffsets(document.getElementById('doc-text'))")
        snapped = [t for t in words.tokens if t[1] > sel["start"] and t[0] < sel["end"]]
        assert (snapped[0][0], snapped[-1][1]) == (start, start + len(phrase)), (phrase, best.method, sel)
        page.keyboard.press("Escape")


OPTIONS = ["— none —", "card · ENTITY", "FP300 · PRODUCT", "Sophgo · ORG", "SC11 FP300 · PRODUCT", "CTTL · ORG"]


def test_type_ahead_picks_what_chromium_picks(page: Page):
    options = "".join(f"<option value='{i}'>{t}</option>" for i, t in enumerate(OPTIONS))
    for selected in (0, 2, 4):
        for typed in ("s", "ss", "sc", "f", "c", "ct", "fp3"):
            page.set_content(f"<select id='s'>{options}</select>")
            page.select_option("#s", str(selected))
            page.focus("#s")
            page.keyboard.type(typed)
            assert int(page.input_value("#s")) == kp.type_ahead(OPTIONS, selected, typed), (selected, typed)
