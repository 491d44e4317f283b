"""`annotator serve`: gunicorn on 127.0.0.1, seeds imported into an empty project."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_imports_seeds_and_answers(tmp_path):
    port = free_port()
    env = {**os.environ, "ANNOTATOR_INSTANCE_PATH": str(tmp_path / "instance"), "ANNOTATOR_NLP_PROCESSES": "1"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "annotator.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    body = resp.read().decode()
                    server = resp.headers.get("Server", "")
                break
            except OSError:
                time.sleep(0.3)
        assert body is not None, "server did not answer"
        assert "gunicorn" in server.lower()
        assert "5</span> documents" in body and "Sophgo" in body
        # bound to loopback only
        listening = subprocess.run(["cat", "/proc/net/tcp"], capture_output=True, text=True).stdout
        assert f":{port:04X}" in listening and f"00000000:{port:04X}" not in listening
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "imported the seeds" in out
