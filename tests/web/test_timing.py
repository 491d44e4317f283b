"""The Server-Timing header: off by default, on with SERVER_TIMING, covering the whole
answer (login and the view), for logged-in pages and refusals alike."""

from __future__ import annotations

import re

from annotator.db import get_db
from tests.conftest import make_test_app
from tests.helpers import log_in

TIMING = re.compile(r"^app;dur=(\d+\.\d+)$")


def test_no_timing_header_unless_asked(client):
    assert "Server-Timing" not in client.get("/login").headers


def test_timing_header_on_every_answer(tmp_path):
    app = make_test_app(tmp_path, SERVER_TIMING=True)
    try:
        client = app.test_client()
        logged_out = client.get("/")
        assert logged_out.status_code == 302 and TIMING.match(logged_out.headers["Server-Timing"])
        log_in(app, client, "ann")
        page = client.get("/")
        assert page.status_code == 200
        assert float(TIMING.match(page.headers["Server-Timing"]).group(1)) > 0
        missing = client.get("/annotate/no-such-document")
        assert missing.status_code == 404 and TIMING.match(missing.headers["Server-Timing"])
    finally:
        get_db(app).dispose()
