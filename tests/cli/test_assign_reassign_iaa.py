"""`annotator assign`, `reassign` and `iaa` in the vocabulary of the other commands: --layer
takes a layer name, --json prints objects, rows name their documents, a repeatable --label,
and an example in each --help. Against a real SQLite project in tmp_path."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from annotator.cli import main
from annotator.cli.common import open_project
from annotator.models import Document, Layer, Span, utcnow
from tests.helpers import PASSWORD

RECORDS = [
    {"id": "a1", "text": "Nvidia makes the H100 with 80 GB of memory.", "lang": "en"},
    {"id": "b2", "text": "Huawei makes the Ascend 910B.", "lang": "en"},
    {"id": "c3", "text": "Intel makes the Gaudi 3 with 128 GB.", "lang": "en"},
]
ALL_TODO = dict.fromkeys(("a1", "b2", "c3"), ("todo", True))  # every document assigned, untouched


def write_jsonl(path, records):
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


@pytest.fixture
def team(cli, tmp_path):
    """Three documents and the annotators alice, bob and carol; returns {source id: (uid, title)}
    as `annotator documents` lists them."""
    assert cli("import", "--no-prehighlight", write_jsonl(tmp_path / "docs.jsonl", RECORDS)).exit_code == 0
    secret = tmp_path / "pw.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    for name in ("alice", "bob", "carol"):
        result = cli("users", "add", name, "--role", "annotator", "--password-file", secret)
        assert result.exit_code == 0, result.output
    listed = [orjson.loads(line) for line in cli("documents", "--json").stdout.splitlines()]
    return {d["source_id"]: (d["id"], d["title"]) for d in listed}


def age(name: str, days: float = 10) -> None:
    """Make `name`'s assignments look untouched for `days`."""
    with open_project(None, labels=False).db.writing() as session:
        session.execute(update(Layer).where(Layer.name == name).values(updated_at=utcnow() - timedelta(days=days)))


def stored(name: str) -> dict[str, tuple[str, bool]]:
    """{document source id: (status, assigned)} of the layer `name`."""
    with open_project(None, labels=False).db.reading() as session:
        rows = session.execute(
            select(Document.source_id, Layer.status, Layer.assigned_at)
            .join(Layer, Layer.document_id == Document.id)
            .where(Layer.name == name)
        ).all()
    return {source: (status, assigned is not None) for source, status, assigned in rows}


def layer_id(name: str, source_id: str) -> int:
    with open_project(None, labels=False).db.reading() as session:
        return session.execute(
            select(Layer.id)
            .join(Document, Document.id == Layer.document_id)
            .where(Layer.name == name, Document.source_id == source_id)
        ).scalar_one()


# --- assign ---------------------------------------------------------------------------------


