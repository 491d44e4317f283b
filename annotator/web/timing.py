"""Server-Timing: how long the app took to answer, in a response header.

Off by default (timings are for whoever measures the server: a developer in the browser's
network panel, the workspace benchmark); `SERVER_TIMING = True` in the instance config or
ANNOTATOR_SERVER_TIMING=true turns it on. Measured around the whole WSGI call up to the
moment the response starts: session cookie, login, CSRF, the view and its template, so
the figure is the server's own time, without the wait for a free worker before it.
"""

from __future__ import annotations

import time

from flask import Flask


class ServerTiming:
    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()

        def timed(status, headers, exc_info=None):
            headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.2f}"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, timed)


def init_app(app: Flask) -> None:
    if app.config.get("SERVER_TIMING"):
        app.wsgi_app = ServerTiming(app.wsgi_app)
