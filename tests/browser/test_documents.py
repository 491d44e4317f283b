"""The document list and view in Chromium: seeds, highlights, escaping, htmx pagination.

Screenshots of the list and of a document go to tests/artifacts/screenshots/ for review.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.models import Document
from annotator.project import labels_of
from tests.conftest import make_test_app, serving
from tests.helpers import add_user, browser_log_in

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
# Marks a payload would leave behind if the page ever ran it.
SCRIPT = "<script>window.__ran = 'script'; alert(1)</script>"
IMG = "<img src=x onerror=\"window.__ran = 'img'; alert(2)\">"


def import_jsonl(app, folder: Path, records: list[dict], name: str) -> None:
    path = folder / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    report = import_paths(get_db(app), [str(path)], labels_of(app), None)
    assert report.ok, [str(p) for p in report.problems]


def documents(app) -> list[Document]:
    with get_db(app).reading() as session:
        return session.exec(select(Document).order_by(Document.id)).scalars().all()


def shoot(page: Page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


@pytest.fixture(scope="module")
def paged_server(tmp_path_factory):
    """A second live server with three documents per page: 5 English + 3 Portuguese."""
    folder = tmp_path_factory.mktemp("paged")
    app = make_test_app(folder, PAGE_SIZE=3)
    records = [
        {
            "text": f"Document {i}: Huawei ships the Ascend 910C to Baidu.",
            "lang": "en",
            "meta": {"title": f"English document {i}"},
            "spans": [{"start": 12 + len(str(i)), "end": 18 + len(str(i)), "label": "ORG"}],
        }
        for i in range(1, 6)
    ]
    records += [
        {
            "text": f"Documento {i}: a Huawei vende o Ascend 910C.",
            "lang": "pt",
            "meta": {"title": f"Documento português {i}"},
        }
        for i in range(1, 4)
    ]
    import_jsonl(app, folder, records, "paged.jsonl")
    add_user(app, "lead", "curator")
    with serving(app) as url:
        yield url
    get_db(app).dispose()


@pytest.fixture(autouse=True)
def logged_in(page: Page, live_app, live_server):
    """Every page needs a login: these tests look as a curator (who sees every document)."""
    add_user(live_app, "lead", "curator")
    browser_log_in(page, live_server, "lead")


def test_list_shows_the_five_seeds(page: Page, live_app):
    seeds = documents(live_app)[:5]
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    expect(page).to_have_title("Documents · claim annotator")
    rows = page.locator("#document-rows tbody tr")
    assert rows.count() >= 5
    for i, doc in enumerate(seeds):
        row = rows.nth(i)
        expect(row).to_have_attribute("data-uid", doc.uid)
        expect(row.get_by_role("link", name=doc.title)).to_be_visible()
        expect(row.locator(".suggestion-counts .total")).to_have_text(f"{doc.n_suggestions:,}")
        assert row.locator(".chip").count() > 1
    expect(page.get_by_role("link", name="China’s Sophgo Chip Powers DeepSeek AI Model")).to_be_visible()
    shoot(page, "document-list.png")


def test_document_view_shows_highlights_legend_and_hover_card(page: Page, live_app):
    doc = documents(live_app)[0]
    labels = labels_of(live_app)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    page.get_by_role("link", name=doc.title).click()
    expect(page.locator("h1")).to_have_text(doc.title)
    marks = page.locator("#doc-text mark")
    assert marks.count() > 10
    # the page's text is the stored text, and every mark's offsets count code points
    checked = page.evaluate("""() => {
        const root = document.getElementById('doc-text');
        return [...root.querySelectorAll('mark')].map(m => {
            const r = document.createRange(); r.setStart(root, 0); r.setEndBefore(m);
            return [[...r.toString()].length, +m.dataset.start, +m.dataset.end, m.textContent];
        });
    }""")
    assert page.locator("#doc-text").text_content() == doc.text
    for before, start, end, text in checked:
        assert before == start and doc.text[start:end] == text
    # colours come from the label configuration; the legend names every label with a count
    for label in ("ORG", labels.quantity_label):
        mark = page.locator(f'#doc-text mark[data-labels="{label}"]').first
        colour = mark.evaluate("m => getComputedStyle(m).getPropertyValue('--label-color').trim()")
        assert colour.lower() == labels.colour(label).lower()
        assert mark.evaluate("m => getComputedStyle(m).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    legend = page.locator("#legend")
    expect(legend).to_be_visible()
    for label in labels.entity_labels:
        expect(legend.locator(f'li[data-label="{label}"] .name')).to_have_text(label)
    org_count = marks.evaluate_all(
        "ms => new Set(ms.filter(m => m.dataset.labels.split(' ').includes('ORG')).map(m => m.dataset.start)).size"
    )
    assert int(legend.locator('li[data-label="ORG"] .n').text_content()) >= org_count > 0
    # hovering a quantity shows its origin and parsed value
    quantity = page.locator(f'#doc-text mark[data-labels="{labels.quantity_label}"]').first
    quantity.scroll_into_view_if_needed()
    quantity.hover()
    card = quantity.evaluate("m => getComputedStyle(m, '::after').content")
    assert labels.quantity_label in card and quantity.get_attribute("data-tip") in card.replace("\\a ", "\n")
    shoot(page, "document-view-hover.png", full_page=False)
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "document-view.png")


def test_markup_in_a_document_is_shown_as_text_and_never_runs(page: Page, live_app, tmp_path):
    text = f"Before {SCRIPT} between {IMG} after."
    s, i = text.index(SCRIPT), text.index(IMG)
    title = f"Title {SCRIPT} {IMG}"
    import_jsonl(
        live_app,
        tmp_path,
        [
            {
                "text": text,
                "lang": "en",
                "meta": {"title": title, "note": IMG},
                "spans": [
                    {"start": s, "end": s + len(SCRIPT), "label": "ORG"},
                    {"start": i, "end": i + len(IMG), "label": "PRODUCT"},
                ],
            }
        ],
        "hostile.jsonl",
    )
    uid = documents(live_app)[-1].uid
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto("/?page=1")
    link = page.get_by_role("link", name=title)
    expect(link).to_be_visible()
    link.click()
    page.wait_for_load_state("load")
    expect(page.locator("h1")).to_have_text(title)
    assert page.locator("#doc-text").text_content() == text
    expect(page.locator("#doc-text mark").nth(0)).to_have_text(SCRIPT)
    expect(page.locator("#doc-text mark").nth(1)).to_have_text(IMG)
    assert page.locator("main script, main img").count() == 0
    expect(page.locator("#details")).to_contain_text(IMG)
    page.wait_for_timeout(100)  # an injected <img onerror> would have fired by now
    assert page.evaluate("window.__ran") is None
    assert dialogs == []
    assert page.url.endswith(f"/documents/{uid}")
    shoot(page, "document-hostile-markup.png", full_page=False)


def settled(page: Page) -> None:
    """htmx has swapped and settled: links in new rows are bound only then, and a key or
    click in the few milliseconds before would simply navigate (correct, but not a swap)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def test_pagination_and_language_filter_swap_the_list_in_place(page: Page, paged_server):
    browser_log_in(page, paged_server, "lead")
    page.goto(f"{paged_server}/")
    rows = page.locator("#document-rows tbody tr")
    expect(page.locator(".pager .where")).to_have_text("Page 1 of 3")
    first_page = rows.all_text_contents()
    page.evaluate("window.__same_page = true")  # survives only if htmx swaps instead of navigating

    # keyboard: Enter on the focused link swaps the rows and the link keeps the focus
    page.locator("#page-next").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".pager .where")).to_have_text("Page 2 of 3")
    expect(page).to_have_url(f"{paged_server}/?page=2")
    assert rows.all_text_contents() != first_page
    assert page.evaluate("document.activeElement.id") == "page-next"
    settled(page)
    page.keyboard.press("Enter")
    expect(page.locator(".pager .where")).to_have_text("Page 3 of 3")
    expect(rows).to_have_count(2)
    shoot(page, "document-list-last-page.png", full_page=False)
    # and by mouse
    settled(page)
    page.get_by_role("link", name="‹ Previous").click()
    expect(page.locator(".pager .where")).to_have_text("Page 2 of 3")
    assert page.evaluate("window.__same_page") is True

    page.get_by_label("Language").select_option("pt")
    expect(page).to_have_url(f"{paged_server}/?lang=pt")
    expect(page.locator("[data-testid=document-total]")).to_have_text("3")
    expect(rows).to_have_count(3)
    for title in rows.locator(".title-cell a").all_text_contents():
        assert title.startswith("Documento português")
    assert page.locator(".pager").count() == 0
    assert page.evaluate("window.__same_page") is True

    page.go_back()
    expect(page.locator(".pager .where")).to_have_text("Page 2 of 3")


def test_unknown_document_shows_the_404_page(page: Page):
    response = page.goto("/documents/does-not-exist")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    shoot(page, "not-found.png", full_page=False)
    page.get_by_role("link", name="Back to the documents").click()
    expect(page).to_have_title("Documents · claim annotator")
