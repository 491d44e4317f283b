"""Issue 18: export and import say what they did not do, and a spaCy export is a step from
a trained model."""

from __future__ import annotations

import json
import os
import shutil

import orjson
import pytest


@pytest.fixture
def project(tmp_path, seeded_template):
    path = tmp_path / "seeded.sqlite3"
    shutil.copy(seeded_template, path)
    return f"sqlite:///{path}"


def documents(cli, url) -> int:
    return json.loads(cli("stats", "--json", "--db", url).output)["documents"]


# --- export ----------------------------------------------------------------------------------


def test_a_layer_nobody_has_is_an_error_naming_the_layers(cli, project, tmp_path):
    out = tmp_path / "exports"
    result = cli("export", "--db", project, "--layer", "nobody", "--out", out)
    assert result.exit_code == 1
    assert "no layer 'nobody' in this project; its layers are: suggestions, gold" in result.output
    assert "Nothing was published" in result.output
    assert not out.exists()  # not even the export's folder


def test_shares_must_add_up_to_100(cli, project, tmp_path):
    out = tmp_path / "exports"
    result = cli("export", "--db", project, "--split", "80/30/10", "--out", out)
    assert result.exit_code == 2
    assert "'80/30/10': the shares add up to 120; they must add up to 100" in result.output
    assert not out.exists()
    assert cli("export", "--db", project, "--split", "80/10/10", "--out", out).exit_code == 0


def manifest(out, name="suggestions", version="v1.0.0"):
    return json.loads((out / name / version / "manifest.json").read_text())


def test_one_version_holds_every_format_asked_for(cli, project, tmp_path):
    out = tmp_path / "exports"
    first = cli("export", "--db", project, "--out", out, "--split", "60/20/20")
    assert first.exit_code == 0 and "Wrote" in first.output and "v1.0.0 as jsonl" in first.output
    before = {p.name: p.read_bytes() for p in (out / "suggestions" / "v1.0.0").iterdir() if p.is_file()}
    for fmt in ("spacy", "conll"):
        added = cli("export", "--db", project, "--out", out, "--split", "60/20/20", "--format", fmt)
        assert added.exit_code == 0, added.output
        assert f"Added {fmt} to {out / 'suggestions' / 'v1.0.0'}" in added.output and "no new version" in added.output
    again = cli("export", "--db", project, "--out", out, "--split", "60/20/20", "--format", "spacy")
    assert "Unchanged since v1.0.0 (spacy is there already)" in again.output
    folder = out / "suggestions"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["latest", "v1.0.0"]
    version = folder / "v1.0.0"
    m = manifest(out)
    assert m["formats"] == ["jsonl", "spacy", "conll"] and m["format"] == "jsonl" and m["version"] == "1.0.0"
    for name in ("train.spacy", "dev.spacy", "test.spacy", "config.cfg", "train.conll", "data.jsonl"):
        assert (version / name).exists() and name in m["files"], name
    assert m["spacy"]["entities"] > 0 and m["conll"]
    for name, data in before.items():  # what was published is untouched, save the manifest
        if name != "manifest.json":
            assert (version / name).read_bytes() == data, name
    assert not any(p.stat().st_mode & 0o222 for p in version.iterdir())
    assert not [p for p in version.iterdir() if p.name.startswith(".")]
    assert os.readlink(folder / "latest") == "v1.0.0"
    assert json.loads((folder / "latest" / "manifest.json").read_text()) == m


def test_changed_data_makes_a_version_with_only_the_format_asked_for(cli, project, tmp_path):
    out = tmp_path / "exports"
    cli("export", "--db", project, "--out", out)
    cli("export", "--db", project, "--out", out, "--format", "spacy")
    src = tmp_path / "new.jsonl"
    src.write_text(json.dumps({"text": "Huawei shipped 10,000 Ascend 910C chips."}) + "\n")
    assert cli("import", "--no-prehighlight", "--db", project, src).exit_code == 0
    result = cli("export", "--db", project, "--out", out, "--format", "conll")
    assert "v1.1.0 as conll" in result.output and "1 added, 0 modified, 0 removed since v1.0.0" in result.output
    assert manifest(out, version="v1.1.0")["formats"] == ["conll"]
    assert os.readlink(out / "suggestions" / "latest") == "v1.1.0"


def test_a_crash_while_adding_a_format_leaves_the_version_as_it_was(seeded_app, tmp_path, monkeypatch):
    from annotator.db import get_db
    from annotator.export import publish
    from annotator.project import labels_of

    db, labels, out = get_db(seeded_app), labels_of(seeded_app), tmp_path / "exports"
    first = publish.export(db, labels, "suggestions", out_dir=out)
    real_replace = os.replace

    def cut(src, dst):
        if str(dst).endswith("manifest.json"):
            raise KeyboardInterrupt("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", cut)
    with pytest.raises(KeyboardInterrupt):
        publish.export(db, labels, "suggestions", out_dir=out, fmt="conll")
    assert manifest(out)["formats"] == ["jsonl"]  # the manifest still says what is there
    monkeypatch.setattr(publish.os, "replace", real_replace)
    added = publish.export(db, labels, "suggestions", out_dir=out, fmt="conll")
    assert added.added_format and added.path == first.path and added.manifest["formats"] == ["jsonl", "conll"]
    assert "data.conll" in added.manifest["files"]


# --- import ----------------------------------------------------------------------------------


def test_skip_invalid_with_nothing_to_read_fails(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    missing = cli("import", "--no-prehighlight", "--skip-invalid", "--db", url, tmp_path / "messy.jsonl")
    assert missing.exit_code == 1
    assert "error: " in missing.output and "messy.jsonl: no such file or directory" in missing.output
    assert "Nothing imported: no document could be read" in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": ""}\n{"nope": 1}\n')
    all_bad = cli("import", "--no-prehighlight", "--skip-invalid", "--db", url, bad)
    assert all_bad.exit_code == 1 and "Nothing imported" in all_bad.output
    report = json.loads(cli("import", "--no-prehighlight", "--skip-invalid", "--json", "--db", url, bad).output)
    assert report["nothing_read"] is True and report["new"] == 0
    assert documents(cli, url) == 0


def test_skip_invalid_still_keeps_good_records_and_exits_0(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    messy = tmp_path / "messy.jsonl"
    messy.write_text('{"text": "Alpha."}\n{"text": \n')
    result = cli("import", "--no-prehighlight", "--skip-invalid", "--db", url, messy)
    assert result.exit_code == 0 and f"rejected: {messy}:2" in result.output
    assert documents(cli, url) == 1


def test_a_folder_import_lists_what_it_skipped(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("Alpha text.")
    (corpus / "table.csv").write_text("a,b\n1,2\n")
    (corpus / "sub" / "README").write_text("read me")
    result = cli("import", "--no-prehighlight", "--db", url, corpus)
    assert result.exit_code == 0
    assert "Imported 1 new document from 1 file" in result.output
    assert "2 files skipped (1 .csv, 1 without an extension)" in result.output
    assert f"skipped: {corpus / 'table.csv'}: .csv is not a format read here" in result.output
    assert f"skipped: {corpus / 'sub' / 'README'}: no file extension" in result.output
    (corpus / "b.txt").write_text("Beta text.")
    report = orjson.loads(cli("import", "--no-prehighlight", "--json", "--db", url, corpus).output)
    assert report["new"] == 1 and [s["path"] for s in report["skipped_files"]] == [
        str(corpus / "sub" / "README"),
        str(corpus / "table.csv"),
    ]
    assert all(s["reason"] for s in report["skipped_files"])
    assert documents(cli, url) == 2
