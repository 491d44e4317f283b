"""Worker processes that end with the command that forked them.

A pool's workers are terminated by the command on its way out, also after Ctrl+C. A
command killed outright (SIGKILL, SIGTERM from a process manager or `timeout`, a crash)
never gets there. Its idle workers still leave, at the end of file on the task pipe, but a
busy one first finishes its task (a long text's piece, a chunk of an export), or waits on
whatever it is waiting for, using a core for nobody. On Linux the kernel signals a process
when its parent dies (prctl PR_SET_PDEATHSIG), so they end at once; elsewhere nothing
changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def end_with_parent(parent: int) -> None:
    """In a freshly started worker whose parent is `parent` (its pid, taken before the
    fork): be sent SIGTERM when that parent dies, or leave now if it already has."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            return  # refused (a sandbox): the worker lives as before
    except (OSError, AttributeError):
        return
    # the parent may have died between the fork and the call above, and then no signal comes
    if os.getppid() != parent:
        os._exit(1)
