"""Long work as jobs: a row per job in the project database (store.py), a queue that hands
job ids to `annotator worker` processes (queue.py: Huey on a SQLite file or on Redis), and
the runner that executes one job with its progress, heartbeat and cancel (runner.py)."""
