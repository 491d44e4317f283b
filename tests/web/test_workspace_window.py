"""A long text's window of blocks, on the server: the page holds the first blocks only, the
blocks route answers the rest with exact offsets and marks, the text route the whole text
code point for code point, and a write's answer swaps only blocks the page holds while the
span panel still hears of every block. SQLite and PostgreSQL, through Flask's test client.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from annotator.db import get_db
from annotator.models import Document, Suggestion
from annotator.nlp.tokenizer import tokenize
from annotator.tokens import pack
from annotator.web.workspace.panel import BLOCKS_PER_GROUP
from annotator.web.workspace.views import chunk_after, chunk_at, chunk_before, text_blocks, window_from
from tests.helpers import give, log_in

# ~60 paragraphs, emoji and CRLF in every one: offsets are code points
PARAGRAPH = "Block {i} 😀: Huawei ships the Ascend 910C, 256 GB each.\r\n\r\n"
TEXT = "\ufeff" + "".join(PARAGRAPH.format(i=i) for i in range(60))
OVER, CHUNK = 500, 300
HX = {"HX-Request": "true"}
BLOCK = re.compile(r'<div class="blk" id="b-(\d+)" data-start="(\d+)"([^>]*)>(.*?)</div>', re.S)
MARK = re.compile(r'<mark [^>]*data-start="(\d+)" data-end="(\d+)"[^>]*>(.*?)</mark>', re.S)


@pytest.fixture
def long_ws(any_app):
    any_app.config.update(WORKSPACE_WINDOW_OVER=OVER, WORKSPACE_WINDOW_CHUNK=CHUNK)
    with get_db(any_app).writing() as s:
        doc = Document(uid="long", text=TEXT, lang="en", n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en")))
        s.add(doc)
        s.flush()
        for m in re.finditer("Huawei", TEXT):
            s.add(Suggestion(document_id=doc.id, start=m.start(), end=m.end(), label="ORG", origin="model"))
    client = any_app.test_client()
    give(any_app, "alice")
    log_in(any_app, client, "alice")
    return client


def blocks_in(html: str) -> list[tuple[int, int, str]]:
    """(index, start, text) of every block, each checked against the stored text with its marks."""
    out = []
    for index, start, _, inner in BLOCK.findall(html):
        for a, b, piece in MARK.findall(inner):
            assert TEXT[int(a) : int(b)] == unescape(piece)
        plain = unescape(re.sub(r"<[^>]+>", "", inner))
        assert TEXT[int(start) : int(start) + len(plain)] == plain
        out.append((int(index), int(start), plain))
    return out


def test_chunks_cover_the_text_in_order_with_enough_characters():
    bounds = text_blocks(TEXT)
    at, seen = 0, []
    while at < len(bounds):
        got = chunk_after(bounds, at, CHUNK)
        assert got.start == at and got.stop > at
        assert got.stop == len(bounds) or bounds[got.stop - 1][1] - bounds[at][0] >= CHUNK
        seen += list(got)
        at = got.stop
    assert seen == list(range(len(bounds)))
    back = chunk_before(bounds, len(bounds), CHUNK)
    assert back.stop == len(bounds) and bounds[-1][1] - bounds[back.start][0] >= CHUNK
    assert chunk_before(bounds, 0, CHUNK) == range(0, 0) and chunk_after(bounds, len(bounds), CHUNK) == range(0, 0)
    middle = len(TEXT) // 2
    around = chunk_at(bounds, middle, CHUNK)
    assert bounds[around.start][0] <= middle < bounds[around.stop - 1][1]


def test_a_window_header_is_read_or_ignored():
    bounds = text_blocks(TEXT)
    assert window_from("3 9", bounds, CHUNK)[:3] == (3, 9, len(bounds))
    assert window_from(f"0 {len(bounds)}", bounds) is None  # the whole text: no window
    for bad in (None, "", "3", "a b", "-1 4", "1 2 3"):
        assert window_from(bad, bounds) is None


def test_the_page_holds_the_first_blocks_and_the_rest_come_exact(long_ws):
    bounds = text_blocks(TEXT)
    page = long_ws.get("/annotate/long").get_data(as_text=True)
    window = re.search(r'data-window="(\d+) (\d+) (\d+) (\d+)"', page).groups()
    lo, hi, n, chunk = map(int, window)
    assert (lo, n, chunk) == (0, len(bounds), CHUNK) and 1 < hi < n
    shown = blocks_in(page)
    assert [b[0] for b in shown] == list(range(lo, hi))
    assert len(re.findall(r'class="span-group"', page)) == -(-len(bounds) // BLOCKS_PER_GROUP)

    have, last = [b[2] for b in shown], hi - 1
    while last < n - 1:  # what the page fetches as it scrolls: the blocks after the last it holds
        answer = long_ws.get(f"/annotate/long/blocks?after={last}")
        assert answer.status_code == 200
        first, stop, total = map(int, answer.headers["X-WS-Blocks"].split())
        got = blocks_in(answer.get_data(as_text=True))
        assert [b[0] for b in got] == list(range(first, stop)) and first == last + 1 and total == n
        have += [b[2] for b in got]
        last = stop - 1
    assert "".join(have) == TEXT
    assert long_ws.get(f"/annotate/long/blocks?after={n - 1}").status_code == 204

    before = long_ws.get(f"/annotate/long/blocks?before={n}")
    assert [b[0] for b in blocks_in(before.get_data(as_text=True))][-1] == n - 1
    at = TEXT.index("Block 41 ")
    jumped = blocks_in(long_ws.get(f"/annotate/long/blocks?at={at}").get_data(as_text=True))
    assert any(start <= at < start + len(piece) for _, start, piece in jumped)


def test_the_text_route_gives_every_code_point(long_ws):
    answer = long_ws.get("/annotate/long/text")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert json.loads(answer.get_data())["text"] == TEXT  # the byte-order mark, emoji and CRLF too


@pytest.mark.parametrize("query", ["", "after=x", "after=-1", "after=1&before=2", "at=1.5"])
def test_a_bad_blocks_request_is_refused_with_a_message(long_ws, query):
    answer = long_ws.get(f"/annotate/long/blocks?{query}")
    assert answer.status_code == 422 and "after=" in answer.get_data(as_text=True)


def test_blocks_and_text_need_the_document_assigned(long_ws, any_app):
    log_in(any_app, long_ws, "bob")  # an annotator with nothing assigned
    for path in ("/annotate/long/blocks?after=0", "/annotate/long/text"):
        answer = long_ws.get(path, headers=HX)
        assert answer.status_code == 403 and TEXT[:20] not in answer.get_data(as_text=True)
    assert long_ws.get("/annotate/nothing/text", headers=HX).status_code == 404


def test_a_write_swaps_only_the_blocks_the_page_holds_and_the_panel_hears_of_all(long_ws, any_app):
    bounds = text_blocks(TEXT)
    with get_db(any_app).reading() as s:
        ids = s.exec(select(Suggestion.id).order_by(Suggestion.start)).scalars().all()
    window = {"X-WS-Window": "0 6", **HX}
    # one suggestion far outside the window: no block to swap, its span group still swapped
    far = ids[-1]
    one = {"decision": "accepted", "ids": far, "version": 0}
    answer = long_ws.post("/annotate/long/decide", data=one, headers=window)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and not BLOCK.findall(html)
    last_group = (len(bounds) - 1) // BLOCKS_PER_GROUP
    assert f'id="ps-g-{last_group}" hx-swap-oob="true"' in html and "Huawei" in html

    # accept all: every block touched; a page holding 45 blocks (more than are swapped one by
    # one) gets its own window back, re-rendered whole
    assert len(bounds) > 45
    wide = {"X-WS-Window": "0 45", **HX}
    answer = long_ws.post(
        "/annotate/long/decide", data={"decision": "accepted", "scope": "all", "version": 1}, headers=wide
    )
    html = answer.get_data(as_text=True)
    assert re.search(rf'id="doc-text"[^>]*data-window="0 45 {len(bounds)} {CHUNK}"', html)
    assert [b[0] for b in blocks_in(html)] == list(range(45)) and 'class="m lbl' in html and "is-sugg" not in html
    assert html.count('class="span-row"') == len(ids), "the panel lists every span, in and out of the window"
