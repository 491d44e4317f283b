"""Two app servers over one PostgreSQL database and one Redis queue, a client alternating
between them: logins, CSRF, throttling, jobs and conflict detection behave as with one
server, because everything they rest on is shared (the secret key, the database, the queue
and the exports folder), none of it kept in a server's memory."""

from __future__ import annotations

import hashlib
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html import unescape

import pytest
from sqlalchemy import create_engine, text

from annotator.jobs.queue import Queue
from tests.cli.test_serve import _lines, _wait_for, free_port
from tests.conftest import SEEDS
from tests.jobs.support import REDIS_URL

pytestmark = [pytest.mark.pg, pytest.mark.slow]

SECRET = "one secret shared by every app host of this test"


def _env(tmp_path, name: str, pg_url: str) -> dict:
    home = tmp_path / f"home-{name}"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "ANNOTATOR_SECRET_KEY": SECRET,
        # each host its own instance folder: only what the settings share is shared
        "ANNOTATOR_INSTANCE_PATH": str(tmp_path / f"instance-{name}"),
        "ANNOTATOR_NLP_PROCESSES": "1",
        "ANNOTATOR_QUEUE_URL": REDIS_URL,
        "ANNOTATOR_QUEUE_NAME": queue_name(tmp_path),
        "ANNOTATOR_EXPORTS_DIR": str(tmp_path / "exports"),  # the folder every host shares
        "HOME": str(home),
    }
    return env


def queue_name(tmp_path) -> str:
    """This test's own queue on the shared Redis."""
    return "scale-out-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]


def _cli(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "annotator.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Servers:
    """Two `annotator serve` processes; a client that sends each request to the next one."""

    def __init__(self, tmp_path, pg_url: str):
        self.procs, self.bases, self.logs = [], [], []
        for name in ("a", "b"):
            port = free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "annotator.cli", "serve", "--port", str(port), "--workers", "1", "--no-seed"],
                env=_env(tmp_path, name, pg_url),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            lines: list[str] = []
            self.procs.append(proc)
            self.logs.append((lines, _lines(proc, lines)))
            self.bases.append(f"http://127.0.0.1:{port}")
        for proc, (lines, _) in zip(self.procs, self.logs):
            _wait_for(lines, r"Listening at", proc)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Client:
    """One browser's cookies (a cookie is the host's, whatever the port, as behind one
    load balancer), its requests sent to server a and server b in turn."""

    def __init__(self, bases: list[str]):
        self.bases, self.turn, self.served_by = bases, 0, []
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def send(self, path: str, form: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
        base = self.bases[self.turn % len(self.bases)]
        self.turn += 1
        self.served_by.append(base)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def csrf(self, path: str = "/login") -> str:
        status, body = self.send(path)
        assert status == 200, body
        return re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)

    def login(self, name: str, password: str) -> tuple[int, str]:
        token = self.csrf()  # from one server ...
        return self.send("/login", {"csrf_token": token, "name": name, "password": password})  # ... used on the other


@pytest.fixture
def two_servers(tmp_path, pg_url):
    env = _env(tmp_path, "setup", pg_url)
    _cli(env, "import", "--no-prehighlight", str(SEEDS))
    secret = tmp_path / "password.txt"
    secret.write_text("a long passphrase\n")
    for name in ("alice", "bob"):
        _cli(env, "users", "add", name, "--role", "annotator", "--password-file", str(secret))
    _cli(env, "users", "add", "lead", "--role", "curator", "--password-file", str(secret))
    _cli(env, "assign", "--annotators", "alice,bob", "-k", "2", "--quiet")
    servers = Servers(tmp_path, pg_url)
    try:
        yield servers
    finally:
        servers.stop()
        Queue(REDIS_URL, queue_name(tmp_path)).flush()


