"""The unit table (data/units.json), read once per process, and the vocabulary it fixes for
every stage: the qualifier codes a quantity may carry (label configurations are checked
against them, the record schema lists them). nlp/units.py compiles the rest of the table
into the quantity grammar."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "data" / "units.json"


@lru_cache(maxsize=1)
def load_table() -> dict:
    """The parsed unit table (read once per process)."""
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def qualifier_codes() -> tuple[str, ...]:
    """The bounds and approximations a quantity's `qualifier` can be (the table's closed set)."""
    return tuple(name for name in load_table()["qualifiers"] if not name.startswith("_"))
