"""The export page in Chromium: the list with its versions, a real download whose zip is
opened and whose data.jsonl validates against the project's JSON Schema (and holds what the
database holds), and the diff between two real versions; axe-core on each page."""

from __future__ import annotations

import zipfile

import orjson
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.export.validation import validate_file
from annotator.layers import find_layer
from annotator.models import Document, Span
from annotator.schema import record_schema
from tests.conftest import seeded_copy, serving
from tests.helpers import add_user, browser_log_in
from tests.support.accessibility import assert_accessible
from tests.web.test_exports_page import two_versions

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)


@pytest.fixture(scope="module")
def exp_app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("exports"), seeded_template)
    add_user(app, "chief", "curator")
    app.first, app.other = two_versions(app)
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def exp_server(exp_app):
    with serving(exp_app) as url:
        yield url


def test_list_download_and_diff(page: Page, exp_app, exp_server, tmp_path):
    browser_log_in(page, exp_server, "chief")
    page.get_by_role("link", name="Exports").click()
    table = page.locator("table[data-export='amy']")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tr[data-version='v1.1.0']")).to_contain_text("since v1.0.0: +1 added, −0 removed, 1 changed")
    assert_accessible(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="amy-v1.1.0.zip").click()
    saved = tmp_path / "amy.zip"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "amy-v1.1.0.zip"
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"amy-v1.1.0/data.jsonl", "amy-v1.1.0/manifest.json", "amy-v1.1.0/schema.json"} <= names
        archive.extractall(tmp_path / "out")
    data = tmp_path / "out" / "amy-v1.1.0" / "data.jsonl"
    problems, count = validate_file(data, record_schema(None))  # the project's schema, not the zip's copy
    assert problems == [] and count == 2
    assert (tmp_path / "out" / "amy-v1.1.0" / "schema.json").read_bytes() == record_schema(None).data
    records = {r["id"]: r for r in map(orjson.loads, data.read_bytes().splitlines())}
    with get_db(exp_app).reading() as s:
        for uid in (exp_app.first.uid, exp_app.other.uid):
            doc = s.exec(select(Document).where(Document.uid == uid)).scalar_one()
            stored = s.exec(select(Span).where(Span.layer_id == find_layer(s, doc, "amy").id)).scalars().all()
            assert sorted((x["start"], x["end"], x["label"]) for x in records[uid]["spans"]) == sorted(
                (x.start, x.end, x.label) for x in stored
            )

    form = page.get_by_role("form", name="Compare two versions of amy")
    form.get_by_label("From").select_option("v1.0.0")
    form.get_by_label("to").select_option("v1.1.0")
    form.get_by_role("button", name="Compare").click()
    expect(page.locator("#diff-summary")).to_contain_text("1 added, 0 removed, 1 changed")
    product = page.locator("table.diff-spans tr[data-label='PRODUCT']")
    expect(product.locator("[data-side='old']")).to_have_text("0")
    expect(product.locator("[data-side='new']")).to_have_text("1")
    changed = page.locator(f"table.diff-docs[data-kind='changed'] tr[data-doc='{exp_app.first.uid}']")
    expect(changed.locator(".is-changed[data-label='PRODUCT']")).to_contain_text("0 → 1")
    assert_accessible(page)

    page.goto(f"{exp_server}/exports/amy/v1.1.0/")
    expect(page.locator("[data-field='documents']")).to_have_text("2")
    assert_accessible(page)
