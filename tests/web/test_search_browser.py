"""In Chromium: an admin searches and filters the list (the count announced as the rows
change), archives a document whose layer holds work (refused with the counts, then forced,
then restored), reads its history and changes their own password; each step is checked
against what the database holds, and each page against WCAG 2.1 AA with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.security import check_password_hash

from annotator.db import get_db
from annotator.models import AuditEvent, Document, User
from tests.conftest import make_test_app, serving
from tests.helpers import PASSWORD, add_user, browser_log_in
from tests.support.accessibility import assert_accessible
from tests.web.test_search import add_work, load

pytestmark = pytest.mark.browser
NEW = "a brand new passphrase"


@pytest.fixture
def site(tmp_path):
    app = make_test_app(tmp_path)
    uids = load(app, tmp_path)
    add_work(app, uids["Export rules"], "alice", spans=3)
    add_user(app, "boss", "admin")
    with serving(app) as url:
        yield app, url, uids
    get_db(app).dispose()


def stored(app, uid: str) -> Document:
    with get_db(app).reading() as s:
        return s.exec(select(Document).where(Document.uid == uid)).scalars().one()


def test_search_filter_archive_history_and_password(page: Page, site):
    app, url, uids = site
    browser_log_in(page, url, "boss")
    page.goto(f"{url}/")
    count = page.locator("#match-count")
    expect(count).to_have_attribute("aria-live", "polite")
    page.get_by_label("Search titles and text").fill("huawe")
    expect(count).to_have_text("2 documents match")
    expect(page.locator("#document-rows tbody tr")).to_have_count(2)
    assert "q=huawe" in page.url  # the search is in the address, to share or go back to
    page.get_by_label("Language").select_option("pt")
    expect(count).to_contain_text("1 document matches")
    expect(page.get_by_role("link", name="Chips chineses")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{url}/?claim=yes")
    expect(count).to_have_text("1 document matches")
    page.get_by_role("link", name="Export rules").click()
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("alert")).to_contain_text("alice: 3 spans, 1 claim")
    assert stored(app, uids["Export rules"]).archived_at is None  # refused: nothing stored
    page.get_by_label("Force: archive with the work above").check()
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("note")).to_contain_text("Archived by boss")
    assert stored(app, uids["Export rules"]).archived_by == "boss"
    page.goto(f"{url}/")
    expect(page.locator("#match-count")).to_contain_text("3 documents")
    expect(page.get_by_role("link", name="Export rules")).to_have_count(0)
    page.get_by_label("Show").select_option("archived")
    expect(page.get_by_role("link", name="Export rules")).to_be_visible()
    page.get_by_role("link", name="Export rules").click()
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status").first).to_contain_text("Restored")
    assert stored(app, uids["Export rules"]).archived_at is None

    page.get_by_role("link", name="History").click()
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-action", "restore_document")
    assert_accessible(page)

    page.get_by_role("link", name="boss").first.click()  # the account page, from the top bar
    page.goto(f"{url}/users/account")
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password (8 characters or more)").fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_have_text("The current password is wrong.")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password (8 characters or more)").fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").first).to_contain_text("Your password was changed")
    assert_accessible(page)
    with get_db(app).reading() as s:
        boss = s.exec(select(User).where(User.name == "boss")).scalars().one()
        assert check_password_hash(boss.password_hash, NEW)
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.user == "boss")).scalars().all()
    assert actions == ["archive_document", "restore_document", "change_own_password"]
