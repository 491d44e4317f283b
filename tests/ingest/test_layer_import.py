"""`annotator import --layer`: our records and Prodigy JSONL into one person's layer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from annotator.annotate.links import add_relation, save_claim
from annotator.annotate.spans import add_span
from annotator.db import get_db
from annotator.ingest.pipeline import ImportRequestError, import_paths
from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, User, document_uid
from annotator.project import labels_of
from tests.interchange import (
    LABELS,
    TEXT,
    annotations,
    at,
    count,
    our_record,
    records,
    run_export,
    run_import,
    write_jsonl,
)

# --- round trips ------------------------------------------------------------------------------


def test_round_trip_of_a_layer_made_by_hand(xapp, tmp_path):
    """Annotate by hand, export, import into another person's layer, export again: same annotations."""
    app, labels = xapp, labels_of(xapp)
    text = "Sophgo's SC11 FP300 😀 has 256 GB\r\nof memory, about 1.1 TB/s."
    import_paths(get_db(app), [str(write_jsonl(tmp_path / "doc.jsonl", [{"text": text}]))], labels, None)
    with get_db(app).writing() as session:
        doc = session.exec(select(Document)).scalars().one()
        spans = {}
        for i, (part, label) in enumerate(
            [
                ("Sophgo", "ORG"),
                ("SC11 FP300", "PRODUCT"),
                ("256 GB", "QUANTITY"),
                ("memory", "PROPERTY"),
                ("about 1.1 TB/s", "QUANTITY"),
            ]
        ):
            spans[part] = add_span(session, labels, doc, "alice", "alice", i, *at(text, part), label).ids[0]
        add_relation(session, labels, doc, "alice", "alice", 5, spans["Sophgo"], spans["SC11 FP300"], "MAKES")
        save_claim(
            session,
            labels,
            doc,
            "alice",
            "alice",
            6,
            {
                "quantity_id": spans["256 GB"],
                "entity_id": spans["SC11 FP300"],
                "property_id": spans["memory"],
                "modifiers": ["IsCount"],
                "value": 256,
                "unit": "GB",
            },
        )
        save_claim(
            session,
            labels,
            doc,
            "alice",
            "alice",
            7,
            {"quantity_id": spans["about 1.1 TB/s"], "property_text": "bandwidth", "unit": "TB/s", "value": "1.1"},
        )
    exported = run_export(app, tmp_path, "alice")
    first = records(exported)
    report = run_import(app, [exported.path / "data.jsonl"], layer="bob")
    assert report.ok, report.problems
    assert (report.stored.layers, report.stored.new_documents) == (1, 0)  # matched by text
    second = records(run_export(app, tmp_path, "bob"))
    assert [annotations(r) for r in second] == [annotations(r) for r in first]
    assert second[0]["layer"] == "bob" and second[0]["annotators"] == ["bob"]
    assert {s["origin"] for s in second[0]["spans"]} == {"import"}


def test_records_with_claims_and_meta_round_trip(xapp, tmp_path):
    app = xapp
    path = write_jsonl(tmp_path / "a.jsonl", [our_record()])
    report = run_import(app, [path])
    assert report.ok, report.problems
    assert (report.stored.spans, report.stored.relations, report.stored.claims) == (4, 1, 1)
    exported = run_export(app, tmp_path, "alice")
    first = records(exported)
    [record] = first
    assert record["text"] == TEXT  # CRLF and the emoji kept, offsets in code points
    assert record["spans"][1]["meta"] == {"note": "chip"}
    assert record["claims"][0]["property"] == {"span": "s4"} and record["claims"][0]["modifiers"] == ["IsApproximate"]
    assert run_import(app, [exported.path / "data.jsonl"], layer="carol").ok
    assert [annotations(r) for r in records(run_export(app, tmp_path, "carol"))] == [annotations(r) for r in first]


