"""What every command does alike: an example in its --help that parses, whole sentences in
group listings, --quiet and --verbose, and Ctrl+C answered with one line and exit code 130
(here for suggest and export, real processes and signals; import has its own file)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import time

import click
import pytest
from click.testing import CliRunner

from annotator.cli import COMMANDS, main
from tests.cli.test_interrupt import (
    ANNOTATOR,
    STOP_WITHIN,
    environment,
    group_members,
)
from tests.ingest.test_importing import write_jsonl


def every_command():
    """(path of names, command) for each command and subcommand."""
    ctx = click.Context(main)
    for name in sorted(COMMANDS):
        command = main.get_command(ctx, name)
        yield (name,), command
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                yield (name, sub), command.commands[sub]


COMMAND_PATHS = [" ".join(path) for path, _ in every_command()]


@pytest.mark.parametrize("path", COMMAND_PATHS)
def test_every_help_has_an_example_that_parses(path):
    result = CliRunner().invoke(main, [*path.split(), "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output, f"annotator {path} --help shows no example"
    examples = result.output.split("Example:", 1)[1].split("Options:", 1)[0]
    lines = [line.strip() for line in examples.splitlines() if line.strip().startswith("annotator ")]
    assert lines, result.output
    for line in lines:
        words = shlex.split(line)[1:]
        # parse the example as the command would, without running it: options and
        # arguments must exist and fit
        command, ctx = main, click.Context(main, info_name="annotator")
        while isinstance(command, click.Group) and words and words[0] in command.list_commands(ctx):
            command, ctx = command.get_command(ctx, words[0]), click.Context(command, parent=ctx, info_name=words[0])
            words = words[1:]
        try:
            command.make_context(ctx.info_name, list(words), parent=ctx.parent)
        except click.BadParameter as exc:  # an example's folder need not exist here
            assert "does not exist" in str(exc), (line, exc)


@pytest.mark.parametrize("path", [p for p, (_, c) in zip(COMMAND_PATHS, every_command()) if isinstance(c, click.Group)])
def test_group_listings_give_each_first_sentence_whole(path):
    result = CliRunner().invoke(main, [*path.split(), "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    listing = result.output.split("Commands:", 1)[1]
    assert "..." not in listing, listing


def test_top_level_listing_is_whole_too():
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert "..." not in result.output.split("Commands:", 1)[1]


def test_quiet_keeps_the_result_and_drops_notes_verbose_says_more(cli, tmp_path, monkeypatch):
    # a label scheme the gazetteer does not fit: a warning a person would see
    config = {"entities": [{"label": "Amount"}, {"label": "PRODUCT"}], "claims": {"quantity": "Amount"}}
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(labels))
    records = [{"id": f"d{i}", "text": f"Nvidia sold {i + 2} H100 cards."} for i in range(3)]

    quiet = cli("import", write_jsonl(tmp_path / "a.jsonl", records[:1]), "--quiet")
    assert quiet.exit_code == 0, quiet.output
    assert "warning:" not in quiet.output
    assert "Imported 1 new document" in quiet.output

    normal = cli("import", write_jsonl(tmp_path / "b.jsonl", records[1:2]))
    assert "warning:" in normal.output

    verbose = cli("import", write_jsonl(tmp_path / "c.jsonl", records[2:]), "-v")
    assert verbose.exit_code == 0, verbose.output
    assert "database: sqlite" in verbose.output and "pre-highlighting: spaCy" in verbose.output
    assert "Imported 1 new document" in verbose.output

    both = cli("import", write_jsonl(tmp_path / "d.jsonl", records[:1]), "-q", "-v")
    assert both.exit_code == 2
    assert "--quiet and --verbose cannot go together" in both.output
    assert json.loads(cli("stats", "--json").output)["documents"] == 3


def test_the_old_labels_option_of_import_still_reads_a_label_map(cli, tmp_path):
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "a.txt").write_text("Nvidia makes the H100.", encoding="utf-8")
    (brat / "a.ann").write_text("T1\tCompany 0 6\tNvidia\n", encoding="utf-8")
    label_map = tmp_path / "map.json"
    label_map.write_text(json.dumps({"entities": {"Company": "ORG"}}), encoding="utf-8")
    for option, layer in (("--label-map", "alice"), ("--labels", "bob")):
        result = cli("import", "--layer", layer, "--format", "brat", option, str(label_map), str(brat))
        assert result.exit_code == 0, result.output
        listed = [json.loads(line) for line in cli("documents", "--json").output.splitlines()]
        assert len(listed) == 1, listed
        record = json.loads(cli("show", listed[0]["id"], "--layer", layer, "--json").output)
        assert [(s["label"], s["text"]) for s in record["spans"]] == [("ORG", "Nvidia")]
    assert "--labels is now --label-map" in result.output


# --- Ctrl+C, real processes ------------------------------------------------------------


def suggestion_documents(instance) -> int:
    with sqlite3.connect(f"file:{instance / 'annotator.sqlite3'}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute("SELECT count(DISTINCT document_id) FROM suggestion").fetchone()[0]


def interrupt(args, env, ready, deadline_s=240):
    """Run `annotator ARGS`, and once `ready()`, Ctrl+C to its process group. The group is
    stopped while the signal is sent, so it lands where `ready` saw the work, not after."""
    process = subprocess.Popen(
        [ANNOTATOR, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + deadline_s
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the command never got going"
        if ready():
            os.killpg(process.pid, signal.SIGSTOP)
            if ready():  # still where it was seen, now frozen there
                break
            os.killpg(process.pid, signal.SIGCONT)
        time.sleep(0.01)
    workers = [pid for pid in group_members(process.pid) if pid != process.pid]
    os.killpg(process.pid, signal.SIGINT)
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGCONT)
    out, err = process.communicate(timeout=120)
    return process, out, err, time.monotonic() - sent, workers


def test_ctrl_c_stops_suggest_keeping_whole_batches(plain_project):
    instance = plain_project
    process, out, err, took, workers = interrupt(
        ["suggest", "--documents", "all"],
        environment(instance, processes=2),
        lambda: suggestion_documents(instance) > 0,
    )
    assert process.returncode == 130, (out, err)
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert workers, "suggest should have run in worker processes"
    assert group_members(process.pid) == []
    kept = suggestion_documents(instance)
    assert 0 < kept < 2000
    assert f"Interrupted: suggested again for {kept} of 2000 documents" in err, err


@pytest.fixture(scope="module")
def large_project(tmp_path_factory):
    """20,000 short documents: an export of them takes seconds, long enough to interrupt."""
    root = tmp_path_factory.mktemp("large")
    records = [{"id": f"r{i}", "text": f"Report {i}: the card carries {i + 1} GB of memory."} for i in range(20000)]
    instance = root / "instance"
    done = subprocess.run(
        [ANNOTATOR, "import", write_jsonl(root / "big.jsonl", records), "--no-prehighlight", "--quiet"],
        env=environment(instance, processes=1),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return instance


def test_ctrl_c_during_export_publishes_nothing(large_project):
    instance = large_project
    folder = instance.parent / "exports" / "suggestions"
    process, out, err, took, _ = interrupt(
        ["export", "--out", str(folder.parent)],
        environment(instance, processes=1),
        # the version is being written, not yet renamed into place
        lambda: folder.exists() and any(folder.glob(".tmp-*")) and not (folder / "v1.0.0").exists(),
    )
    assert process.returncode == 130, (out, err)
    assert took < STOP_WITHIN
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "Interrupted: nothing was published." in err
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".lock")) == [], list(folder.iterdir())
    # and a run to the end publishes the version the interrupted one did not
    done = subprocess.run(
        [ANNOTATOR, "export", "--out", str(folder.parent), "--json"],
        env=environment(instance, processes=1),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert manifest["version"] == "v1.0.0" and manifest["manifest"]["documents"] == 20000
