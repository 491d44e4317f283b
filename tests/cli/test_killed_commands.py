"""A command killed outright (SIGKILL, or SIGTERM from a process manager) gets no chance to
terminate its worker processes: they end with it, busy or idle, and none is left behind
(annotator/worker_lifetime.py). Real commands, real worker pools, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.cli.test_interrupt import ANNOTATOR, environment, group_members, write_documents

GONE_WITHIN = 10  # seconds; well under one here, the rest is headroom for a loaded machine


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("killed")
    write_documents(root / "docs", 2000)
    return root / "docs"


def kill_once_workers_run(args: list[str], env: dict, sig: int) -> tuple[list[int], int]:
    """Start `annotator ARGS` in its own process group; once it has worker processes, freeze
    the group, send `sig` to the main process alone and let the group go on. Returns the
    workers seen and the main process's pid."""
    process = subprocess.Popen(
        [ANNOTATOR, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    try:
        while True:
            assert process.poll() is None, "the command ended before it had workers"
            assert time.monotonic() < deadline, "no worker processes in four minutes"
            if len(group_members(process.pid)) >= 3:  # the command and two workers
                os.killpg(process.pid, signal.SIGSTOP)
                workers = [pid for pid in group_members(process.pid) if pid != process.pid]
                if len(workers) >= 2:
                    break
                os.killpg(process.pid, signal.SIGCONT)
            time.sleep(0.01)
        os.kill(process.pid, sig)
        os.killpg(process.pid, signal.SIGCONT)
        process.wait(timeout=60)
        return workers, process.pid
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def assert_workers_end(workers: list[int], group: int) -> None:
    gone = time.monotonic() + GONE_WITHIN
    while group_members(group) and time.monotonic() < gone:
        time.sleep(0.05)
    left = group_members(group)
    for pid in left:  # this test's own processes: never leave them behind, whatever it finds
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"worker processes outlived the killed command ({len(workers)} seen)"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_pre_highlighting_workers_end_with_a_killed_import(tmp_path, corpus, sig):
    workers, group = kill_once_workers_run(
        ["import", str(corpus)], environment(tmp_path / "instance", processes=2), sig
    )
    assert_workers_end(workers, group)


def test_settling_workers_end_with_a_killed_import(tmp_path, corpus):
    workers, group = kill_once_workers_run(
        ["import", str(corpus), "--no-prehighlight"], environment(tmp_path / "instance", processes=2), signal.SIGKILL
    )
    assert_workers_end(workers, group)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="an export forks workers only with two cores or more")
def test_export_workers_end_with_a_killed_export(tmp_path, plain_project):
    workers, group = kill_once_workers_run(
        ["export", "--out", str(tmp_path / "exports")], environment(plain_project, processes=2), signal.SIGKILL
    )
    assert_workers_end(workers, group)
