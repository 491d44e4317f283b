"""One very long document through the whole `annotator import`, pre-highlighted, with the
peak memory of the command and its workers.

    .venv/bin/python -m benchmarks.long_document [--chars 1000001]

The text is the seed articles repeated to --chars characters (one over spaCy's default
max_length of 1,000,000, which once stopped the import with E088). The pipeline reads it in
pieces cut at paragraph or sentence ends (annotator/nlp/pieces.py) on two worker processes,
and every stored suggestion is checked against the text: offsets exact, inside it.
Target: the command's peak PSS (process tree) under 800 MiB. Writes
benchmarks/results/long_document.json.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from ._common import Target, exit_code, machine_info, print_summary, write_result
from ._tree import run_command
from .prehighlight import ANNOTATOR, PROCESSES

ROOT = Path(__file__).resolve().parents[1]
TARGET_PEAK_MIB = 800


def long_text(chars: int) -> str:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    parts, size, i = [], 0, 0
    while size < chars:
        parts.append(seeds[i % len(seeds)])
        size += len(parts[-1]) + 2
        i += 1
    return "\n\n".join(parts)[:chars]


def checked(database: Path, text: str) -> dict:
    """The stored document and suggestions, each suggestion's offsets inside the text."""
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT text, n_chars FROM document").fetchall()
        assert len(stored) == 1 and stored[0][0] == text and stored[0][1] == len(text)
        rows = conn.execute('SELECT start, "end" FROM suggestion').fetchall()
        claims = conn.execute("SELECT count(*) FROM claimsuggestion").fetchone()[0]
    assert rows and all(0 <= s < e <= len(text) and text[s:e].strip() for s, e in rows)
    return {"suggestions": len(rows), "claims": claims}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1_000_001)
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    text = long_text(args.chars)
    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        tmp = Path(tmp)
        (tmp / "long.txt").write_text(text, encoding="utf-8")
        instance = tmp / "instance"
        instance.mkdir(mode=0o700)
        database = instance / "annotator.sqlite3"
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ANNOTATOR_DATABASE_URL")},
            "ANNOTATOR_INSTANCE_PATH": str(instance),
            "ANNOTATOR_NLP_PROCESSES": str(PROCESSES),
        }
        run = run_command([ANNOTATOR, "import", "-q", "--db", f"sqlite:///{database}", str(tmp / "long.txt")], env)
        run.pop("stdout")
        stored = checked(database, text)
    figures = {"chars": len(text), "import": run, "stored": stored}
    targets = [Target("import peak memory (PSS, process tree)", run["peak_pss_mib"], "<=", TARGET_PEAK_MIB, "MiB")]
    path = write_result("long_document", figures, targets, machine=machine, started=started)
    lines = [
        f"{len(text):,} characters: import {run['seconds']} s ({run['cpu_s']} s CPU),"
        f" peak {run['peak_pss_mib']} MiB PSS / {run['peak_rss_sum_mib']} MiB RSS summed,"
        f" {run['most_processes']} processes",
        f"{stored['suggestions']:,} suggestions, {stored['claims']:,} claims, every offset inside the text",
    ]
    print_summary("One long document", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    raise SystemExit(main())
