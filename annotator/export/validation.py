"""`annotator validate`: check a JSONL file record by record, naming file:line and field."""

from __future__ import annotations

from pathlib import Path

import orjson

from annotator.schema import is_valid_fast, record_errors


def validate_file(path: Path) -> tuple[list[dict], int]:
    """Problems as {file, line, message}; the number of records read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [{"file": str(path), "line": 0, "message": f"cannot read file: {exc.strerror or exc}"}], 0
    problems, count = [], 0
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        count += 1
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            problems.append({"file": str(path), "line": lineno, "message": f"malformed JSON: {exc}"})
            continue
        problems.extend({"file": str(path), "line": lineno, "message": m} for m in record_problems(record))
    return problems, count


def record_problems(record) -> list[str]:
    """What is wrong with one record, if anything.

    The compiled validator of the same schema and the consistency checks clear a good
    record in ~0.3 ms; only a record they refuse goes to the explaining validator (~25 ms
    for a seed-sized record, minutes for a 10,000-record export) to name what is wrong.
    """
    return [] if is_valid_fast(record) else record_errors(record)
