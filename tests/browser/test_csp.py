"""The pages under the Content-Security-Policy in Chromium: nothing is refused, htmx adds no
<style> of its own, and the label colours still arrive (from their stylesheet)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.models import Document
from tests.helpers import add_user, browser_log_in, give

pytestmark = pytest.mark.browser


def test_no_page_breaks_the_policy(page: Page, live_app, live_server):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    add_user(live_app, "root", "admin")
    give(live_app, "alice")
    with get_db(live_app).reading() as s:
        uid = s.execute(select(Document.uid).order_by(Document.id)).scalars().first()
    browser_log_in(page, live_server, "root")
    for path in (
        "/",
        f"/documents/{uid}",
        f"/annotate/{uid}",
        "/assignments/",
        "/assignments/mine",
        "/curate/",
        f"/gold/{uid}",
        "/reports/agreement",
        "/users/",
        "/nowhere",
    ):
        response = page.goto(path)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
        assert page.evaluate("document.querySelectorAll('style, [style]').length") == 0, path
        assert page.evaluate("window.htmx && htmx.config.includeIndicatorStyles") is False, path
    page.goto(f"/documents/{uid}")
    mark = page.locator("#doc-text mark").first
    expect(mark).to_be_visible()
    assert mark.evaluate("m => getComputedStyle(m).getPropertyValue('--label-color').trim()").startswith("#")
    assert refused == []
