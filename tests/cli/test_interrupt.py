"""Ctrl+C during a long import, and progress that moves: the real command in a subprocess,
its own process group, real signals, a real SQLite file read while it runs."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ANNOTATOR = str(Path(sys.executable).with_name("annotator"))
STOP_WITHIN = 10  # seconds; about 2 s here, the rest is headroom for a loaded machine


def write_documents(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"report-{i:05d}.txt").write_text(
            f"Report {i}. Sophgo said its SC11 FP300 card carries {i + 1} gigabytes of memory "
            f"and draws {i % 90 + 10} watts, about {i % 7 + 2} percent less than last year.\n",
            encoding="utf-8",
        )


def environment(instance: Path, processes: int, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ANNOTATOR_DATABASE_URL")}
    env.update(
        ANNOTATOR_INSTANCE_PATH=str(instance),
        ANNOTATOR_NLP_PROCESSES=str(processes),
        ANNOTATOR_NLP_MULTIPROCESS_MIN_DOCS="50",
        **extra,
    )
    return env


def stored_documents(instance: Path) -> int:
    path = instance / "annotator.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM document").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is still being created
        return 0


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (zombies are gone once reaped)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def interrupt_import(tmp_path: Path, n: int, to_group: bool, twice: bool = False):
    docs, instance = tmp_path / "docs", tmp_path / "instance"
    write_documents(docs, n)
    process = subprocess.Popen(
        [ANNOTATOR, "import", str(docs)],
        env=environment(instance, processes=2),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while stored_documents(instance) == 0:  # the first group is committed
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "nothing was stored in four minutes"
        time.sleep(0.2)
    workers = [pid for pid in group_members(process.pid) if pid != process.pid]
    sent = time.monotonic()
    if to_group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGINT)
    if twice:
        time.sleep(0.1)
        os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    took = time.monotonic() - sent
    return process, out, err, took, workers, docs, instance


@pytest.mark.parametrize(
    ("to_group", "twice"),
    [(True, False), (False, False), (True, True)],
    ids=["ctrl-c-to-the-group", "sigint-to-the-main-process", "ctrl-c-twice"],
)
def test_ctrl_c_stops_an_import_keeping_what_finished(tmp_path, to_group, twice):
    n = 2000
    process, out, err, took, workers, docs, instance = interrupt_import(tmp_path, n, to_group, twice)
    assert process.returncode == 130, (out, err)
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert len(workers) >= 2, "the import should have run in worker processes"
    # multiprocessing's resource tracker leaves once the import's exit closes its pipe: give
    # the group a moment to empty, no more
    gone = time.monotonic() + 3
    while group_members(process.pid) and time.monotonic() < gone:
        time.sleep(0.05)
    assert group_members(process.pid) == [], "worker processes outlived the import"
    kept = stored_documents(instance)
    assert 0 < kept < n
    lines = [line for line in out.splitlines() if line.startswith("Interrupted")]
    assert lines == [
        f"Interrupted: kept {kept} new documents of {n} (each file whole or not at all); "
        "run the same command again to import the rest."
    ], out
    # every stored document is whole: its suggestions are there
    with sqlite3.connect(instance / "annotator.sqlite3") as conn:
        bare = conn.execute(
            "SELECT count(*) FROM document d WHERE NOT EXISTS (SELECT 1 FROM suggestion s WHERE s.document_id = d.id)"
        ).fetchone()[0]
    assert bare == 0

    if twice:  # one re-run is enough to show the rest comes in
        rerun = subprocess.run(
            [ANNOTATOR, "import", str(docs), "--no-prehighlight"],
            env=environment(instance, processes=1),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert rerun.returncode == 0, rerun.stderr
        assert f"Imported {n - kept} new documents" in rerun.stdout
        assert f"{kept} already present (skipped)" in rerun.stdout
        assert stored_documents(instance) == n


def test_progress_moves_with_the_work_without_a_terminal(tmp_path):
    n = 300
    docs, instance = tmp_path / "docs", tmp_path / "instance"
    write_documents(docs, n)
    result = subprocess.run(
        [ANNOTATOR, "import", str(docs)],
        env=environment(instance, processes=1, ANNOTATOR_PROGRESS_EVERY="0.1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    counts = [int(m.group(1)) for m in re.finditer(r"^Pre-highlighting: (\d+)/300 documents", result.stderr, re.M)]
    # plain lines (no carriage returns) while the work goes on, with counts in between
    assert "\r" not in result.stderr
    assert any(0 < c < n for c in counts), result.stderr
    assert counts == sorted(counts)
    assert re.search(r"^Pre-highlighting: 300 of 300 documents in \d+:\d\d \([\d.,]+/s\)$", result.stderr, re.M)
    assert "Imported 300 new documents" in result.stdout


class _LandsInAFinalizer:
    """Ctrl+C arriving while Python runs a finalizer: the KeyboardInterrupt raised there is
    reported as unraisable and swallowed, and the work would go on."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)


class _FailsInAFinalizer:
    def __del__(self):
        raise ValueError("a finalizer's own failure")


def test_a_ctrl_c_lost_in_a_finalizer_stops_the_work_at_its_next_progress(monkeypatch):
    from annotator.cli.progress import ProgressBar, interrupt_once

    reported = []  # what Python would print as "Exception ignored in ...", with a traceback
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    bar = ProgressBar(False, "Working")
    bar.start(100)
    updates = 0
    previous = signal.getsignal(signal.SIGINT)
    try:
        with interrupt_once(), pytest.raises(KeyboardInterrupt):
            _LandsInAFinalizer()  # finalized at once: the handler's raise goes nowhere
            for _ in range(100):
                bar.update(1)
                updates += 1
        assert updates == 0, "the first update after the lost Ctrl+C raises it"
        assert reported == [], "the lost Ctrl+C is raised again, not printed as a traceback"
        bar.update(1)  # once only: the command's own answer to it is not interrupted again
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN, "later Ctrl+C are ignored, as before"
    finally:
        signal.signal(signal.SIGINT, previous)  # this test process's own handler back
    assert sys.unraisablehook == reported.append, "the hook is put back on the way out"


def test_other_failures_in_finalizers_are_still_reported_while_a_command_runs(monkeypatch):
    from annotator.cli.progress import interrupt_once

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    previous = signal.getsignal(signal.SIGINT)
    try:
        with interrupt_once():
            _FailsInAFinalizer()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert [type(r.exc_value) for r in reported] == [ValueError]
