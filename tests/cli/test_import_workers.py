"""A large import's settling workers start before the command opens its database, and each
loads spaCy's tokenizer itself meanwhile: the importing process never loads spaCy, and every
document is settled (language and tokens) by the time the command returns. A pre-highlighting
import's workers, too, are forked before the files are read, and inherit none of them."""

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


# A pre-highlighting import, run the same way: how many workers were alive when the files
# were first read, and how many documents read (Incoming objects) each worker holds as it
# takes its first task. Small thresholds, so a few documents are worth the workers.
HIGHLIGHTING = """
import gc, multiprocessing, os, sys
from annotator.cli import main
from annotator.contents import Incoming
from annotator.ingest import pipeline
from annotator.nlp import pipeline as nlp_pipeline, workers

nlp_pipeline.POOL_MIN_CHARS, nlp_pipeline.WORKER_CHUNK = 2_000, 2
alive, held_file = [], sys.argv[3]
real_read, real_highlight = pipeline.read_files, workers._highlight

def reading(*args, **kwargs):
    alive.append(len(multiprocessing.active_children()))
    return real_read(*args, **kwargs)

def highlight(chunk):
    if not getattr(highlight, "counted", False):
        highlight.counted = True
        gc.unfreeze()  # what was loaded before the fork was frozen out of gc's view
        held = sum(1 for o in gc.get_objects() if type(o) is Incoming)
        with open(held_file, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {held}\\n")
    return real_highlight(chunk)

pipeline.read_files, workers._highlight = reading, highlight
try:
    main(["import", "-q", "--db", sys.argv[2], sys.argv[1]], standalone_mode=False)
except SystemExit as stop:
    assert not stop.code, stop.code
print(alive)
"""


def _highlighting_import(tmp_path, records, processes: int) -> tuple[str, list[str], list[tuple]]:
    instance = tmp_path / f"instance{processes}"
    instance.mkdir(mode=0o700)
    database, held = instance / "annotator.sqlite3", tmp_path / f"held{processes}"
    ran = subprocess.run(
        [sys.executable, "-c", HIGHLIGHTING, str(records), f"sqlite:///{database}", str(held)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance), "ANNOTATOR_NLP_PROCESSES": str(processes)},
    )
    assert ran.returncode == 0, ran.stderr
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            'SELECT d.uid, s.start, s."end", s.label, s.value, s.unit FROM suggestion s '
            'JOIN document d ON d.id = s.document_id ORDER BY d.uid, s.start, s."end", s.label'
        ).fetchall()
    return ran.stdout.split()[-1], held.read_text().split("\n")[:-1] if held.exists() else [], rows


def test_pre_highlighting_workers_fork_before_reading_and_hold_no_document_read(tmp_path):
    """Forked after the files were read, each worker inherited every document, and kept those
    pages while the importing process, touching its own objects, copied them."""
    records = tmp_path / "records.jsonl"
    with open(records, "w", encoding="utf-8") as handle:
        for i in range(12):
            handle.write(json.dumps({"text": TEXTS[i % 3 == 2].format(i=i) * 3}) + "\n")
    alive, held, pooled = _highlighting_import(tmp_path, records, 2)  # two asked for: two, whatever the cores
    assert alive == "[2]"  # both workers were there before the first file was read
    # every worker that took a task (one may have taken them all) holds none of it
    assert 1 <= len(held) <= 2 and {line.split()[1] for line in held} == {"0"}, held
    _, held_alone, alone = _highlighting_import(tmp_path, records, 1)
    assert held_alone == [] and len(alone) > 24
    assert pooled == alone  # the same suggestions as one process makes
