"""The command line, driven in-process against real SQLite files and PostgreSQL."""

from __future__ import annotations

import importlib
import json
import shutil

import click
import orjson
import pytest

from annotator.cli import COMMANDS, main
from tests.conftest import SEEDS


@pytest.fixture
def project(tmp_path, seeded_template):
    """A copy of the seeded SQLite project, addressed by URL."""
    path = tmp_path / "seeded.sqlite3"
    shutil.copy(seeded_template, path)
    return f"sqlite:///{path}"


def test_help_for_every_command(cli):
    for command in ([], ["import"], ["export"], ["validate"], ["show"], ["stats"], ["serve"], ["db", "upgrade"]):
        result = cli(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_the_listed_short_help_is_each_commands_own():
    """`annotator --help` lists COMMANDS without importing them: the list must say what the
    commands say of themselves, and name every command there is."""
    for name, (module, attribute, short) in COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command) and command.name == name, name
        assert command.get_short_help_str(limit=200) == short, name
    listing = main.get_help(click.Context(main))
    assert all(f"{name}  " in listing or f"{name} " in listing for name in COMMANDS)


def test_db_upgrade_creates_and_reports(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    first = cli("db", "upgrade", "--db", url)
    assert first.exit_code == 0 and "was empty" in first.output
    again = cli("db", "upgrade", "--db", url)
    assert "already current" in again.output


def test_import_reimport_and_errors(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "Alpha."}\n{"text": "Beta."}\n')
    result = cli("import", "--no-prehighlight", "--db", url, good)
    assert result.exit_code == 0 and "Imported 2 new documents" in result.output
    assert "Nothing new" in cli("import", "--no-prehighlight", "--db", url, good).output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Gamma."}\n{"text": \n')
    result = cli("import", "--no-prehighlight", "--db", url, bad)
    assert result.exit_code == 1
    assert f"error: {bad}:2: malformed JSON" in result.output
    stats = json.loads(cli("stats", "--json", "--db", url).output)
    assert stats["documents"] == 2  # nothing from the refused file
    skipped = cli("import", "--no-prehighlight", "--skip-invalid", "--db", url, bad)
    assert skipped.exit_code == 0 and f"rejected: {bad}:2" in skipped.output
    assert json.loads(cli("stats", "--json", "--db", url).output)["documents"] == 3


def test_import_json_report(cli, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("Some text.")
    result = cli("import", "--no-prehighlight", "--json", "--db", f"sqlite:///{tmp_path / 'p.sqlite3'}", src)
    report = json.loads(result.output)
    assert report["new"] == 1 and report["problems"] == []


def test_show_json_is_the_exported_record(cli, project, tmp_path):
    out = tmp_path / "exports"
    assert cli("export", "--db", project, "--out", out).exit_code == 0
    exported = [
        orjson.loads(line) for line in (out / "suggestions" / "v1.0.0" / "data.jsonl").read_bytes().splitlines()
    ]
    for record in exported:
        shown = orjson.loads(cli("show", record["id"], "--json", "--db", project).output)
        assert shown == record
    missing = cli("show", "does-not-exist", "--db", project)
    assert missing.exit_code == 1 and "no document with id" in missing.output
    no_layer = cli("show", exported[0]["id"], "--layer", "nobody", "--db", project)
    assert no_layer.exit_code == 1 and "has no layer 'nobody'" in no_layer.output


def test_show_human_readable(cli, project):
    stats = json.loads(cli("stats", "--json", "--db", project).output)
    assert stats["documents"] == 5 and stats["languages"] == {"en": 4, "pt": 1}
    assert stats["layers"]["suggestions"]["labels"]["QUANTITY"] > 0
    text = cli("stats", "--db", project).output
    assert "Documents: 5" in text and "QUANTITY" in text


def test_export_twice_and_formats(cli, project, tmp_path):
    out = tmp_path / "exports"
    first = cli("export", "--db", project, "--out", out, "--name", "seeds")
    assert first.exit_code == 0 and "v1.0.0" in first.output
    again = cli("export", "--db", project, "--out", out, "--name", "seeds")
    assert "Unchanged since v1.0.0" in again.output and "Nothing in the project changed" in again.output
    as_json = json.loads(cli("export", "--db", project, "--out", out, "--name", "seeds", "--json").output)
    assert as_json["unchanged"] is True and as_json["built_records"] is False
    rebuilt = cli("export", "--db", project, "--out", out, "--name", "seeds", "--rebuild", "--json")
    assert rebuilt.exit_code == 0
    assert {k: json.loads(rebuilt.output)[k] for k in ("unchanged", "built_records", "version")} == {
        "unchanged": True,
        "built_records": True,
        "version": "v1.0.0",
    }
    bad = cli("export", "--db", project, "--out", out, "--split", "1/2")
    assert bad.exit_code == 1 and "Nothing was published" in bad.output


def test_validate_names_file_line_and_field(cli, project, tmp_path):
    out = tmp_path / "exports"
    cli("export", "--db", project, "--out", out)
    data = out / "suggestions" / "v1.0.0" / "data.jsonl"
    ok = cli("validate", data)
    assert ok.exit_code == 0 and "5 record(s) checked, 0 invalid" in ok.output
    lines = data.read_text().splitlines()
    broken = [orjson.loads(line) for line in lines]
    broken[1]["spans"][0]["label"] = 7
    broken[3]["spans"][0]["text"] = "not the text"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], json.dumps(broken[1]), "{oops", json.dumps(broken[3])]) + "\n")
    result = cli("validate", bad)
    assert result.exit_code == 1
    assert f"{bad}:2: $.spans[0].label: 7 is not of type 'string'" in result.output
    assert f"{bad}:3: malformed JSON" in result.output
    assert f"{bad}:4: $.spans[0].text" in result.output and "differs from the document text" in result.output
    report = json.loads(cli("validate", "--json", bad).output)
    assert report["valid"] is False and {p["line"] for p in report["problems"]} == {2, 3, 4}


def test_import_and_export_on_postgresql(cli, pg_url, tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text(
        json.dumps({"text": "Huawei 😀 makes chips.", "spans": [{"start": 0, "end": 6, "label": "ORG"}]}) + "\n"
    )
    assert cli("import", "--no-prehighlight", "--db", pg_url, src).exit_code == 0
    out = tmp_path / "exports"
    assert cli("export", "--db", pg_url, "--out", out).exit_code == 0
    [record] = [
        orjson.loads(line) for line in (out / "suggestions" / "v1.0.0" / "data.jsonl").read_bytes().splitlines()
    ]
    assert record["spans"][0]["text"] == "Huawei" and record["tokens"]
    shown = cli("show", "--db", pg_url, record["id"], "--layer", "suggestions", "--json")
    assert shown.exit_code == 0 and orjson.loads(shown.output) == record  # one document's rows, read by id


def test_seeds_path_exists():
    assert len(list(SEEDS.glob("*.txt"))) == 5
