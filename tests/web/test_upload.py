"""The upload page refuses what must never reach a worker, whole and with the reason, and
then stores and queues nothing: archive members outside the archive, links, zip bombs, too
large an upload, files of other kinds. Only curators and admins upload."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.models import Document, Job
from tests.conftest import make_test_app
from tests.helpers import curator, log_in


@pytest.fixture
def app(tmp_path):
    app = make_test_app(
        tmp_path, MAX_CONTENT_LENGTH=300_000, UPLOAD_MAX_UNCOMPRESSED=100_000, QUEUE_NAME=f"t{os.getpid()}"
    )
    yield app
    get_db(app).dispose()


def archive(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            z.writestr(info, data)
    return out.getvalue()


def link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def stored(app) -> tuple[int, int]:
    with get_db(app).reading() as s:
        return (
            s.exec(select(func.count()).select_from(Job)).scalar_one(),
            s.exec(select(func.count()).select_from(Document)).scalar_one(),
        )


def upload(client, files: list[tuple[str, bytes]], **form):
    data = {"into": "corpus", **form, "files": [(io.BytesIO(b), name) for name, b in files]}
    return client.post("/upload/", data=data, content_type="multipart/form-data", headers={"HX-Request": "true"})


REFUSALS = [
    ([("up.zip", archive(("../evil.txt", b"x")))], "points outside the archive"),
    ([("up.zip", archive(("/etc/evil.txt", b"x")))], "has an absolute path"),
    ([("up.zip", archive((link("notes.txt"), b"/etc/passwd")))], "is a symbolic link"),
    ([("bomb.zip", archive(("zeros.txt", b"0" * 2_000_000)))], "looks like a zip bomb"),
    (
        [("big.zip", archive(*((f"d{i}.txt", os.urandom(30_000).hex().encode()[:30_000]) for i in range(4))))],
        "once uncompressed",
    ),
    ([("notes.pdf", b"%PDF-1.4")], "not a .txt, .md, .jsonl or .zip file"),
    ([("broken.zip", b"PK\x03\x04 not really")], "not a readable .zip archive"),
]


@pytest.mark.parametrize(("files", "reason"), REFUSALS, ids=[r for _, r in REFUSALS])
def test_a_refused_upload_says_why_and_stores_nothing(app, files, reason):
    response = upload(curator(app), files)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert reason in page and "Nothing was stored." in page
    assert stored(app) == (0, 0)


def test_an_upload_over_the_size_limit_is_answered_413_and_stores_nothing(app):
    response = upload(curator(app), [("big.txt", b"word " * 80_000)])
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 292.969 KB" in page and "Nothing was stored" in page
    assert stored(app) == (0, 0)


def test_a_good_upload_queues_one_import_job_with_its_files(app):
    brat = archive(("corpus/a.txt", b"Huawei makes chips."), ("corpus/a.ann", b"T1\tORG 0 6\tHuawei\n"))
    response = upload(
        curator(app),
        [("notes.md", b"# Notes\n\nH100 has 80 GB."), ("brat.zip", brat)],
        into="layer",
        layer="alice",
        fmt="brat",
        prehighlight="on",
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert 'id="job-1"' in response.get_data(as_text=True) and 'hx-trigger="every 1s"' in response.get_data(
        as_text=True
    )
    with get_db(app).reading() as s:
        job = s.get(Job, 1)
    assert (job.kind, job.state, job.started_by) == ("import", "queued", "lead")
    assert job.params == {
        "prehighlight": True,
        "names": ["notes.md", "brat.zip"],
        "layer": "alice",
        "fmt": "brat",
        "done": False,
    }
    assert sorted(zipfile.ZipFile(io.BytesIO(job.upload)).namelist()) == [
        "brat/corpus/a.ann",
        "brat/corpus/a.txt",
        "notes.md",
    ]


def test_annotators_cannot_upload(app):
    client = log_in(app, app.test_client(), "ann", "annotator")
    assert client.get("/upload/").status_code == 403
    assert upload(client, [("a.txt", b"text")]).status_code == 403
    assert stored(app) == (0, 0)


def test_a_bad_layer_name_is_refused_before_anything_is_queued(app):
    response = upload(curator(app), [("a.jsonl", b'{"text": "x"}\n')], into="layer", layer="suggestions")
    assert response.status_code == 422 and "a person's name" in response.get_data(as_text=True)
    assert stored(app) == (0, 0)
