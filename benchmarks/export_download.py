"""A large export version downloaded as a zip, and two such versions compared: memory stays
flat whatever the size.

    .venv/bin/python -m benchmarks.export_download [--documents 20000]

Set-up (not timed): two version folders of seed-sized JSON Lines records (~4 KB each, the
second with a tenth of the documents changed, a twentieth added). Timed: the download's zip
stream (web/exports.zip_stream, read to the end as a client would), and the diff
(export/diff.py). tracemalloc's peak during each is compared with the data's size.
Targets: the zip stream's peak allocation <= 5% of the file, the diff's <= 50%.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import orjson

from annotator.export.diff import diff_versions
from annotator.web.exports import zip_stream

from ._common import Target, exit_code, machine_info, print_summary, timed, write_result

LABELS = ("ORG", "PRODUCT", "QUANTITY", "GPE", "DATE", "MODEL")


def record(i: int, rng: random.Random, changed: bool = False) -> bytes:
    words = [rng.choice(("Nvidia", "makes", "the", "H100", "with", "80", "GB", "memory")) for _ in range(500)]
    text = " ".join(words)
    spans = [{"start": 0, "end": len(words[0]), "label": rng.choice(LABELS)} for _ in range(20 + changed)]
    body = {"id": f"{i:016x}", "text": text, "meta": {"title": f"document {i}"}, "spans": spans}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n"


def make_versions(root: Path, documents: int) -> tuple[Path, Path]:
    old, new = root / "v1.0.0", root / "v1.1.0"
    old.mkdir(), new.mkdir()
    rng = random.Random(7)
    with open(old / "data.jsonl", "wb") as a, open(new / "data.jsonl", "wb") as b:
        for i in range(documents):
            line = record(i, rng)
            a.write(line)
            b.write(record(i, random.Random(i), changed=True) if i % 10 == 0 else line)
        for i in range(documents, documents + documents // 20):
            b.write(record(i, rng))
    return old, new


def peak_of(fn) -> tuple[float, int, object]:
    tracemalloc.start()
    timing, result = timed(fn)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return timing.wall, peak, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        old, new = make_versions(Path(tmp), args.documents)
        size = (new / "data.jsonl").stat().st_size
        zip_s, zip_peak, zipped = peak_of(lambda: sum(len(part) for part in zip_stream(new, "bench-v1.1.0")))
        diff_s, diff_peak, diff = peak_of(lambda: diff_versions(old, new))
    figures = {
        "documents": args.documents,
        "data_mb": round(size / 1e6, 1),
        "zip": {"wall_s": round(zip_s, 2), "mb_per_s": round(size / 1e6 / zip_s, 1), "zip_mb": round(zipped / 1e6, 1),
                "peak_alloc_mb": round(zip_peak / 1e6, 2), "peak_to_data": round(zip_peak / size, 4)},
        "diff": {"wall_s": round(diff_s, 2), "mb_per_s": round(2 * size / 1e6 / diff_s, 1), "counts": diff["counts"],
                 "peak_alloc_mb": round(diff_peak / 1e6, 2), "peak_to_data": round(diff_peak / (2 * size), 4)},
    }  # fmt: skip
    targets = [
        Target("zip stream peak allocation / data size", figures["zip"]["peak_to_data"], "<=", 0.05),
        Target("diff peak allocation / data size (both versions)", figures["diff"]["peak_to_data"], "<=", 0.5),
    ]
    path = write_result("export_download", figures, targets, machine=machine, started=started)
    lines = [f"{figures['data_mb']} MB of JSON Lines", f"zip {figures['zip']}", f"diff {figures['diff']}"]
    print_summary("export download and diff", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
