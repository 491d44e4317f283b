"""The document list and the read-only document view, through Flask's test client."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, func, select

from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.models import Document, Suggestion
from annotator.project import labels_of
from tests.helpers import curator

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
HX = {"HX-Request": "true", "HX-Target": "document-rows"}
LEGEND_ITEM = re.compile(r'<span class="name">([^<]+)</span>\s*<span class="n">([\d,]+)</span>')


# --- helpers --------------------------------------------------------------------------------


class Page(HTMLParser):
    """Just enough of a page: tags seen, marks in #doc-text, rows of the list, element ids."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.ids: list[str] = []
        self.marks: list[dict] = []
        self.doc_text: str | None = None
        self.rows: list[dict] = []
        self._depth = 0  # inside #doc-text: element nesting depth (+1)
        self._mark: dict | None = None
        self._row: dict | None = None
        self._chip: dict | None = None
        self._text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if attrs.get("id") == "doc-text":
            self._depth = 1
            return
        if self._depth:
            self._depth += 1
            if tag == "mark":
                self._mark = {**attrs, "text": ""}
        if tag == "tr" and "data-uid" in attrs:
            self._row = {"uid": attrs["data-uid"], "chips": {}, "cells": []}
        if self._row is not None and tag == "span" and "chip" in attrs.get("class", ""):
            self._chip = {"label": attrs["data-label"], "text": ""}

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1
            if self._depth == 0:
                self.doc_text = "".join(self._text)
            if tag == "mark" and self._mark is not None:
                self.marks.append(self._mark)
                self._mark = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if tag == "span" and self._chip is not None:
            self._row["chips"][self._chip["label"]] = int(self._chip["text"].split()[-1])
            self._chip = None

    def handle_data(self, data):
        if self._depth:
            self._text.append(data)
            if self._mark is not None:
                self._mark["text"] += data
        if self._chip is not None:
            self._chip["text"] += data

    def elements(self, tag: str) -> list[dict]:
        return [attrs for t, attrs in self.tags if t == tag]


def import_records(app, tmp_path, records: list[dict], name: str = "docs.jsonl"):
    """Import records as an annotator would (a .jsonl file), without the pre-highlighter."""
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    report = import_paths(get_db(app), [str(path)], labels_of(app), None)
    assert report.ok, [str(p) for p in report.problems]
    return report


def stored(app):
    with get_db(app).reading() as session:
        docs = session.exec(select(Document).order_by(Document.id)).scalars().all()
        counts = Counter()
        for doc_id, label, n in session.exec(
            select(Suggestion.document_id, Suggestion.label, func.count()).group_by(
                Suggestion.document_id, Suggestion.label
            )
        ).all():
            counts[(doc_id, label)] = n
    return docs, counts


def check_marks(page: Page, text: str) -> None:
    """Marks carry code-point offsets into the stored text, and the page shows the text whole."""
    assert page.doc_text == text
    for mark in page.marks:
        start, end = int(mark["data-start"]), int(mark["data-end"])
        assert text[start:end] == mark["text"], mark


def numbered_records(n: int, lang: str, prefix: str) -> list[dict]:
    return [
        {
            "text": f"{prefix} {i}: Huawei makes the Ascend 910C.",
            "lang": lang,
            "meta": {"title": f"{prefix} {i:03d}"},
            "spans": [{"start": len(f"{prefix} {i}: "), "end": len(f"{prefix} {i}: Huawei"), "label": "ORG"}],
        }
        for i in range(n)
    ]


# --- the list -------------------------------------------------------------------------------


def test_list_shows_the_seeds_with_counts_per_label(seeded_app):
    docs, counts = stored(seeded_app)
    page = Page(curator(seeded_app).get("/").get_data(as_text=True))
    assert [r["uid"] for r in page.rows] == [d.uid for d in docs]
    assert len(page.rows) == 5
    for doc, row in zip(docs, page.rows):
        expected = {label: n for (doc_id, label), n in counts.items() if doc_id == doc.id}
        assert row["chips"] == expected
        assert sum(expected.values()) == doc.n_suggestions > 0


def test_list_links_every_document_and_names_it(seeded_app):
    html = curator(seeded_app).get("/").get_data(as_text=True)
    docs, _ = stored(seeded_app)
    for doc in docs:
        assert f'href="/documents/{doc.uid}"' in html
    assert "5</span> documents" in html
    assert "China’s Sophgo Chip Powers DeepSeek AI Model" in html


