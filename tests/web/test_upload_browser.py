"""Uploading in Chromium with a real `annotator worker`: a bad file's file:line problems in
the page and nothing stored, a long pre-highlighting import cancelled from its progress bar
(nothing of the cancelled file stored), and a good upload stored as documents."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.models import Document, Job
from tests.conftest import make_test_app, serving
from tests.helpers import add_user, browser_log_in
from tests.jobs.support import Project, jsonl
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def project(tmp_path):
    project = Project(tmp_path, "sqlite")
    project.start_worker()
    yield project
    project.close()


def sources(app) -> list[str]:
    with get_db(app).reading() as s:
        return sorted(s.exec(select(Document.source)).scalars())


def last_job(app) -> Job:
    with get_db(app).reading() as s:
        return s.exec(select(Job).order_by(Job.id.desc())).scalars().first()


def submit(page: Page, files: list[tuple[str, str]], prehighlight: bool) -> None:
    page.get_by_label("Files").set_input_files(
        [{"name": name, "mimeType": "text/plain", "buffer": text.encode()} for name, text in files]
    )
    page.get_by_label("Pre-highlight new documents with spaCy").set_checked(prehighlight)
    page.get_by_role("button", name="Upload", exact=True).click()


def test_upload_with_progress_cancel_and_problems(page: Page, tmp_path, project):
    app = make_test_app(tmp_path, QUEUE_NAME=project.env["ANNOTATOR_QUEUE_NAME"])
    add_user(app, "lead", "curator")
    with serving(app) as base:
        browser_log_in(page, base, "lead")
        page.goto(f"{base}/upload/")
        assert_accessible(page)
        result = page.locator("#upload-result")

        # a file with a bad record: refused whole, its line named in the page
        bad = json.dumps({"text": "Huawei makes the Ascend 910C."}) + "\n{not json\n"
        submit(page, [("bad.jsonl", bad)], prehighlight=False)
        expect(result.get_by_text("Failed", exact=True)).to_be_visible(timeout=20_000)
        expect(result.locator(".job-problems")).to_contain_text("bad.jsonl:2")
        assert sources(app) == []

        # a long import, cancelled while it runs: nothing of its file is stored
        submit(page, [("long.jsonl", jsonl("long", 600))], prehighlight=True)
        progress = result.get_by_role("progressbar")
        expect(result.get_by_text("Running", exact=True)).to_be_visible(timeout=20_000)
        page.wait_for_function(
            "() => Number(document.querySelector('#upload-result progress').value) > 0", timeout=20_000
        )
        result.get_by_role("button", name="Cancel job 2").click()
        expect(result.get_by_text("Cancelled", exact=True)).to_be_visible(timeout=20_000)
        assert last_job(app).state == "cancelled"
        assert sources(app) == []
        assert progress.count() == 1

        # a good upload: stored as documents named as the uploader named them
        submit(
            page, [("notes.txt", "Notes\n\nNvidia H100 has 80 GB."), ("more.md", "# More\n\nAbout 10,000 H800.")], False
        )
        expect(result.get_by_text("Done", exact=True)).to_be_visible(timeout=20_000)
        expect(result).to_contain_text("Imported 2 new documents")
        assert sources(app) == ["more.md", "notes.txt"]
        assert last_job(app).started_by == "lead"
        assert_accessible(page)
    get_db(app).dispose()
