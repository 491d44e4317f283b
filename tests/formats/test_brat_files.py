"""brat files written in parts (worker processes): the same names, bytes and listing as one
pass over the records, checksums from the writer that match the files, read-only from birth."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from annotator.formats.brat.lines import ClaimWords
from annotator.formats.brat.writer import BratPart, pick_name, write_new
from tests.interchange import run_export, run_import

TEXTS = [
    "Huawei shipped 10,000 Ascend 910C chips.",
    "Nvidia sells the H800 in China.",
    "Intel makes Gaudi 3 accelerators.",
    "AMD ships the MI300X with 192 GB.",
    "Sophgo makes the SC11.",
]


@pytest.fixture
def one_document_chunks(monkeypatch):
    import annotator.export.publish as exporting

    monkeypatch.setattr(exporting, "CHUNK_DOCUMENTS", 1)  # every document its own task


def same_named_folders(tmp_path: Path) -> list[Path]:
    """Five folders, each with a doc.txt + doc.ann: five documents whose annotation set is
    called "doc", so all but one must be named otherwise, whichever chunk writes first."""
    folders = []
    for i, text in enumerate(TEXTS):
        folder = tmp_path / f"in{i}"
        folder.mkdir()
        (folder / "doc.txt").write_text(text, encoding="utf-8")
        word = text.split()[0]
        (folder / "doc.ann").write_text(f"T1\tORG 0 {len(word)}\t{word}\n", encoding="utf-8")
        folders.append(folder)
    return folders


def files_of(result) -> dict[str, bytes]:
    root = result.path / "brat"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("split", [None, "1/1/1"])
def test_workers_name_and_write_the_files_as_one_pass_does(sqlite_xapp, tmp_path, one_document_chunks, split):
    app = sqlite_xapp
    assert run_import(app, same_named_folders(tmp_path), fmt="brat").ok
    here = run_export(app, tmp_path / "here", fmt="brat", split=split, workers=0)
    workers = run_export(app, tmp_path / "workers", fmt="brat", split=split, workers=2)
    files = files_of(here)
    assert files == files_of(workers)
    names = Counter(name.rsplit(".", 1)[0] for name in files)
    assert len(names) == 5 and set(names.values()) == {2}  # a .txt and an .ann each, none left behind
    if not split:
        assert "doc.txt" in files  # the first document in id order keeps its set's name
    assert (here.path / "brat.sha256").read_bytes() == (workers.path / "brat.sha256").read_bytes()
    assert here.manifest["brat"] == workers.manifest["brat"]
    assert here.manifest["files"]["brat/"] == workers.manifest["files"]["brat/"]
    for result in (here, workers):
        for line in (result.path / "brat.sha256").read_text().splitlines():
            digest, name = line.split("  ", 1)
            path = result.path / name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
            assert not path.stat().st_mode & 0o222
        assert not list((result.path / "brat").rglob(".*"))  # no provisional name left


def test_write_new_reports_the_files_checksum_and_makes_it_read_only(tmp_path):
    data = "Huawei 😀\r\n".encode() * 1000
    digest, size = write_new(str(tmp_path / "a.txt"), data)
    assert (digest, size) == (hashlib.sha256((tmp_path / "a.txt").read_bytes()).hexdigest(), len(data))
    assert not (tmp_path / "a.txt").stat().st_mode & 0o222
    with pytest.raises(FileExistsError):
        write_new(str(tmp_path / "a.txt"), b"again")


def test_a_part_writes_a_taken_name_under_a_provisional_one(tmp_path):
    root = tmp_path / "brat"
    root.mkdir()
    first, second = BratPart(root, ClaimWords(), "0"), BratPart(root, ClaimWords(), "1")
    record = {"id": "d1", "text": "Huawei.", "spans": [], "relations": [], "claims": []}
    first.add(record, None)
    second.add({**record, "id": "d2"}, None)  # alone, it would also call its file d2 ...
    second.add({**record, "id": "d1"}, None)  # ... but d1 is the first part's already
    ((_, *_, written, sums),) = first.report()[0]
    assert written == "d1" and sums[0] == (hashlib.sha256(b"Huawei.").hexdigest(), 7)
    assert [p.written for p in second.report()[0]] == ["d2", ".1.1"]
    assert sorted(p.name for p in root.iterdir()) == [".1.1.ann", ".1.1.txt", "d1.ann", "d1.txt", "d2.ann", "d2.txt"]


def test_pick_name_order():
    used: set[str] = set()
    assert pick_name(used, "news-1", "abc", 1) == "news-1"
    assert pick_name(used, "news-1", "def", 1) == "def"  # taken: the document id
    assert pick_name(used, "news-1", "ghi", 2) == "ghi.news-1"  # several sets: id and set
    assert pick_name(used, None, "def", 1) == "def.3"  # id taken too: id and a count
