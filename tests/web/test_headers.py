"""Security headers and the markup they allow: every response carries the CSP and its
companions, and no page or fragment has inline script or style the CSP would refuse."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from annotator.db import get_db
from annotator.models import Document
from tests.helpers import give, log_in

HX = {"HX-Request": "true"}
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def assert_security_headers(response, where) -> None:
    headers = response.headers
    policy = dict(part.strip().split(" ", 1) for part in headers.get("Content-Security-Policy", "").split(";"))
    assert policy == POLICY, where
    assert "unsafe-inline" not in headers["Content-Security-Policy"], where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin"), where


class InlineCode(HTMLParser):
    """What in a page needs 'unsafe-inline': <script> without src, <style>, style="" and
    on…="" attributes (hx-on too), javascript: links; and the page's htmx-config metas."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.htmx_configs: list[dict] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "style" or name.startswith(("on", "hx-on", "data-hx-on")):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        if tag == "meta" and attrs.get("name") == "htmx-config":
            self.htmx_configs.append(json.loads(attrs["content"]))

    handle_startendtag = handle_starttag


def assert_no_inline_code(response, where) -> None:
    if response.mimetype != "text/html":
        return
    html = response.get_data(as_text=True)
    page = InlineCode(html)
    assert page.found == [], where
    if "htmx.min.js" in html:  # a page with htmx: htmx must not add its own <style> either
        assert len(page.htmx_configs) == 1 and page.htmx_configs[0]["includeIndicatorStyles"] is False, where


def url_of(rule, sample: dict) -> str:
    return re.sub(
        r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
        lambda m: "1" if m.group(1) in ("int", "id") else sample.get(m.group(2), "x"),
        rule.rule,
    )


def get_routes(app, sample: dict):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" in rule.methods:
            yield rule.endpoint, url_of(rule, sample)


@pytest.fixture
def team(seeded_app):
    with get_db(seeded_app).reading() as s:
        uid = s.execute(select(Document.uid).order_by(Document.id)).scalars().first()
    give(seeded_app, "alice")
    return seeded_app, uid


def check(client, url, headers=None, seen=None):
    response = client.get(url, headers=headers or {})
    where = (url, headers, response.status_code)
    assert_security_headers(response, where)
    assert_no_inline_code(response, where)
    if seen is not None and response.status_code == 200 and response.mimetype == "text/html":
        seen.add(url)
    return response


def test_every_page_and_fragment_sends_the_headers_and_no_inline_code(team):
    app, uid = team
    admin = log_in(app, app.test_client(), "root", "admin")
    alice = log_in(app, app.test_client(), "alice")
    sample = {"uid": uid, "name": "alice", "token": "not-a-token", "filename": "css/app.css"}
    seen: set[str] = set()
    for client in (alice, admin):
        check(client, f"/annotate/{uid}", seen=seen)  # alice's layer exists once she opens it
        for endpoint, url in get_routes(app, sample):
            if endpoint == "htmx_js.static":
                url = "/vendor/htmx/htmx.min.js"
            check(client, url, seen=seen)
            check(client, url, HX, seen=seen)
        rows = check(client, "/?page=1", {**HX, "HX-Target": "document-rows"}, seen=seen)  # the list's fragment
        assert "<html" not in rows.get_data(as_text=True)
    assert len(seen) >= 11, sorted(seen)  # pages and fragments really rendered, not only refusals
    assert {f"/annotate/{uid}", f"/documents/{uid}", f"/gold/{uid}", f"/curate/{uid}", "/users/"} <= seen


def test_anonymous_pages_errors_and_files_send_the_headers(app):
    client = app.test_client()
    for url in ("/login", "/", "/nowhere", "/setup/not-a-token", "/static/css/app.css", "/static/js/ws-save.js"):
        check(client, url)
    assert check(client, "/vendor/htmx/htmx.min.js").status_code == 200
    assert check(log_in(app, app.test_client(), "root", "admin"), "/nowhere").status_code == 404
    response = client.post("/login", data={"name": "x", "password": "y"})  # no CSRF token: refused
    assert response.status_code == 400
    assert_security_headers(response, "/login POST")
    assert_no_inline_code(response, "/login POST")


def test_a_server_error_sends_the_headers(app):
    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = log_in(app, app.test_client(), "root", "admin").get("/boom")
    assert response.status_code == 500
    assert_security_headers(response, "/boom")
    assert_no_inline_code(response, "/boom")


def test_label_colours_come_as_a_stylesheet_and_revalidate(app):
    client = log_in(app, app.test_client(), "root", "admin")
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/labels.css">' in html
    css = client.get("/labels.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert ".lbl-0{--label-color:#" in css.get_data(as_text=True)
    assert_security_headers(css, "/labels.css")
    again = client.get("/labels.css", headers={"If-None-Match": css.headers["ETag"]})
    assert again.status_code == 304
    # the login page has no labels to colour, and the stylesheet needs a login like the pages
    anonymous = app.test_client()
    assert "/labels.css" not in anonymous.get("/login").get_data(as_text=True)
    assert anonymous.get("/labels.css").status_code == 302


# --- request size limits ------------------------------------------------------------------


def row_counts(app) -> dict:
    with get_db(app).reading() as s:
        tables = SQLModel.metadata.sorted_tables
        return {t.name: s.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


def assert_too_large(response) -> str:
    assert response.status_code == 413
    assert_security_headers(response, "413")
    html = response.get_data(as_text=True)
    assert "Error 413" in html and "too large" in html and "Nothing was stored" in html
    return html


def test_a_50_mb_login_post_is_refused_with_413_and_nothing_stored(app):
    before = row_counts(app)
    body = b"name=alice&password=" + b"a" * (50 * 1024 * 1024)
    response = app.test_client().post("/login", data=body, content_type="application/x-www-form-urlencoded")
    html = assert_too_large(response)
    assert "16 MB" in html
    assert row_counts(app) == before


def test_form_limits_below_the_body_limit(app):
    client = app.test_client()
    before = row_counts(app)
    form = b"name=alice&password=" + b"a" * (2 * 1024 * 1024)  # under 16 MB, over the form's 1 MB
    assert_too_large(client.post("/login", data=form, content_type="application/x-www-form-urlencoded"))
    parts = {f"f{i}": "x" for i in range(1001)}  # one part more than MAX_FORM_PARTS
    assert_too_large(client.post("/login", data=parts, content_type="multipart/form-data"))
    assert row_counts(app) == before
    assert client.post("/login", data={"name": "x"}).status_code != 413  # an ordinary form passes


def test_the_limits_are_settings(tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, MAX_CONTENT_LENGTH=4096)
    try:
        client = log_in(app, app.test_client(), "root", "admin")
        response = client.post("/users/", data={"name": "n" * 5000, "role": "annotator"}, headers=HX)
        assert "4 KB in all" in assert_too_large(response)
    finally:
        get_db(app).dispose()
