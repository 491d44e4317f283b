"""A large import's settling workers start before the command opens its database, and each
loads spaCy's tokenizer itself meanwhile: the importing process never loads spaCy, and every
document is settled (language and tokens) by the time the command returns."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from annotator.ingest.first_use import cores
from annotator.ingest.pipeline import EARLY_POOL_BYTES

# the command run in a process of its own (a forked pool needs a process without pytest's
# threads), its database opening watched: how many workers were alive when the schema was
# made, and whether this process ever imported spaCy
PROGRAM = """
import multiprocessing, sys
import annotator.project as project
from annotator.cli import main

alive = []
real = project.ensure_schema

def watched(database):
    alive.append(len(multiprocessing.active_children()))
    return real(database)

project.ensure_schema = watched
try:
    main(["import", "-q", "--no-prehighlight", "--db", sys.argv[2], sys.argv[1]], standalone_mode=False)
except SystemExit as stop:
    assert not stop.code, stop.code
print(alive, "spacy" in sys.modules)
"""
TEXTS = (
    "Huawei shipped {i} Ascend 910C chips in 2024, a 25 percent rise on the year before. ",
    "A empresa chinesa vendeu {i} unidades no terceiro trimestre, mais do que esperavam os analistas, "
    "e também anunciou novos investimentos em São Paulo. ",
)


def test_the_workers_start_before_the_database_opens_and_load_spacy_themselves(tmp_path):
    records = tmp_path / "records.jsonl"
    with open(records, "w", encoding="utf-8") as handle:
        for i in range(600):
            handle.write(json.dumps({"text": TEXTS[i % 2].format(i=i) * 25}) + "\n")
    assert records.stat().st_size >= EARLY_POOL_BYTES
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    database = instance / "annotator.sqlite3"
    ran = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(records), f"sqlite:///{database}"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance)},
    )
    assert ran.returncode == 0, ran.stderr
    workers = cores() if cores() > 1 else 0
    assert ran.stdout.split()[-2:] == [f"[{workers}]", str(workers == 0)], ran.stdout
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT lang, lang_source, tokens IS NOT NULL FROM document").fetchall()
        arrays = conn.execute("SELECT count(*) FROM tokenarray").fetchone()[0]
    assert len(rows) == 600 and arrays == 600
    assert {row[0] for row in rows} == {"en", "pt"} and all(row[1] == "detected" and row[2] for row in rows)
