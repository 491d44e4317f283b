"""`annotator serve`: gunicorn on 127.0.0.1, seeds imported into an empty project."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(proc, into: list[str]) -> threading.Thread:
    def read():
        for line in proc.stdout:
            into.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _wait_for(lines: list[str], pattern: str, proc, seconds: float = 90) -> re.Match:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(pattern, "".join(lines))
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} never printed:\n{''.join(lines)}")


@pytest.mark.slow
def test_serve_imports_seeds_and_lets_only_the_first_admin_in(tmp_path):
    """A fresh project: seeds imported, every page behind the login, and a one-time setup
    link printed at start that creates the first admin (and then stops working)."""
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "ANNOTATOR_INSTANCE_PATH": str(tmp_path / "instance"),
        "ANNOTATOR_NLP_PROCESSES": "1",
        "HOME": str(home),
    }
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "annotator.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = _lines(proc, lines)
    base = f"http://127.0.0.1:{port}"
    try:
        link = _wait_for(lines, rf"{re.escape(base)}(/setup/[A-Za-z0-9_-]+)", proc).group(1)
        _wait_for(lines, r"Listening at", proc)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(base + "/", timeout=5) as resp:  # anonymous: sent to the login page
            assert resp.url.startswith(base + "/login") and "gunicorn" in resp.headers.get("Server", "").lower()
        with browser.open(base + link, timeout=5) as resp:
            token = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode()).group(1)
        form = urllib.parse.urlencode(
            {"csrf_token": token, "name": "boss", "password": "a long passphrase", "confirm": "a long passphrase"}
        ).encode()
        with browser.open(base + link, data=form, timeout=10) as resp:  # on to the accounts page
            assert 'data-user="boss"' in resp.read().decode() and resp.url == base + "/users/"
        with browser.open(base + "/", timeout=10) as resp:
            body = resp.read().decode()
        assert "5</span> documents" in body and "Sophgo" in body and ">boss<" in body
        with pytest.raises(urllib.error.HTTPError) as gone:  # one time only
            urllib.request.urlopen(base + link, timeout=5)
        assert gone.value.code == 404
        # bound to loopback only
        listening = subprocess.run(["cat", "/proc/net/tcp"], capture_output=True, text=True).stdout
        assert f":{port:04X}" in listening and f"00000000:{port:04X}" not in listening
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    assert "imported the seeds" in "".join(lines)
    assert not list(home.iterdir()), "the server left files in the user's home (a control socket?)"
