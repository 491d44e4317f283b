"""Pre-highlighting streams: results come as documents finish, not after the last one, and
the worker pool gives exactly what one process gives."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from annotator.config import PACKAGE_DIR
from annotator.labels import load_label_config
from annotator.nlp import pipeline
from annotator.nlp.pipeline import Prehighlighter
from annotator.nlp.workers import pool_run

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    ("Nvidia's H100 delivers up to 3.35 terabytes per second of memory bandwidth.", "en"),
    ("iFlyTek increased its training efficiency from 25 percent to 73 percent.", "en"),
    ("A Huawei lançou o Ascend 910C com 64 GB de memória de alta velocidade.", "pt"),
    ("The card draws about 700 W, ±5 %, when benchmarked against Nvidia's A800 chips.", "en"),
    ("Emoji 🚀 first: 12 kg of 😀 cargo\r\nand 3.5 m on a CRLF line.", "en"),
]


def prehighlighter(**options) -> Prehighlighter:
    labels = load_label_config(PACKAGE_DIR / "data" / "labels.json")
    return Prehighlighter(labels=labels, gazetteer_file=str(PACKAGE_DIR / "data" / "gazetteer.jsonl"), **options)


def test_results_come_as_documents_finish_not_after_the_last():
    consumed = 0

    def documents():
        nonlocal consumed
        for index in range(1000):
            consumed += 1
            yield TEXTS[index % len(TEXTS)]

    results = prehighlighter(batch_size=8).run(documents())
    first = next(results)
    assert first.suggestions
    # one batch was read to give the first result, not the thousand documents
    assert consumed <= 8
    results.close()


def test_the_worker_pool_gives_what_one_process_gives(monkeypatch):
    pooled_runs = []

    def counted(*args, **kwargs):  # the real pool, counted, to know it was the one that ran
        pooled_runs.append(args[2])
        yield from pool_run(*args, **kwargs)

    monkeypatch.setattr(pipeline, "pool_run", counted)
    items = TEXTS * 8  # 40 documents, mostly English: worth the workers
    alone = [asdict(h) for h in prehighlighter(batch_size=8).run(items)]
    pooled = [asdict(h) for h in prehighlighter(processes=2, multiprocess_min_docs=10, batch_size=8).run(iter(items))]
    assert pooled_runs == [2] and len(pooled) == len(items)
    assert pooled == alone
    # code-point offsets inside each text (the emoji and CRLF one included)
    for (text, _lang), highlighted in zip(items, pooled):
        for suggestion in highlighted["suggestions"]:
            assert 0 <= suggestion["start"] < suggestion["end"] <= len(text)


def worker_kinds(results) -> tuple[list, set[str]]:
    """Every result, and the kinds of worker process ("ForkProcess", "SpawnProcess") that
    were alive while the first of them came."""
    first = next(results)
    kinds = {type(child).__name__ for child in multiprocessing.active_children()}
    return [asdict(first)] + [asdict(h) for h in results], kinds


def forked_workers_check() -> None:
    """The fork path, in a process whose only thread is its main one."""
    items = TEXTS * 8
    alone = [asdict(h) for h in prehighlighter(batch_size=8).run(items)]
    assert threading.active_count() == 1, "the check needs a process without other threads"
    parent = prehighlighter(processes=2, multiprocess_min_docs=10, batch_size=8)
    pooled, kinds = worker_kinds(parent.run(iter(items)))
    assert kinds == {"ForkProcess"}, kinds
    # the pipelines were loaded here, once, before the workers were forked
    assert set(parent._pipelines) == {"en", "pt"}
    assert pooled == alone
    assert multiprocessing.active_children() == []  # the pool is gone with the last result


def test_forked_workers_give_what_one_process_gives():
    # a fresh interpreter: the test process runs other threads by now (servers, browsers),
    # and with another thread about the workers are rightly spawned, not forked
    check = "from tests.nlp.test_streaming import forked_workers_check as c; c(); print('ok')"
    ran = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stdout + ran.stderr


def test_with_another_thread_running_the_workers_are_spawned():
    items = TEXTS * 8
    alone = [asdict(h) for h in prehighlighter(batch_size=8).run(items)]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="a heartbeat, say")
    other.start()
    try:
        parent = prehighlighter(processes=2, multiprocess_min_docs=10, batch_size=8)
        pooled, kinds = worker_kinds(parent.run(iter(items)))
    finally:
        stop.set()
        other.join()
    assert kinds == {"SpawnProcess"}
    assert parent._pipelines == {}  # each spawned worker loaded its own
    assert pooled == alone


def test_spacy_reads_a_chunk_in_parts_of_bounded_text_with_the_same_results(monkeypatch):
    """A chunk's texts reach nlp.pipe a few thousand characters at a time (PIPE_CHARS), which
    bounds the networks' memory; the results are those of reading them all at once."""
    items = TEXTS * 4
    whole = [asdict(h) for h in prehighlighter(batch_size=64).run_chunk(items)]
    monkeypatch.setattr(pipeline, "PIPE_CHARS", 150)
    nlp = prehighlighter(batch_size=64)
    read = []
    for lang in ("en", "pt"):
        model = nlp.pipeline_for(lang)
        real = model.pipe

        def pipe(texts, real=real, **kwargs):
            texts = list(texts)
            read.append(sum(len(t) for t in texts))
            return real(texts, **kwargs)

        monkeypatch.setattr(model, "pipe", pipe)
    assert [asdict(h) for h in nlp.run_chunk(items)] == whole
    longest = max(len(t) for t, _ in TEXTS)
    assert len(read) > 2 and max(read) <= 150 + longest and sum(read) == sum(len(t) for t, _ in items)
