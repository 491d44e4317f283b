"""A team's whole path in Chromium: a new admin creates three annotators, assigns the seeds
with overlap 2, each annotator works through their queue, the agreement report counts the
documents, a curator takes one document into gold and the gold export validates."""

from __future__ import annotations

import json
from collections import Counter

import jsonschema
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.export.publish import export
from annotator.models import GOLD, Document, Layer, Span
from annotator.project import labels_of
from annotator.review.agreement import agreement_report
from annotator.schema import load_schema
from tests.conftest import seeded_copy, serving
from tests.helpers import PASSWORD, add_user, browser_log_in

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)
TEAM = ("amy", "ben", "cid")


@pytest.fixture(scope="module")
def team_app(tmp_path_factory, seeded_template):
    app = seeded_copy(tmp_path_factory.mktemp("team"), seeded_template)
    add_user(app, "boss", "admin")
    yield app
    get_db(app).dispose()


@pytest.fixture(scope="module")
def team_server(team_app):
    with serving(team_app) as url:
        yield url


def annotate_queue(page: Page, base: str, name: str) -> int:
    """Log in as `name`, open each queued document, accept the first suggestion (cid also
    the second: a disagreement), mark it done. Returns the documents done."""
    browser_log_in(page, base, name)
    page.goto(f"{base}/assignments/mine")
    links = [a.get_attribute("href") for a in page.locator("#queue .title-cell a").all()]
    for href in links:
        page.goto(base + href)
        page.wait_for_function("() => window.WSKeys && window.WSSave && WSKeys.ready()")
        keys = ["j", "a"] + (["j", "a"] if name == "cid" else [])
        for key in keys:
            page.keyboard.press(key)
        page.wait_for_function("() => WSSave.pending() === 0")
        asked = []  # suggestions are left pending, so marking done asks first
        page.once("dialog", lambda dialog, asked=asked: (asked.append(dialog.message), dialog.accept()))
        page.locator("#ws-done").click()
        expect(page.locator(".ws-done-badge")).to_be_visible()
        assert asked and "still pending. Mark the document done anyway?" in asked[0]
    return len(links)


def test_admin_team_agreement_curation_and_gold_export(page: Page, team_app, team_server, tmp_path):
    base = team_server
    page.set_viewport_size({"width": 1400, "height": 900})
    browser_log_in(page, base, "boss")
    page.goto(f"{base}/users/")
    for name in TEAM:  # accounts made in the browser
        page.get_by_label("Name").fill(name)
        page.get_by_label("Role").select_option("annotator")
        page.get_by_label("Password (8 characters or more)").fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.locator(f"tr[data-user='{name}']")).to_be_visible()

    page.goto(f"{base}/assignments/")
    page.locator("#overlap").fill("2")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("#assignments-board")).to_contain_text("10 new assignments")
    with get_db(team_app).reading() as s:
        per_doc = Counter(s.exec(select(Layer.document_id).where(Layer.assigned_at.is_not(None))).scalars())
        per_person = Counter(s.exec(select(Layer.name).where(Layer.assigned_at.is_not(None))).scalars())
    assert len(per_doc) == 5 and set(per_doc.values()) == {2}
    assert sorted(per_person) == list(TEAM) and max(per_person.values()) - min(per_person.values()) <= 1

    for name in TEAM:
        page.context.clear_cookies()
        assert annotate_queue(page, base, name) == per_person[name]

    page.context.clear_cookies()
    browser_log_in(page, base, "boss")
    page.goto(f"{base}/reports/agreement")
    with get_db(team_app).reading() as s:
        report = agreement_report(s)
    assert report["documents"] == 5 and report["documents_done_by_fewer_than_two"] == 0
    expect(page.locator("body")).to_contain_text("5 documents counted")

    # curate a document that amy and ben share: both accepted the same first suggestion
    with get_db(team_app).reading() as s:
        owners: dict[int, set] = {}
        for doc_id, name in s.exec(select(Layer.document_id, Layer.name).where(Layer.assigned_at.is_not(None))).all():
            owners.setdefault(doc_id, set()).add(name)
        doc_id = next(d for d, names in owners.items() if "cid" not in names)
        uid = s.get(Document, doc_id).uid
    page.goto(f"{base}/curate/{uid}")
    page.get_by_role("button", name="Pre-accept agreements (1)").click()
    expect(page.locator("#cur-message")).to_contain_text("Pre-accepted 1 span")
    page.get_by_role("button", name="Mark gold done").click()
    expect(page.locator("#cur-gold-status")).to_have_text("done")

    result = export(get_db(team_app), labels_of(team_app), GOLD, out_dir=tmp_path / "exports")
    records = [json.loads(line) for line in (result.path / "data.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == [uid] and result.manifest["curators"] == ["boss"]
    assert sorted(result.manifest["annotators"]) == sorted(owners[doc_id])
    validator = jsonschema.Draft202012Validator(load_schema())
    for record in records:
        validator.validate(record)
        assert all(record["text"][s["start"] : s["end"]] == s["text"] for s in record["spans"])
    with get_db(team_app).reading() as s:
        gold = s.exec(select(Layer).where(Layer.document_id == doc_id, Layer.name == GOLD)).scalars().one()
        assert len(s.exec(select(Span).where(Span.layer_id == gold.id)).scalars().all()) == 1
