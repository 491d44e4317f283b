"""Cyclic garbage collection paused around bulk work.

Imports and exports stream many small dicts and lists without reference cycles (an export
record is ~500 of them, a brat document read ~100), which reference counting frees. The
cyclic collector still ran thousands of times over such a run, re-scanning every live object
on its full passes: 10-15% of an export, half of reading a 2,000-document brat folder.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