def test_layer_rows_and_audit_events(xapp, tmp_path):
    app = xapp
    with get_db(app).writing() as session:
        session.add(User(name="alice"))
    other = "Nvidia sells the H800."
    run_import(
        app,
        [
            write_jsonl(
                tmp_path / "a.jsonl", [our_record(), {"text": other, "spans": [{"start": 0, "end": 6, "label": "ORG"}]}]
            )
        ],
    )
    with get_db(app).reading() as session:
        layers = session.exec(select(Layer)).scalars().all()
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        user_id = session.exec(select(User.id)).scalar_one()
    assert [(layer.name, layer.kind, layer.status, layer.version, layer.user_id) for layer in layers] == [
        ("alice", "annotator", "in_progress", 1, user_id)
    ] * 2
    assert [(e.action, e.user, e.state) for e in events] == [("import_layer", "alice", None)] * 2
    assert events[0].after["spans"] == 4 and events[0].after["format"] == "jsonl" and events[0].before is None
    assert count(app, Span, origin="import") == 5


# --- Prodigy ----------------------------------------------------------------------------------


def test_prodigy_spans_and_relations(xapp, tmp_path):
    app = xapp
    text = "Nvidia makes the H100, which has 80 GB of memory."
    org, chip, qty = at(text, "Nvidia"), at(text, "H100"), at(text, "80 GB")
    task = {
        "text": text,
        "_input_hash": 1,
        "_task_hash": 2,
        "answer": "accept",
        "tokens": [{"text": "Nvidia", "start": 0, "end": 6, "id": 0}],
        "spans": [
            {"start": org[0], "end": org[1], "label": "ORG", "token_start": 0, "token_end": 0},
            {"start": qty[0], "end": qty[1], "label": "QUANTITY"},
        ],
        "relations": [
            {
                "head": 0,
                "child": 3,
                "label": "MAKES",
                "head_span": {"start": org[0], "end": org[1], "label": "ORG"},
                "child_span": {"start": chip[0], "end": chip[1], "label": "PRODUCT"},
            }
        ],
    }
    rejected = {"text": "Something else entirely.", "answer": "reject", "spans": []}
    report = run_import(app, [write_jsonl(tmp_path / "prodigy.jsonl", [task, rejected])], layer="dana")
    assert report.ok, report.problems
    assert report.skipped == 1 and report.stored.layers == 1
    [record] = records(run_export(app, tmp_path, "dana"))
    assert [(s["text"], s["label"]) for s in record["spans"]] == [
        ("Nvidia", "ORG"),
        ("H100", "PRODUCT"),
        ("80 GB", "QUANTITY"),
    ]
    assert record["spans"][2]["value"] == 80 and record["spans"][2]["unit"] == "GB"  # parsed by our normaliser
    assert record["relations"] == [{"id": "r1", "head": "s1", "child": "s2", "label": "MAKES"}]


BAD = [
    ("{broken", "malformed JSON"),
    ({"text": "Huawei", "meta": {"note": "a\u0000b"}}, "NUL character"),
    ({"text": "abc", "spans": [{"start": 1, "end": 9, "label": "ORG"}]}, "out of range"),
    ({"text": "Huawei", "spans": [{"start": 0, "end": 6, "label": "ORG", "text": "Huawe"}]}, "does not match"),
    (
        {
            "text": "Huawei Nvidia",
            "spans": [{"id": "s1", "start": 0, "end": 6, "label": "ORG"}],
            "relations": [{"head": "s1", "child": "s9", "label": "PARTNERS_WITH"}],
        },
        "no span has id 's9'",
    ),
    (
        {
            "text": "Huawei H100",
            "spans": [
                {"id": "s1", "start": 0, "end": 6, "label": "ORG"},
                {"id": "s2", "start": 7, "end": 11, "label": "PRODUCT"},
            ],
            "relations": [{"head": "s2", "child": "s1", "label": "MAKES"}],
        },
        "not allowed from PRODUCT to ORG",
    ),
    (
        {
            "text": "Huawei",
            "spans": [{"id": "s1", "start": 0, "end": 6, "label": "ORG"}],
            "claims": [{"quantity": "s1", "entity": None, "property": None, "condition": None, "modifiers": []}],
        },
        "must be a QUANTITY span",
    ),
    (
        {
            "text": "5 GB",
            "spans": [
                {
                    "id": "s1",
                    "start": 0,
                    "end": 4,
                    "label": "QUANTITY",
                    "value": 5,
                    "unit": "GB",
                    "qualifier": "roughly",
                }
            ],
        },
        "unknown qualifier",
    ),
    (
        {
            "text": "5 GB",
            "spans": [{"id": "s1", "start": 0, "end": 4, "label": "QUANTITY"}],
            "claims": [{"quantity": "s1", "modifiers": ["IsVague"]}],
        },
        "unknown modifiers",
    ),
]


