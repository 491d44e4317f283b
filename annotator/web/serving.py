"""Production serving through gunicorn (Flask's dev server only behind --dev)."""

from __future__ import annotations

import gc

from gunicorn.app.base import BaseApplication


class GunicornApp(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):
        return self.application


def run_gunicorn(app, host: str, port: int, workers: int, threads: int) -> None:
    # The app is built once here and forked into the workers; each worker opens its own
    # database connections lazily (the engine's pool is created empty before the fork).
    freeze_heap()
    GunicornApp(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 120,
            # no management socket in the user's home (gunicorn 25+ opens one by default):
            # nothing here uses it, and two servers of one user would share its path
            "control_socket_disable": True,
        },
    ).run()


def freeze_heap() -> None:
    """Leave what the app holds before the fork (~90,000 objects: modules, templates,
    mappers) out of the workers' garbage collections. A full collection walks every
    tracked object and stalls every thread of its worker: measured under load, 70-90 ms
    each, dozens a minute, and none of those objects is ever garbage. Frozen, they are
    neither walked nor written to (their pages stay shared with the other workers)."""
    gc.collect()
    gc.freeze()