def test_pagination_full_page_and_htmx_fragment(any_app, tmp_path):
    import_records(any_app, tmp_path, numbered_records(5, "en", "Doc"))
    any_app.config["PAGE_SIZE"] = 2
    client = curator(any_app)

    full = client.get("/?page=2")
    html = full.get_data(as_text=True)
    page = Page(html)
    assert full.status_code == 200 and html.lstrip().startswith("<!doctype html>")
    assert [a["id"] for a in page.elements("a") if a.get("id", "").startswith("page-")] == [
        "page-first",
        "page-prev",
        "page-next",
        "page-last",
    ]
    assert len(page.rows) == 2 and "Page 2 of 3" in html
    assert "HX-Request" in full.headers.get("Vary", "")

    fragment = client.get("/?page=3", headers=HX)
    body = fragment.get_data(as_text=True)
    frag = Page(body)
    assert body.lstrip().startswith('<div id="document-rows"') and body.rstrip().endswith("</div>")
    assert "<html" not in body and "<form" not in body and "lang-filter" not in body
    assert len(frag.rows) == 1 and "Page 3 of 3" in body
    assert "HX-Request" in fragment.headers.get("Vary", "")

    # pages beyond the end show the last page; nonsense shows the first
    assert len(Page(client.get("/?page=99", headers=HX).get_data(as_text=True)).rows) == 1
    assert "Page 1 of 3" in client.get("/?page=abc", headers=HX).get_data(as_text=True)
    # htmx restoring history (or a boosted link) needs the whole page
    restore = client.get("/?page=2", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<!doctype html>" in restore.get_data(as_text=True)


def test_rows_are_in_import_order_across_pages(any_app, tmp_path):
    """Every document once, in order, whichever end a page is counted from."""
    import_records(any_app, tmp_path, numbered_records(7, "en", "Doc"), "a.jsonl")
    import_records(any_app, tmp_path, numbered_records(5, "pt", "Doc pt"), "b.jsonl")
    import_records(any_app, tmp_path, numbered_records(2, "en", "More"), "c.jsonl")
    docs, _ = stored(any_app)
    client = curator(any_app)
    for size, lang in ((3, ""), (4, ""), (2, "pt"), (3, "en")):
        any_app.config["PAGE_SIZE"] = size
        expected = [d.uid for d in docs if not lang or d.lang == lang]
        seen = []
        for n in range(1, -(-len(expected) // size) + 1):
            seen += [
                r["uid"] for r in Page(client.get(f"/?page={n}&lang={lang}", headers=HX).get_data(as_text=True)).rows
            ]
        assert seen == expected, (size, lang)


def test_language_filter_full_page_and_fragment(any_app, tmp_path):
    import_records(any_app, tmp_path, numbered_records(3, "en", "English") + numbered_records(4, "pt", "Português"))
    any_app.config["PAGE_SIZE"] = 3
    client = curator(any_app)

    full = client.get("/?lang=pt").get_data(as_text=True)
    page = Page(full)
    after = page.tags[[a.get("id") for _, a in page.tags].index("lang-filter") + 1 :]
    options = {a["value"]: a for _, a in itertools.takewhile(lambda tag: tag[0] == "option", after)}
    assert set(options) == {"", "en", "pt"} and "selected" in options["pt"] and "selected" not in options["en"]
    assert "4</span> documents in <strong>pt</strong>" in full
    assert len(page.rows) == 3
    # the pager keeps the filter
    assert 'href="/?page=2&amp;lang=pt"' in full

    fragment = client.get("/?lang=pt&page=2", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="document-rows"') and "<select" not in fragment
    docs, _ = stored(any_app)
    pt = [d.uid for d in docs if d.lang == "pt"]
    assert [r["uid"] for r in Page(fragment).rows] == pt[3:]

    assert len(Page(client.get("/?lang=en", headers=HX).get_data(as_text=True)).rows) == 3
    empty = client.get("/?lang=xx", headers=HX).get_data(as_text=True)
    assert "No documents in this language" in empty and not Page(empty).rows


def test_list_counts_per_label_on_any_database(any_app, tmp_path):
    text = "Nvidia sells the H100 and the H800 to Baidu in China."
    spans = [
        {"start": 0, "end": 6, "label": "ORG"},
        {"start": 17, "end": 21, "label": "PRODUCT"},
        {"start": 30, "end": 34, "label": "PRODUCT"},
        {"start": 38, "end": 43, "label": "ORG"},
        {"start": 47, "end": 52, "label": "GPE"},
    ]
    import_records(any_app, tmp_path, [{"text": text, "lang": "en", "spans": spans}])
    (row,) = Page(curator(any_app).get("/").get_data(as_text=True)).rows
    assert row["chips"] == {"ORG": 2, "PRODUCT": 2, "GPE": 1}


def test_list_runs_a_fixed_number_of_indexed_queries(app, tmp_path):
    """No query per row, no document text read, and every query on an index (SQLite)."""
    engine = get_db(app).engine

    def statements(url: str) -> list[tuple[str, tuple]]:
        seen = []

        def before(_conn, _cursor, statement, parameters, _context, executemany):
            seen.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
        # the login's one lookup of the user by primary key is per request, not per row
        return [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT") and 'FROM "user"' not in s]

    client = curator(app)
    import_records(app, tmp_path, numbered_records(3, "en", "A"), "a.jsonl")
    few = statements("/")
    import_records(app, tmp_path, numbered_records(40, "pt", "B"), "b.jsonl")
    many = statements("/")
    assert len(few) == len(many) <= 5
    app.config["PAGE_SIZE"] = 5  # pages before and after the middle are read from either end
    urls = ["/?page=2", "/?page=8", "/?lang=pt&page=2", "/?lang=pt&page=7"]
    runs = [statements(url) for url in urls]
    assert all(len(run) == len(many) for run in runs)
    with engine.connect() as conn:
        for statement, params in many + [s for run in runs for s in run]:
            assert "document.text" not in statement
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()]
            for line in plan:
                assert "TEMP B-TREE FOR ORDER BY" not in line, (statement, plan)
                if "suggestion" in line:
                    assert line.startswith("SEARCH suggestion USING") and "INDEX" in line, (statement, plan)
                if line.startswith("SCAN document"):
                    # a covering index, or the rowid order itself (only ids are read there)
                    assert "COVERING INDEX" in line or statement.count("SELECT") == 2, (statement, plan)


# --- the document view ----------------------------------------------------------------------


def test_view_marks_are_code_point_offsets_into_the_stored_text(seeded_app):
    docs, counts = stored(seeded_app)
    client = curator(seeded_app)
    for doc in docs:
        response = client.get(f"/documents/{doc.uid}")
        assert response.status_code == 200
        page = Page(response.get_data(as_text=True))
        check_marks(page, doc.text)
        with get_db(seeded_app).reading() as session:
            rows = session.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
        # marks only where suggestions are, never one element per token
        covered = set()
        for mark in page.marks:
            covered.update(range(int(mark["data-start"]), int(mark["data-end"])))
        expected = set()
        for row in rows:
            expected.update(range(row.start, row.end))
        assert covered == expected
        assert 0 < len(page.marks) <= 2 * len(rows)
        # the legend counts what is stored
        legend = {li["data-label"] for li in page.elements("li") if "data-label" in li}
        assert set(labels_of(seeded_app).entity_labels) <= legend
        html = response.get_data(as_text=True)
        shown = {label: int(n) for label, n in LEGEND_ITEM.findall(html)}
        assert {label: n for label, n in shown.items() if n} == {
            label: n for (doc_id, label), n in counts.items() if doc_id == doc.id
        }


def test_view_marks_name_labels_origin_and_parsed_values(seeded_app):
    docs, _ = stored(seeded_app)
    quantity = labels_of(seeded_app).quantity_label
    client = curator(seeded_app)
    seen_value = False
    for doc in docs:
        page = Page(client.get(f"/documents/{doc.uid}").get_data(as_text=True))
        with get_db(seeded_app).reading() as session:
            rows = session.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
        for mark in page.marks:
            start, end = int(mark["data-start"]), int(mark["data-end"])
            covering = [r for r in rows if r.start <= start and end <= r.end]
            assert covering and set(mark["data-labels"].split()) == {r.label for r in covering}
            for row in covering:
                assert f"{row.label} · {row.origin}" in mark["data-tip"]
                if row.label == quantity and row.value is not None and row.unit:
                    assert row.unit in mark["data-tip"]
                    seen_value = True
            assert "lbl-" in mark["class"]
    assert seen_value, "no quantity with a parsed value and unit in the seeds"


def test_view_lists_quantities_linked_to_their_marks(seeded_app):
    docs, _ = stored(seeded_app)
    quantity = labels_of(seeded_app).quantity_label
    for doc in docs:
        page = Page(curator(seeded_app).get(f"/documents/{doc.uid}").get_data(as_text=True))
        links = [a["href"][1:] for a in page.elements("a") if a.get("href", "").startswith("#q-")]
        with get_db(seeded_app).reading() as session:
            starts = set(
                session.exec(
                    select(Suggestion.start).where(Suggestion.document_id == doc.id, Suggestion.label == quantity)
                ).scalars()
            )
        assert {f"q-{s}" for s in starts} == set(links)
        assert set(links) <= set(page.ids)


def test_a_long_text_is_viewed_in_parts_with_exact_marks_and_quantity_links(seeded_app):
    """Over the window limit the read-only view shows a part at a time (here 800+ characters
    a part): the parts put together are the text, every suggestion is marked where it lies,
    the legend counts the whole text, and a quantity's link names the part holding it."""
    seeded_app.config.update(WORKSPACE_WINDOW_OVER=1000, WORKSPACE_WINDOW_CHUNK=400)
    docs, counts = stored(seeded_app)
    doc = max(docs, key=lambda d: len(d.text))
    client = curator(seeded_app)
    quantity = labels_of(seeded_app).quantity_label
    first = Page(client.get(f"/documents/{doc.uid}").get_data(as_text=True))
    navs = [n for n in first.elements("nav") if n.get("id", "").startswith("doc-parts")]
    assert len(navs) == 2 and all(n["aria-label"].startswith("Parts of the text") for n in navs)
    parts, texts, marked, ids = 1, [], [], {}
    while True:
        html = client.get(f"/documents/{doc.uid}?part={parts}").get_data(as_text=True)
        page = Page(html)
        texts.append(page.doc_text)
        for mark in page.marks:
            start, end = int(mark["data-start"]), int(mark["data-end"])
            assert doc.text[start:end] == mark["text"]
            marked.append((start, end))
        ids[parts] = set(page.ids)
        legend = {li["data-label"] for li in page.elements("li") if "legend-item" in li.get("class", "")}
        assert {label for (doc_id, label) in counts if doc_id == doc.id} <= legend
        if 'rel="next"' not in html.split('id="doc-parts-top"')[1].split("</nav>")[0]:
            break
        parts += 1
    assert parts > 2 and "".join(texts) == doc.text
    with get_db(seeded_app).reading() as session:
        rows = session.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
    for row in rows:  # every suggestion is covered by marks from its start to its end
        assert any(a <= row.start < b for a, b in marked) and any(a < row.end <= b for a, b in marked)
    links = [a["href"] for a in first.elements("a") if "#q-" in a.get("href", "")]
    assert len(links) == sum(1 for r in rows if r.label == quantity)
    for href in links:
        number = int(re.search(r"part=(\d+)", href).group(1)) if "part=" in href else 1
        assert href.split("#")[1] in ids[number], f"{href} points at a part without that quantity"
    last = Page(client.get(f"/documents/{doc.uid}?part=999").get_data(as_text=True))
    assert last.doc_text == texts[-1]
    assert Page(client.get(f"/documents/{doc.uid}?part=abc").get_data(as_text=True)).doc_text == texts[0]


@pytest.mark.parametrize(
    "span, expected",
    [
        ({"value": 1.1, "unit": "TB/s", "qualifier": "up_to"}, "up to 1.1 TB/s"),
        ({"value": 2e12, "unit": "USD", "qualifier": None}, "2,000,000,000,000 USD"),
        ({"value": 10, "value_max": 20, "unit": "m", "qualifier": None}, "10–20 m"),
        ({"value": 4.2, "tolerance": 0.3, "unit": "g", "qualifier": None}, "4.2 ± 0.3 g"),
        ({"value": 10000, "unit": None, "qualifier": "approx"}, "about 10,000"),
        ({"value": 0.000015, "unit": "mg/L", "qualifier": "more_than"}, "more than 1.5e-05 mg/L"),
        ({"value": None, "unit": None, "qualifier": None}, ""),
    ],
)
def test_quantity_summary_reads_like_the_text(span, expected):
    from annotator.web.rendering import quantity_summary

    assert quantity_summary(span) == expected


def test_view_neighbours_and_metadata(seeded_app):
    docs, _ = stored(seeded_app)
    client = curator(seeded_app)
    first = client.get(f"/documents/{docs[0].uid}").get_data(as_text=True)
    middle = client.get(f"/documents/{docs[2].uid}").get_data(as_text=True)
    last = client.get(f"/documents/{docs[-1].uid}").get_data(as_text=True)
    assert 'id="doc-prev"' not in first and f'href="/documents/{docs[1].uid}" rel="next"' in first
    assert (
        f'href="/documents/{docs[1].uid}" rel="prev"' in middle
        and f'href="/documents/{docs[3].uid}" rel="next"' in middle
    )
    assert 'id="doc-next"' not in last
    assert docs[2].uid in middle and f">{docs[2].lang} <" in middle


def test_untrusted_markup_renders_as_text_everywhere(any_app, tmp_path):
    text = f"Intro {XSS_SCRIPT} middle {XSS_IMG} end & <b>bold</b> \"quoted\" 'single'"
    s = text.index(XSS_SCRIPT)
    i = text.index(XSS_IMG)
    import_records(
        any_app,
        tmp_path,
        [
            {
                "text": text,
                "lang": "en",
                "meta": {
                    "title": f"{XSS_SCRIPT} title {XSS_IMG}",
                    "url": "javascript:alert(1)",
                    "note": f"{XSS_IMG}",
                    "nested": {"x": XSS_SCRIPT},
                    f"key{XSS_IMG}": "v",
                },
                "spans": [
                    {"start": s, "end": s + len(XSS_SCRIPT), "label": "ORG"},
                    {"start": i, "end": i + len(XSS_IMG), "label": "PRODUCT"},
                ],
            }
        ],
    )
    doc = stored(any_app)[0][0]
    client = curator(any_app)
    for url in ("/", f"/documents/{doc.uid}"):
        html = client.get(url).get_data(as_text=True)
        page = Page(html)
        scripts = page.elements("script")
        assert len(scripts) == 1 and scripts[0]["src"].endswith("htmx.min.js"), scripts
        assert not page.elements("img") and "<b>bold</b>" not in html
        assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
        assert "javascript:" not in " ".join(a.get("href", "") for a in page.elements("a"))
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    page = Page(client.get(f"/documents/{doc.uid}").get_data(as_text=True))
    check_marks(page, text)
    assert [m["text"] for m in page.marks] == [XSS_SCRIPT, XSS_IMG]


def test_emoji_crlf_and_combining_marks_keep_code_point_offsets(any_app, tmp_path):
    text = (
        "Tim Cook 😀 visited Apple in London.\r\n"
        "Cafe\u0301 owners 👩‍👩‍👧 bought 3 H100 cards\r\n\r\n"
        "🇧🇷 Nvidia e a Huawei\r\n"
    )
    words = ["Apple", "London", "Cafe\u0301", "H100", "Nvidia", "Huawei", "😀 visited"]
    spans = []
    for word, label in zip(words, ["ORG", "GPE", "ORG", "PRODUCT", "ORG", "ORG", "PERSON"]):
        start = text.index(word)
        spans.append({"start": start, "end": start + len(word), "label": label, "text": word})
    import_records(any_app, tmp_path, [{"text": text, "lang": "en", "spans": spans}])
    doc = stored(any_app)[0][0]
    assert doc.text == text
    response = curator(any_app).get(f"/documents/{doc.uid}")
    html = response.get_data(as_text=True)
    page = Page(html)
    check_marks(page, text)
    assert "&#13;\n" in html and "\r" not in html  # a browser would drop a literal CR
    by_text = {m["text"]: (int(m["data-start"]), int(m["data-end"])) for m in page.marks}
    assert by_text["Apple"] == (19, 24)  # code points: the emoji counts once
    assert by_text["H100"] == (text.index("H100"), text.index("H100") + 4)
    assert by_text["Cafe\u0301"][1] - by_text["Cafe\u0301"][0] == 5
    assert by_text["Huawei"][0] == text.index("Huawei")


def test_unknown_document_is_our_404_page(app):
    client = curator(app)
    for url in ("/documents/0000000000000000", "/no/such/page"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert '<h1 id="error-title">Not found</h1>' in html and 'href="/"' in html
        assert "The requested URL was not found on the server" not in html
        assert "app.css" in html
    assert "0000000000000000" in client.get("/documents/0000000000000000").get_data(as_text=True)
    escaped = client.get("/documents/%3Cimg%20src=x%20onerror=alert(1)%3E").get_data(as_text=True)
    assert "<img" not in escaped and "&lt;img src=x onerror=alert(1)&gt;" in escaped


def test_server_error_page_hides_the_exception(app):
    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = curator(app).get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html and "secret detail" not in html and "app.css" in html


def test_empty_project_says_how_to_import(app):
    html = curator(app).get("/").get_data(as_text=True)
    assert "No documents yet" in html and "0</span> documents" in html


@pytest.mark.parametrize("colour", ["red; background: url(x)", "#12345", "</style><script>alert(1)</script>"])
def test_label_colours_cannot_inject_css_or_markup(app, colour):
    labels = labels_of(app)
    entity = next(iter(labels.entities.values()))
    original = entity.get("color")
    entity["color"] = colour
    try:
        client = curator(app)
        html = client.get("/").get_data(as_text=True)
        css = client.get("/labels.css").get_data(as_text=True)  # the colours' own stylesheet
    finally:
        entity["color"] = original
    assert colour not in html and colour not in css and "--label-color:#c8c8c8" in css