def test_a_client_alternating_between_two_servers_is_one_session(two_servers, pg_url):
    alice = Client(two_servers.bases)
    status, body = alice.login("alice", "a long passphrase")  # the form's token came from a, checked on b
    assert status == 200 and "alice" in body and "Log out" in body, body[:500]

    engine = create_engine(pg_url)
    with engine.connect() as conn:
        uid, doc_text = conn.execute(text("SELECT uid, text FROM document ORDER BY id LIMIT 1")).one()
    first, second = list(re.finditer(r"\b[A-Z][a-z]{3,}\b", doc_text))[:2]
    start, end = first.span()

    status, page = alice.send(f"/annotate/{uid}")  # opened on a
    assert status == 200, page[:500]
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    version = int(re.search(r'id="ws-version" name="version" value="(\d+)"', page).group(1))
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    form = {"start": start, "end": end, "label": "PERSON", "version": version}

    saved, _ = alice.send(f"/annotate/{uid}/spans", form, headers)  # saved on b
    assert saved == 200
    other = {**form, "start": second.start(), "end": second.end()}  # with the version seen before the save
    stale, answer = alice.send(f"/annotate/{uid}/spans", other, headers)  # on a
    assert stale == 409 and "changed elsewhere" in unescape(answer)
    forged, _ = alice.send(f"/annotate/{uid}/spans", {**form, "version": version + 1}, {"HX-Request": "true"})
    assert forged == 400  # no CSRF token: refused on whichever server

    with engine.connect() as conn:
        stored = conn.execute(
            text(
                'SELECT s.start, s."end" FROM span s JOIN layer l ON l.id = s.layer_id JOIN document d'
                " ON d.id = l.document_id WHERE d.uid = :uid AND l.name = 'alice'"
            ),
            {"uid": uid},
        ).all()
    engine.dispose()
    assert stored == [(start, end)]  # the first write only; the stale one stored nothing
    assert set(alice.served_by) == set(two_servers.bases)


def test_failed_logins_are_counted_across_servers(two_servers):
    guesser = Client(two_servers.bases)
    answers = [guesser.login("bob", f"wrong guess {n}")[0] for n in range(5)]
    assert answers == [401] * 5  # spread over both servers ...
    status, body = guesser.login("bob", "a long passphrase")  # ... and both know the count
    assert status == 429 and "too many failed logins" in body.lower()
    assert set(guesser.served_by) == set(two_servers.bases)


def _job_state(client: Client, job_id: int) -> str:
    status, body = client.send(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert status == 200, body[:500]
    return re.search(r'data-state="(\w+)"', body).group(1)


def test_a_job_started_on_one_server_is_cancelled_and_followed_on_the_other(two_servers, tmp_path, pg_url):
    lead = Client(two_servers.bases)
    status, body = lead.login("lead", "a long passphrase")
    assert status == 200, body[:500]
    status, page = lead.send("/exports/")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    headers = {"X-CSRFToken": token, "HX-Request": "true"}

    def start(name: str) -> tuple[int, str]:
        base = lead.bases[lead.turn % 2]
        status, body = lead.send("/jobs/export", {"layer": "suggestions", "fmt": "jsonl", "name": name}, headers)
        assert status == 202, body[:500]
        return int(re.search(r'id="job-(\d+)"', body).group(1)), base

    # no worker yet: a queued job, cancelled through the other server
    first, started_on = start("never")
    cancelled_on = lead.bases[lead.turn % 2]
    status, body = lead.send(f"/jobs/{first}/cancel", {}, headers)
    assert status == 200 and 'data-state="cancelled"' in body, body[:500]
    assert cancelled_on != started_on

    worker = subprocess.Popen(
        [sys.executable, "-m", "annotator.cli", "worker"],
        env=_env(tmp_path, "worker", pg_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        second, _ = start("shared")
        states, deadline = [], time.monotonic() + 60
        while not states or states[-1] not in ("done", "failed", "cancelled"):  # followed on both servers
            assert time.monotonic() < deadline and worker.poll() is None, states
            states.append(_job_state(lead, second))
            time.sleep(0.2)
        assert states[-1] == "done", states
        assert _job_state(lead, first) == "cancelled"  # the worker took it from the queue and left it
    finally:
        os.killpg(worker.pid, signal.SIGINT)
        worker.wait(20)

    exports = tmp_path / "exports"
    assert (exports / "shared" / "v1.0.0" / "data.jsonl").is_file()
    assert not (exports / "never").exists()
    listed = [lead.send("/exports/")[1] for _ in range(2)]  # the export page of each server lists it
    assert all("shared" in page for page in listed)
    assert set(lead.served_by) == set(two_servers.bases)
