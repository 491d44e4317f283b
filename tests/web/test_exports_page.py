"""The export page over real exports of the seeded project: versions with their manifests,
a streamed zip, the diff between two versions, and what it refuses (annotators 403, unknown
versions and paths out of the exports folder 404) without touching what is published."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from annotator.annotate.spans import add_span
from annotator.db import get_db
from annotator.export.diff import DiffError, diff_versions
from annotator.export.publish import export
from annotator.layers import find_layer
from annotator.models import Document
from annotator.project import labels_of
from annotator.web.exports import zip_stream
from tests.helpers import curator, log_in

FIRST = ("Sophgo", "ORG")
LATER = ("SC11 FP300", "PRODUCT")


def mark(app, doc: Document, fragment: str, label: str, name: str = "amy") -> None:
    with get_db(app).writing() as s:
        doc = s.get(Document, doc.id)
        layer = find_layer(s, doc, name)
        start = doc.text.index(fragment)
        add_span(s, labels_of(app), doc, name, name, layer.version if layer else 0, start, start + len(fragment), label)


def two_versions(app) -> tuple[Document, Document]:
    """amy's export: v1.0.0 with one span in one document; then a second span there and a
    span in another document, exported as v1.1.0."""
    with get_db(app).reading() as s:
        docs = s.exec(select(Document).order_by(Document.id)).scalars().all()
    first = next(d for d in docs if LATER[0] in d.text)
    other = next(d for d in docs if d.id != first.id and "Nvidia" in d.text)
    out = app.config["EXPORTS_DIR"]
    mark(app, first, *FIRST)
    assert export(get_db(app), labels_of(app), "amy", out_dir=out, workers=0).version == "v1.0.0"
    mark(app, first, *LATER)
    mark(app, other, "Nvidia", "ORG")
    assert export(get_db(app), labels_of(app), "amy", out_dir=out, workers=0).version == "v1.1.0"
    return first, other


@pytest.fixture
def exported(seeded_app):
    return seeded_app, *two_versions(seeded_app)


def test_the_page_lists_versions_with_their_manifests(exported):
    app, first, other = exported
    html = curator(app).get("/exports/").get_data(as_text=True)
    assert 'data-export="amy"' in html and 'data-version="v1.1.0"' in html and 'data-version="v1.0.0"' in html
    assert html.index('data-version="v1.1.0"') < html.index('data-version="v1.0.0"')  # newest first
    assert "since v1.0.0: +1 added, −0 removed, 1 changed" in html and "first version" in html
    assert "/exports/amy/v1.1.0.zip" in html
    page = curator(app).get("/exports/amy/v1.1.0/").get_data(as_text=True)
    assert '<tr data-label="PRODUCT"><td>span</td><td>PRODUCT</td><td class="num">1</td></tr>' in page
    assert '<tr data-label="ORG"><td>span</td><td>ORG</td><td class="num">2</td></tr>' in page
    assert f"<code>{other.uid}</code>" in page and f"<code>{first.uid}</code>" in page


def test_the_diff_counts_documents_and_spans_per_label(exported):
    app, first, other = exported
    folder = app.config["EXPORTS_DIR"] + "/amy/"
    diff = diff_versions(*(Path(folder + v) for v in ("v1.0.0", "v1.1.0")))
    assert diff["counts"] == {"added": 1, "removed": 0, "changed": 1}
    assert [(r["label"], r["old"], r["new"]) for r in diff["spans"]] == [("ORG", 1, 2), ("PRODUCT", 0, 1)]
    assert diff["changed"][0]["id"] == first.uid and diff["added"][0]["id"] == other.uid
    assert diff["changed"][0]["spans"] == [
        {"label": "ORG", "old": 1, "new": 1},
        {"label": "PRODUCT", "old": 0, "new": 1},
    ]
    back = diff_versions(*(Path(folder + v) for v in ("v1.1.0", "v1.0.0")))
    assert back["counts"] == {"added": 0, "removed": 1, "changed": 1}
    html = curator(app).get("/exports/amy/diff?old=v1.0.0&new=v1.1.0").get_data(as_text=True)
    assert '<strong data-count="changed">1</strong>' in html and '<strong data-count="added">1</strong>' in html
    assert '<td class="num" data-side="old">0</td><td class="num" data-side="new">1</td>' in html


def test_a_version_without_json_lines_cannot_be_compared(tmp_path):
    for v in ("v1.0.0", "v1.0.1"):
        (tmp_path / v).mkdir()
    (tmp_path / "v1.0.1" / "data.jsonl").write_bytes(b'{"id": "a", "spans": []}\n')
    with pytest.raises(DiffError, match="v1.0.0 holds no data.jsonl"):
        diff_versions(tmp_path / "v1.0.0", tmp_path / "v1.0.1")


def test_the_zip_streams_a_megabyte_at_a_time(tmp_path):
    (tmp_path / "v1.0.0" / "brat").mkdir(parents=True)
    big = os.urandom(3 << 20)  # does not compress: each chunk read stays about its size
    (tmp_path / "v1.0.0" / "data.jsonl").write_bytes(big)
    (tmp_path / "v1.0.0" / "brat" / "a.ann").write_text("T1\tORG 0 3\tabc\n")
    (tmp_path / "v1.0.0" / "outside").symlink_to(tmp_path)  # a link is never followed
    parts = list(zip_stream(tmp_path / "v1.0.0", "x-v1.0.0"))
    assert len([p for p in parts if p]) >= 3 and max(len(p) for p in parts) < (1 << 20) + (64 << 10)
    with zipfile.ZipFile(io.BytesIO(b"".join(parts))) as archive:
        assert sorted(archive.namelist()) == ["x-v1.0.0/brat/a.ann", "x-v1.0.0/data.jsonl"]
        assert archive.read("x-v1.0.0/data.jsonl") == big


@pytest.mark.parametrize(
    "path",
    [
        "/exports/amy/v9.9.9/",
        "/exports/amy/v9.9.9.zip",
        "/exports/nobody/latest.zip",
        "/exports/nobody/v1.0.0/",
        "/exports/amy/diff?old=v1.0.0&new=v2.0.0",
        "/exports/..%2F..%2Fetc/v1.0.0/",
        "/exports/amy/..%2F..%2Fv1.0.0.zip",
        "/exports/amy/diff?old=..%2Fv1.0.0&new=v1.1.0",
        "/exports/..amy/v1.0.0.zip",
        "/exports/escape/v1.0.0.zip",
    ],
)
def test_unknown_versions_and_paths_out_of_the_folder_are_404(exported, path):
    app = exported[0]
    root = app.config["EXPORTS_DIR"]
    os.symlink(os.path.join(root, "amy"), os.path.join(root, "escape"))  # a link to elsewhere is not an export
    before = sorted(os.listdir(os.path.join(root, "amy")))
    published = Path(root, "amy", "v1.0.0", "manifest.json")
    manifest = published.read_bytes()
    response = curator(app).get(path)
    assert response.status_code == 404, path
    assert sorted(os.listdir(os.path.join(root, "amy"))) == before
    assert published.read_bytes() == manifest
    assert orjson.loads(manifest)["version"] == "1.0.0"


def test_latest_leads_to_the_newest_version(exported):
    client = curator(exported[0])
    assert client.get("/exports/amy/latest.zip").headers["Location"].endswith("/exports/amy/v1.1.0.zip")
    assert client.get("/exports/amy/latest/").headers["Location"].endswith("/exports/amy/v1.1.0/")


def test_annotators_are_refused(exported):
    app = exported[0]
    client = log_in(app, app.test_client(), "amy")
    for path in (
        "/exports/",
        "/exports/amy/v1.0.0/",
        "/exports/amy/v1.0.0.zip",
        "/exports/amy/diff?old=v1.0.0&new=v1.1.0",
    ):
        assert client.get(path).status_code == 403, path
    assert "/exports/" not in client.get("/").get_data(as_text=True)  # no link to a page they cannot open
    anonymous = app.test_client().get("/exports/amy/v1.0.0.zip")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
