"""Progress of long commands on stderr, and Ctrl+C answered once.

On a terminal the line is redrawn in place (count, share, rate, elapsed, time left); in a
log or CI, where a redrawn line would be one unreadable run of carriage returns, a plain
line is printed every few seconds instead. Either way the command ends with one line of
elapsed time and rate.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager

from annotator.cli import conventions

REDRAW = 0.1  # seconds between redraws on a terminal
PLAIN_EVERY = float(os.environ.get("ANNOTATOR_PROGRESS_EVERY", "5"))  # ...and between plain lines
MIN_TOTAL = 20  # fewer items than this are done before a bar would tell anything
# A Ctrl+C answered by raising, noted in case the raise never reached the command: Python
# swallows an exception raised in a finalizer (__del__, a weakref callback), and the signal
# can land in one. The next progress update then raises it again, and the swallowed one is
# not printed as a traceback (see _quiet_lost_interrupt).
_interrupted = False


class ProgressBar:
    """`start(total)`, `update(n)` as items finish, `finish()` (also on leaving a with block)."""

    def __init__(self, show: bool, label: str, unit: str = "documents", stream=None):
        self.show, self.label, self.unit = show and conventions.level() > conventions.QUIET, label, unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = self.done = 0
        self.started = self.drawn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self.started = self.drawn = time.monotonic()
        if self._active:
            self._draw(time.monotonic())

    def update(self, n: int) -> None:
        self.done += n
        if _interrupted and threading.current_thread() is threading.main_thread():
            _raise_again()
        if not self._active:
            return
        now = time.monotonic()
        if now - self.drawn >= (REDRAW if self.tty else PLAIN_EVERY) or self.done >= self.total:
            self._draw(now)

    def finish(self) -> None:
        """The closing line: how many, how long, how fast."""
        if not self._active:
            self.started = None
            return
        elapsed = time.monotonic() - self.started
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(
            f"{self.label}: {self.done:,} of {self.total:,} {self.unit} "
            f"in {_clock(elapsed)} ({_rate(self.done, elapsed)})\n"
        )
        self.stream.flush()
        self.started = None

    @property
    def _active(self) -> bool:
        return self.show and self.started is not None and self.total >= MIN_TOTAL

    def _draw(self, now: float) -> None:
        self.drawn = now
        elapsed = now - self.started
        share = self.done / self.total if self.total else 1.0
        # no guess from the first item or two, which carry the start-up (workers, models)
        left = _clock(elapsed / share - elapsed) if share >= 0.02 and elapsed >= 1 else "--:--"
        line = (
            f"{self.label}: {self.done:,}/{self.total:,} {self.unit} {share:4.0%}  {_rate(self.done, elapsed)}  "
            f"elapsed {_clock(elapsed)}  left {left}"
        )
        self.stream.write(f"\r\x1b[K{line}" if self.tty else f"{line}\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _rate(done: int, elapsed: float) -> str:
    return f"{done / elapsed:,.1f}/s" if elapsed > 0 and done else "-/s"


def _stop_once(signum, frame) -> None:
    # the cleanup after the first Ctrl+C (terminating workers, rolling back the open
    # transaction) runs undisturbed: a second one is not a traceback in the middle of it
    global _interrupted
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _interrupted = True
    raise KeyboardInterrupt


def _raise_again() -> None:
    """Work went on after a Ctrl+C: its KeyboardInterrupt was lost on the way. Once only,
    so the command's own answer to it is never interrupted."""
    global _interrupted
    _interrupted = False
    raise KeyboardInterrupt


def _quiet_lost_interrupt(unraisable, report) -> None:
    """An unraisable-exception hook: our own Ctrl+C swallowed by a finalizer is not news
    (it is raised again at the next progress update); anything else is reported as usual."""
    if _interrupted and isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    report(unraisable)


@contextmanager
def interrupt_once():
    """Within it, the first Ctrl+C raises KeyboardInterrupt and further ones are ignored,
    also after it: once interrupted, the command is on its way out."""
    global _interrupted
    _interrupted = False
    previous = signal.signal(signal.SIGINT, _stop_once)
    report = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: _quiet_lost_interrupt(unraisable, report)
    try:
        yield
    finally:
        sys.unraisablehook = report
        if signal.getsignal(signal.SIGINT) is _stop_once:
            signal.signal(signal.SIGINT, previous)
