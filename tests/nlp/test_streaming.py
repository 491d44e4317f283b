"""Pre-highlighting streams: results come as documents finish, not after the last one, and
the worker pool gives exactly what one process gives."""

from __future__ import annotations

from dataclasses import asdict

from annotator.config import PACKAGE_DIR
from annotator.labels import load_label_config
from annotator.nlp import pipeline
from annotator.nlp.pipeline import Prehighlighter
from annotator.nlp.workers import pool_run

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