def test_assign_json_is_an_object_a_script_reads_and_matches_what_is_stored(cli, team):
    result = cli("assign", "--annotators", "alice,bob", "-k", "2", "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report == {"documents": 3, "created": 6, "per_annotator": {"alice": 3, "bob": 3}}
    assert stored("alice") == stored("bob") == ALL_TODO
    again = cli("assign", "--annotators", "alice,bob", "-k", "2")
    assert again.exit_code == 0 and "0 assignment(s) over 3 document(s): alice 0, bob 0" in again.stdout


# --- reassign: listing ----------------------------------------------------------------------


def test_reassign_lists_no_fresh_assignment_as_stale(cli, team):
    assert cli("assign", "--annotators", "alice,bob", "-k", "2").exit_code == 0
    result = cli("reassign")
    assert result.exit_code == 0, result.output
    assert result.stdout == "No stale assignments (untouched for 7 days or more).\n"
    assert orjson.loads(cli("reassign", "--json").stdout) == []
    # every open one on request, but not called stale
    every = cli("reassign", "--stale-days", "0")
    assert every.exit_code == 0 and "stale" not in every.output.lower()
    assert every.stdout.startswith("Open assignments, untouched for 0 days or more:") and "6 open" in every.stderr


def test_reassign_rows_name_their_documents(cli, team):
    assert cli("assign", "--annotators", "alice,bob", "-k", "1").exit_code == 0
    age("alice")
    alice = sorted(stored("alice"))
    result = cli("reassign")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Stale assignments, untouched for 7 days or more:"
    assert len(lines) == 1 + len(alice) and all("alice" in line and "(10 d)" in line for line in lines[1:])
    for source in alice:
        uid, title = team[source]
        assert any(line.endswith(f"{uid}  {source}  {title}") for line in lines[1:]), lines
    assert f"{len(alice)} stale assignment(s)." in result.stderr

    rows = orjson.loads(cli("reassign", "--layer", "alice", "--json").stdout)
    assert sorted(r["source_id"] for r in rows) == alice
    assert {(r["layer"], r["status"], r["days_untouched"]) for r in rows} == {("alice", "todo", 10)}
    assert all((r["document"], r["title"]) == team[r["source_id"]] and r["layer_id"] for r in rows)
    assert orjson.loads(cli("reassign", "--layer", "bob", "--json").stdout) == []
    none = cli("reassign", "--layer", "bob")
    assert none.exit_code == 0 and "No stale assignments of bob (untouched for 7 days or more)." in none.stdout


# --- reassign: handing over -----------------------------------------------------------------


def test_reassign_hands_a_layer_over_by_name(cli, team):
    assert cli("assign", "--annotators", "alice", "-k", "1").exit_code == 0
    age("alice")
    with open_project(None, labels=False).db.writing() as session:  # alice worked on a1
        session.add(Span(layer_id=layer_id("alice", "a1"), start=0, end=6, label="ORG"))
    result = cli("reassign", "--layer", "alice", "--to", "carol")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Handed 3 assignment(s) from alice to carol:")
    (a1, a1_title), (b2, b2_title) = team["a1"], team["b2"]
    assert f"  {a1}  a1  {a1_title}  (alice's work stays in alice's layer, marked skipped)\n" in result.stdout
    assert f"  {b2}  b2  {b2_title}\n" in result.stdout
    assert stored("carol") == ALL_TODO
    assert stored("alice") == {"a1": ("skipped", False)}  # the empty ones moved, the worked one stays
    again = cli("reassign", "--layer", "carol", "--to", "bob")
    assert again.exit_code == 0 and "Nothing to hand over: carol has no assignments untouched for 7" in again.stdout


def test_reassign_json_reports_each_hand_over_and_what_could_not_go(cli, team):
    # bob already has a1, so a1 cannot go to him; b2 and c3 can
    assert cli("assign", "--annotators", "alice,bob", "-k", "2", "--documents", team["a1"][0]).exit_code == 0
    assert cli("assign", "--annotators", "alice", "-k", "1").exit_code == 0
    age("alice")
    result = cli("reassign", "--layer", "alice", "--to", "bob", "--json")
    assert result.exit_code == 1, result.output
    rows = {r["source_id"]: r for r in orjson.loads(result.stdout)}
    assert set(rows) == {"a1", "b2", "c3"}
    assert (rows["a1"]["handed"], rows["a1"]["error"]) == (False, "bob already has this document")
    assert all(rows[s]["handed"] and rows[s]["new_layer_id"] and rows[s]["to"] == "bob" for s in ("b2", "c3"))
    assert (rows["b2"]["document"], rows["b2"]["title"]) == team["b2"] and rows["b2"]["layer"] == "alice"
    assert stored("bob") == ALL_TODO
    assert stored("alice") == {"a1": ("todo", True)}


def test_reassign_errors_name_what_exists_and_change_nothing(cli, team):
    assert cli("assign", "--annotators", "alice,bob", "-k", "1").exit_code == 0
    age("alice")
    before = stored("alice"), stored("bob")
    unknown = cli("reassign", "--layer", "zed", "--to", "carol")
    assert unknown.exit_code == 1
    assert "no assignments in a layer 'zed'; the layers with assignments are: alice, bob" in unknown.output
    nobody = cli("reassign", "--layer", "alice", "--to", "zed")
    assert nobody.exit_code == 1 and "no such user(s): zed" in nobody.output
    alone = cli("reassign", "--to", "carol")
    assert alone.exit_code == 2 and "--to needs --layer NAME" in alone.output
    assert (stored("alice"), stored("bob")) == before and stored("carol") == {}


def test_reassign_still_takes_an_old_layer_id(cli, team):
    assert cli("assign", "--annotators", "alice", "-k", "1").exit_code == 0  # fresh: an id names it anyway
    result = cli("reassign", "--layer", layer_id("alice", "b2"), "--to", "carol")
    assert result.exit_code == 0, result.output
    assert "was read as a layer id" in result.stderr
    uid, title = team["b2"]
    assert result.stdout == f"Handed 1 assignment(s) from alice to carol:\n  {uid}  b2  {title}\n"
    assert stored("carol") == {"b2": ("todo", True)} and set(stored("alice")) == {"a1", "c3"}


# --- iaa --------------------------------------------------------------------------------------


@pytest.fixture
def two_annotators(cli, tmp_path):
    assert cli("import", "--no-prehighlight", write_jsonl(tmp_path / "docs.jsonl", RECORDS)).exit_code == 0
    spans = {
        "ann": {"a1": [(0, 6, "ORG"), (17, 21, "PRODUCT")], "b2": [(0, 6, "ORG")], "c3": [(0, 5, "ORG")]},
        "bob": {"a1": [(0, 6, "ORG"), (17, 21, "ORG")], "b2": [(0, 6, "ORG")], "c3": [(16, 23, "PRODUCT")]},
    }
    for name, docs in spans.items():
        records = [
            {**r, "spans": [{"start": s, "end": e, "label": label} for s, e, label in docs[r["id"]]]} for r in RECORDS
        ]
        result = cli(
            "import", "--no-prehighlight", "--layer", name, "--done", write_jsonl(tmp_path / f"{name}.jsonl", records)
        )
        assert result.exit_code == 0, result.output


def test_iaa_json_and_repeatable_label(cli, two_annotators):
    result = cli("iaa", "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["documents"] == 3 and report["annotators"] == ["ann", "bob"]
    assert result.stdout == cli("iaa", "--format", "json").stdout  # the old spelling, same output

    repeated = cli("iaa", "--label", "ORG", "--label", "PRODUCT", "--json")
    assert repeated.exit_code == 0, repeated.output
    assert set(orjson.loads(repeated.stdout)["labels"]) == {"ORG", "PRODUCT"}
    assert repeated.stdout == cli("iaa", "--label", "ORG,PRODUCT", "--json").stdout
    only = orjson.loads(cli("iaa", "--label", "ORG", "--json").stdout)
    assert only["labels"] == ["ORG"] and only != report

    old = cli("iaa", "--labels", "ORG", "--json")  # hidden, deprecated: still works, JSON kept clean
    assert old.exit_code == 0 and orjson.loads(old.output) == only
    noted = cli("iaa", "--labels", "ORG")
    assert noted.exit_code == 0 and "note: --labels is now --label" in noted.stderr
    assert "ann / bob" in noted.stdout

    clash = cli("iaa", "--json", "--format", "csv")
    assert clash.exit_code == 2 and "--json and --format csv cannot go together" in clash.output


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, example",
    [
        ("assign", "annotator assign --annotators alice,bob,carol -k 2 --order need"),
        ("reassign", "annotator reassign --layer alice --to bob"),
        ("iaa", "annotator iaa --label ORG --label PRODUCT --json"),
    ],
)
def test_help_has_an_example_and_whole_option_help(command, example):
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    examples = result.output.split("Example:", 1)[1].split("Options:", 1)[0]
    assert f"\n    {example}\n" in examples  # \b keeps the example lines as written
    assert "..." not in result.output
    options = result.output.split("Options:", 1)[1]
    assert "--labels" not in options and "json|" not in options  # the old spellings stay hidden
    if command == "reassign":
        assert "--layer NAME" in options and "[default: 7;" in options and "--json" in options
