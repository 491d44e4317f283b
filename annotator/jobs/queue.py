"""The queue that hands job ids to workers: two backends behind one interface, both Huey.

The embedded default is Huey's SQLite storage in a file beside the project database (no
other service; workers on this machine only). For teams, QUEUE_URL (ANNOTATOR_QUEUE_URL)
names a Redis server, `redis://host:6379/N`, and `annotator worker` runs on any number of
hosts. Only the job id travels through the queue; the job itself is a row in the project
database, so a message lost with a killed worker still leaves a job that can be seen failing.
"""

from __future__ import annotations

from pathlib import Path

from huey import RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

from annotator.jobs import runner

REDIS_SCHEMES = ("redis", "rediss", "unix")


def queue_url(config) -> str:
    """QUEUE_URL if set; else a SQLite file beside a SQLite project database (in the instance
    folder for a PostgreSQL one)."""
    if config.get("QUEUE_URL"):
        return str(config["QUEUE_URL"])
    database = make_url(config["DATABASE_URL"])
    if database.get_backend_name() == "sqlite" and database.database and database.database != ":memory:":
        path = Path(database.database)
        return "sqlite:///" + str(path.with_name(path.stem + ".queue.sqlite3"))
    return "sqlite:///" + str(Path(config["INSTANCE_PATH"]) / "queue.sqlite3")


class Queue:
    """One backend: enqueue(job_id), consumer(workers), pending(), flush()."""

    def __init__(self, url: str, name: str = "annotator"):
        self.url = url
        scheme = url.split(":", 1)[0].lower()
        if scheme in REDIS_SCHEMES:
            self.huey = RedisHuey(name, url=url, results=False)
            self.backend = "redis"
        elif scheme == "sqlite":
            filename = make_url(url).database
            Path(filename).parent.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(name, filename=filename, results=False)
            self.backend = "sqlite"
        else:
            raise ValueError(f"queue URL {url!r}: use redis://host:port/db or sqlite:///path/to/queue.sqlite3")
        self._run = self.huey.task(name="run_job")(runner.execute)

    @classmethod
    def for_config(cls, config) -> Queue:
        return cls(queue_url(config), config.get("QUEUE_NAME") or "annotator")

    def enqueue(self, job_id: int) -> None:
        self._run(job_id)

    def pending(self) -> int:
        return self.huey.pending_count()

    def flush(self) -> None:
        """Empty this queue (tests, and a fresh start)."""
        self.huey.flush()

    def consumer(self, workers: int = 1):
        """A Huey consumer of `workers` processes. Ctrl+C (SIGINT) stops it at once (the
        running jobs are then failed by the worker command); SIGTERM lets them finish."""
        return self.huey.create_consumer(
            workers=workers, worker_type="process", graceful_signal="TERM", initial_delay=0.1, max_delay=1.0
        )

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True) if self.backend == "redis" else self.url