@pytest.mark.parametrize("bad,message", BAD)
def test_a_bad_record_refuses_the_whole_file(sqlite_xapp, tmp_path, bad, message):
    app = sqlite_xapp
    path = write_jsonl(tmp_path / "mixed.jsonl", [our_record(), bad])
    report = run_import(app, [path])
    assert not report.ok and report.refused_files == [str(path)]
    assert any(str(p).startswith(f"{path}:2:") and message in str(p) for p in report.problems), report.problems
    assert (count(app, Document), count(app, Layer), count(app, Span)) == (0, 0, 0)


def test_unknown_labels_are_listed_at_once_and_nothing_is_stored(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    a = write_jsonl(
        tmp_path / "a.jsonl", [{"text": "Acme ships X1.", "spans": [{"start": 0, "end": 4, "label": "COMPANY"}]}]
    )
    b = write_jsonl(
        tmp_path / "b.jsonl",
        [
            our_record(),
            {
                "text": "Acme and Bolt.",
                "spans": [
                    {"id": "a", "start": 0, "end": 4, "label": "COMPANY"},
                    {"id": "b", "start": 9, "end": 13, "label": "FIRM"},
                ],
                "relations": [{"head": "a", "child": "b", "label": "RIVALS"}],
            },
        ],
    )
    report = run_import(app, [a, b])
    messages = [str(p) for p in report.problems]
    assert len(messages) == 3 and "unknown entity type 'COMPANY', 2 times" in messages[0]
    assert "'FIRM'" in messages[1] and "relation type 'RIVALS'" in messages[2]
    assert count(app, Document) == count(app, Layer) == 0
    mapping = tmp_path / "map.json"
    mapping.write_text('{"entities": {"COMPANY": "ORG", "FIRM": "ORG"}, "relations": {"RIVALS": "COMPETES_WITH"}}')
    report = run_import(app, [a, b], label_map=mapping)
    assert report.ok, report.problems
    assert count(app, Relation, label="COMPETES_WITH") == 1 and count(app, Span, label="ORG") == 4


# --- documents and existing layers --------------------------------------------------------------


def test_existing_annotations_are_refused_unless_replace(xapp, tmp_path):
    app = xapp
    first = write_jsonl(tmp_path / "first.jsonl", [our_record()])
    assert run_import(app, [first]).ok
    again = run_import(app, [first])
    assert again.ok and again.stored.unchanged == 1 and again.stored.layers == 0  # the same: nothing to do
    changed = our_record()
    changed["spans"][0]["label"] = "GPE"
    changed["relations"] = []
    second = write_jsonl(tmp_path / "second.jsonl", [changed])
    refused = run_import(app, [second])
    assert not refused.ok and "already has annotations in layer 'alice'" in str(refused.problems[0])
    assert "--replace" in str(refused.problems[0]) and str(refused.problems[0]).startswith(f"{second}:1:")
    assert count(app, Span, label="GPE") == 0
    replaced = run_import(app, [second], replace=True)
    assert replaced.ok and replaced.stored.replaced == 1
    assert count(app, Span, label="GPE") == 1 and count(app, Relation) == 0 and count(app, Claim) == 1
    with get_db(app).reading() as session:
        layer = session.exec(select(Layer)).scalars().one()
        event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    assert layer.version == 2
    assert event.after["replaced"] is True
    assert [s["label"] for s in event.before["spans"]] == ["ORG", "PRODUCT", "QUANTITY", "PROPERTY"]  # kept, not lost
    assert event.before["relations"][0]["label"] == "MAKES"


def test_replace_ends_the_undo_history_of_the_layer(sqlite_xapp, tmp_path):
    app, labels = sqlite_xapp, labels_of(sqlite_xapp)
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": TEXT}])
    import_paths(get_db(app), [str(path)], labels, None)
    with get_db(app).writing() as session:
        doc = session.exec(select(Document)).scalars().one()
        add_span(session, labels, doc, "alice", "alice", 0, 0, 6, "ORG")
    assert run_import(app, [write_jsonl(tmp_path / "b.jsonl", [our_record()])], replace=True).ok
    with get_db(app).reading() as session:
        states = session.exec(select(AuditEvent.action, AuditEvent.state).order_by(AuditEvent.id)).all()
    assert states == [("add_span", "discarded"), ("import_layer", None)]


def test_gold_and_reserved_layer_names(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    path = write_jsonl(tmp_path / "a.jsonl", [our_record()])
    with pytest.raises(ImportRequestError, match="reserved"):
        run_import(app, [path], layer="suggestions")
    assert run_import(app, [path], layer="gold").ok
    with get_db(app).reading() as session:
        layer = session.exec(select(Layer)).scalars().one()
        event = session.exec(select(AuditEvent)).scalars().one()
    assert (layer.name, layer.kind, event.user) == ("gold", "gold", "cli")


def test_documents_matched_by_text_and_foreign_ids(sqlite_xapp, tmp_path):
    app, labels = sqlite_xapp, labels_of(sqlite_xapp)
    import_paths(
        get_db(app),
        [str(write_jsonl(tmp_path / "docs.jsonl", [{"text": TEXT}, {"text": "Other text."}]))],
        labels,
        None,
    )
    record = our_record(id="ext-7")  # a foreign id: the text decides
    assert run_import(app, [write_jsonl(tmp_path / "a.jsonl", [record])]).stored.new_documents == 0
    clash = {"id": document_uid("Other text."), "text": "Different text.", "spans": []}
    report = run_import(app, [write_jsonl(tmp_path / "b.jsonl", [clash])], layer="bob")
    assert not report.ok and "a document of the project with a different text" in str(report.problems[0])
    assert count(app, Document) == 2 and count(app, Layer, name="bob") == 0


# --- the command --------------------------------------------------------------------------------


def test_cli_import_layer(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(LABELS))
    path = write_jsonl(tmp_path / "a.jsonl", [our_record()])
    result = cli("import", "--layer", "alice", "--no-prehighlight", "--json", path)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["layers"], out["spans"], out["claims"], out["new_documents"]) == (1, 4, 1, 1)
    changed = write_jsonl(tmp_path / "b.jsonl", [{**our_record(), "relations": []}])
    result = cli("import", "--layer", "alice", "--no-prehighlight", changed)
    assert result.exit_code == 1 and "use --replace" in result.output
    result = cli("import", "--layer", "alice", "--replace", "--no-prehighlight", changed)
    assert result.exit_code == 0 and "1 replaced" in result.output
    assert cli("import", "--replace", changed).exit_code == 2  # needs --layer
    result = cli("import", "--layer", "suggestions", path)
    assert result.exit_code == 1 and "reserved" in result.output


def test_new_documents_are_prehighlighted_like_any_import(sqlite_xapp, tmp_path, prehighlighter):
    app = sqlite_xapp
    report = run_import(app, [write_jsonl(tmp_path / "a.jsonl", [our_record()])], prehighlighter=prehighlighter)
    assert report.ok and report.stored.new_documents == 1 and report.stored.suggestions > 0
    with get_db(app).reading() as session:
        doc = session.exec(select(Document)).scalars().one()
    assert doc.tokens is not None and doc.pipeline and doc.n_suggestions == report.stored.suggestions
