"""The agreement charts on the reports page, in Chromium: the SVG pictures carry the numbers
worked out by hand for a small two-annotator corpus, axe-core finds nothing, and a bar of
the disagreement histogram leads to that document's curation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from annotator.db import get_db
from tests.conftest import make_test_app, serving
from tests.helpers import add_user, browser_log_in
from tests.review.test_charts import ODD, hand_made
from tests.support.accessibility import assert_accessible

pytestmark = pytest.mark.browser
expect.set_options(timeout=10000)


@pytest.fixture(scope="module")
def iaa_server(tmp_path_factory):
    app = make_test_app(tmp_path_factory.mktemp("charts"))
    hand_made(app)
    add_user(app, "chief", "curator")
    with serving(app) as url:
        yield url
    get_db(app).dispose()


def test_charts_show_the_numbers_and_link_to_curation(page: Page, iaa_server):
    browser_log_in(page, iaa_server, "chief")
    page.get_by_role("link", name="Agreement").click()
    charts = page.locator("#agreement-charts")
    expect(charts.locator("svg")).to_have_count(4)
    expect(charts.locator(".heat-cell[data-row='ORG'][data-col='ORG']")).to_have_attribute("data-count", "2")
    expect(charts.locator(".heat-cell[data-row='PRODUCT'][data-col='O'] text")).to_have_text("1")
    odd = charts.locator(".label-bar").filter(has_text=ODD)  # the label as text, not markup
    expect(odd).to_have_attribute("data-exact", "0.000")
    expect(charts.locator(".label-bar[data-label='PRODUCT']")).to_have_attribute("data-overlap", "1.000")
    expect(charts.locator("#confusion-desc")).to_contain_text("PRODUCT as O: 1.")
    expect(charts.locator(".time-point")).to_have_count(3)
    expect(charts.locator(".time-point[data-day='2026-01-03']")).to_have_attribute("data-exact", "0.000")
    expect(charts.locator(".dis-bar[data-bin='none']")).to_have_attribute("data-count", "1")
    assert_accessible(page)

    bar = charts.get_by_role("link", name=re.compile(r"^20–30%: 1 document"))
    bar.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/curate/docB$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("title docB")
