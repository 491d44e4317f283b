"""Every importer fed generated files, valid and broken: it never raises, never needs the
reader safety net (formats/files.READER_BUG), and a file it refuses leaves the database as
it was (refused means refused whole). Short enough for `make test` (FUZZ_EXAMPLES=60 per
target); `make fuzz` runs 25,000 per target and writes the figures (inputs, tracebacks,
reader failures, partial writes, hangs) to benchmarks/results/fuzz.json."""

from __future__ import annotations

import json
import os
import shutil
import string
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.formats.files import READER_BUG
from annotator.ingest.pipeline import import_layer, import_paths
from annotator.models import Claim, Document, Layer, Relation, Span, Suggestion
from annotator.project import labels_of
from tests.conftest import INTERCHANGE_LABELS, make_test_app

TABLES = (Document, Layer, Span, Relation, Claim, Suggestion)
EXAMPLES = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TEXTS = ["Nvidia sold 50,000 H100 chips in 2023.", "Huawei 😀 makes the\r\nAscend 910C.", "٣ kg", " "]
# JSON values of every kind, including the ones readers must refuse rather than trip on
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.printable + "\x00١😀é", max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
LABELS = ["ORG", "PRODUCT", "QUANTITY", "ENTITY", "PROPERTY", "CONDITION", "NOPE", ""]
RELATIONS = ["MAKES", "HAS_QUANTITY", "HAS_PROPERTY", "QUALIFIES", "NOPE"]


def field_value(good):
    """Mostly a plausible value, sometimes anything at all."""
    # Hypothesis leans to the simplest choice (0, False): the junk branch is not that one
    return st.integers(0, 9).flatmap(lambda k: json_values if k == 7 else good)


span_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": field_value(st.integers(0, 4)),
        "start": field_value(st.integers(-2, 45)),
        "end": field_value(st.integers(-2, 45)),
        "label": field_value(st.sampled_from(LABELS)),
        "text": field_value(st.sampled_from(["Nvidia", "50,000", ""])),
        "value": json_values,
        "unit": json_values,
        "qualifier": field_value(st.sampled_from(["approx", "up_to", "around"])),
        "meta": json_values,
    },
)
relation_objects = st.fixed_dictionaries(
    {},
    optional={
        "head": field_value(st.integers(0, 4)),
        "child": field_value(st.integers(0, 4)),
        "label": field_value(st.sampled_from(RELATIONS)),
        "head_span": json_values,
        "meta": json_values,
    },
)
claim_objects = st.fixed_dictionaries(
    {},
    optional={
        "quantity": field_value(st.integers(0, 4)),
        "entity": field_value(st.integers(0, 4)),
        "property": field_value(
            st.one_of(st.just({"text": "memory"}), st.builds(lambda i: {"span": i}, st.integers(0, 4)))
        ),
        "condition": json_values,
        "modifiers": field_value(st.lists(st.sampled_from(["IsCount", "IsRange", "Nope"]), max_size=2)),
    },
)


@st.composite
def records(draw) -> dict:
    """A record that is mostly well made (spans on the text, relations and claims between
    them), with a broken field now and then: so the checks, the merge and the store all run."""
    text = draw(field_value(st.sampled_from(TEXTS)))
    record = {"text": text}
    spans = []
    for i in range(draw(st.integers(0, 4))):
        if not isinstance(text, str) or not text or draw(st.integers(0, 9)) == 7:
            spans.append(draw(span_objects))
            continue
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        span = {"id": i, "start": start, "end": end, "label": draw(st.sampled_from(LABELS[:6]))}
        if draw(st.booleans()):
            span["text"] = text[start:end]
        if span["label"] == "QUANTITY" and draw(st.booleans()):
            span |= {
                "value": draw(st.floats(-1e6, 1e6)),
                "unit": draw(st.sampled_from(["kg", None])),
                "qualifier": None,
            }
        spans.append(span)
    record["spans"] = spans
    record["relations"] = draw(
        st.lists(
            st.one_of(
                *[
                    st.builds(
                        lambda h, c, label: {"head": h, "child": c, "label": label},
                        st.integers(0, 3),
                        st.integers(0, 3),
                        st.sampled_from(RELATIONS),
                    )
                ]
                * 5,
                relation_objects,
            ),
            max_size=2,
        )
    )
    record["claims"] = draw(
        st.lists(
            st.one_of(
                *[
                    st.builds(
                        lambda q, e: {"quantity": q, "entity": e}, st.integers(0, 3), st.none() | st.integers(0, 3)
                    )
                ]
                * 5,
                claim_objects,
            ),
            max_size=2,
        )
    )
    if draw(st.integers(0, 3)) == 3:  # now and then a top-level field of any kind
        key = draw(st.sampled_from(["id", "lang", "meta", "layer_meta", "answer"]))
        record[key] = draw(field_value(st.sampled_from({"id": ["a1", "h-emoji"], "lang": ["en", "pt"]}.get(key, [{}]))))
    return record


raw_lines = st.one_of(
    *[records().map(lambda r: json.dumps(r, ensure_ascii=False, allow_nan=True).encode("utf-8"))] * 8,
    records().map(lambda r: json.dumps(r, ensure_ascii=False, allow_nan=True).encode("utf-8")),
    st.binary(max_size=40),
    st.just(b'{"text": "a\\u0000b"}'),
    st.just(b"[1, 2]"),
)


HANG_SECONDS = 10.0  # one small file taking longer than this counts as a hang
FIGURES = {"inputs": 0, "tracebacks": 0, "reader_failures": 0, "partial_writes": 0, "hangs": 0, "stored": 0}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    app = make_test_app(tmp_path_factory.mktemp("fuzz"), LABELS_FILE=str(INTERCHANGE_LABELS))
    started = time.perf_counter()
    yield app
    get_db(app).dispose()
    report = os.environ.get("FUZZ_REPORT")  # `make fuzz`: the figures as JSON
    if report:
        figures = {
            **FIGURES,
            "seconds": round(time.perf_counter() - started, 1),
            "examples_per_target": EXAMPLES.max_examples,
        }
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        Path(report).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def counts(app) -> dict:
    with get_db(app).reading() as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


def held_to_the_rules(app, folder: Path, run) -> None:
    """Import `folder` with `run`; no exception, no reader failure, and a refused file (here
    every file of an example is one unit) changes nothing."""
    before, started = counts(app), time.perf_counter()
    FIGURES["inputs"] += 1
    try:
        report = run([str(folder)])
    except Exception:
        FIGURES["tracebacks"] += 1
        raise
    hung = time.perf_counter() - started > HANG_SECONDS
    FIGURES["hangs"] += hung
    failed = [p for p in report.problems if READER_BUG in str(p)]
    FIGURES["reader_failures"] += bool(failed)
    changed = counts(app) != before
    partial = bool(report.refused_files) and not report.documents and changed
    FIGURES["partial_writes"] += partial
    FIGURES["stored"] += changed and not partial
    assert not failed, failed
    assert not partial, report.problems
    assert not hung, f"{time.perf_counter() - started:.1f} s for one small file"


def fresh(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@EXAMPLES
@given(lines=st.lists(raw_lines, min_size=1, max_size=4), layer=st.booleans())
def test_jsonl_records_and_layers(project, tmp_path, lines, layer):
    folder = fresh(tmp_path, "jsonl")
    (folder / "data.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    labels = labels_of(project)
    if layer:
        held_to_the_rules(project, folder, lambda paths: import_layer(get_db(project), paths, labels, "fuzz"))
    else:
        held_to_the_rules(project, folder, lambda paths: import_paths(get_db(project), paths, labels, None))


@EXAMPLES
@given(content=st.binary(max_size=60), suffix=st.sampled_from([".txt", ".md"]))
def test_plain_documents(project, tmp_path, content, suffix):
    folder = fresh(tmp_path, "plain")
    (folder / f"doc{suffix}").write_bytes(content)
    held_to_the_rules(project, folder, lambda paths: import_paths(get_db(project), paths, labels_of(project), None))


BRAT_TEXT = "Huawei makes the Ascend 910C with 64 GB.\r\nNvidia 😀 too."
offsets = st.integers(-1, 60).map(str) | st.sampled_from(["0 6;7 12", "x", "3 ١", "9223372036854775808 1"])
brat_lines = st.one_of(
    st.builds(
        lambda i, label, a, b, text: f"T{i}\t{label} {a} {b}\t{text}",
        st.integers(0, 5),
        st.sampled_from(["ORG", "PRODUCT", "QUANTITY", "Quantity", "MeasuredEntity", "NOPE"]),
        offsets,
        offsets,
        st.sampled_from(["Huawei", "Ascend 910C", "64 GB", "", "x\ty"]),
    ),
    st.builds(
        lambda i, label, a, b: f"R{i}\t{label} Arg1:T{a} Arg2:T{b}" + ("\t" if i % 2 else ""),
        st.integers(0, 3),
        st.sampled_from(RELATIONS + ["HasQuantity", "Qualifies"]),
        st.integers(0, 5),
        st.integers(0, 5),
    ),
    st.builds(
        lambda i, name, target, value: f"A{i}\t{name} {target}{value}",
        st.integers(0, 3),
        st.sampled_from(["IsCount", "QuantityQualifier", "Certainty"]),
        st.sampled_from(["T1", "T2", "R1", "X9", ""]),
        st.sampled_from(["", " IsRange", " High", " a b"]),
    ),
    st.builds(lambda i, t: f"#{i}\tAnnotatorNotes {t}\tnote", st.integers(0, 3), st.sampled_from(["T1", "R1", "Q"])),
    st.text(alphabet=string.printable + "\x00😀", max_size=20),
)


@EXAMPLES
@given(
    sets=st.lists(st.lists(brat_lines, max_size=6), min_size=1, max_size=2),
    text=st.sampled_from([BRAT_TEXT, "", "\ufeffHuawei"]),
    split=st.booleans(),
)
def test_brat_folders(project, tmp_path, sets, text, split):
    folder = fresh(tmp_path, "brat")
    for n, lines in enumerate(sets):
        (folder / f"doc-{n}.txt").write_text(text, encoding="utf-8", newline="")
        (folder / f"doc-{n}.ann").write_text("\n".join(lines), encoding="utf-8", newline="")
    labels = labels_of(project)
    held_to_the_rules(
        project,
        folder,
        lambda paths: import_layer(get_db(project), paths, labels, "fuzz", "brat", split_discontinuous=split),
    )


MEASEVAL_TEXT = "The soils held about 12 mg per kg of nitrate."
HEADER = "docId\tannotSet\tannotType\tstartOffset\tendOffset\tannotId\ttext\tother"
measeval_rows = st.builds(
    lambda doc, aset, kind, a, b, aid, text, other: "\t".join([doc, aset, kind, a, b, aid, text, other]),
    st.sampled_from(["D1", "D1", "../D1", "D 2", ""]),
    st.sampled_from(["1", "2", ""]),
    st.sampled_from(["Quantity", "MeasuredEntity", "MeasuredProperty", "Qualifier", "Unit", "Nope"]),
    st.integers(-1, 50).map(str) | st.just("١"),
    st.integers(-1, 50).map(str) | st.just("99999999999999999999"),
    st.sampled_from(["T1", "T2", "T3", ""]),
    st.sampled_from(["about 12 mg per kg", "soils", "nitrate", ""]),
    st.one_of(
        st.just(""),
        st.just("{"),
        st.builds(
            lambda d: json.dumps(d, ensure_ascii=False),
            st.dictionaries(st.sampled_from(["unit", "mods", "HasQuantity", "HasProperty", "Qualifies"]), json_values),
        ),
    ),
)


@EXAMPLES
@given(
    rows=st.lists(st.integers(0, 9).flatmap(lambda k: st.text(max_size=20) if k == 7 else measeval_rows), max_size=6),
    header=st.integers(0, 9).map(lambda k: k != 7),
)
def test_measeval_tsvs(project, tmp_path, rows, header):
    folder = fresh(tmp_path, "measeval")
    (folder / "text").mkdir()
    (folder / "tsv").mkdir()
    (folder / "text" / "D1.txt").write_text(MEASEVAL_TEXT, encoding="utf-8")
    (folder / "tsv" / "D1.tsv").write_text("\n".join(([HEADER] if header else []) + rows) + "\n", encoding="utf-8")
    labels = labels_of(project)
    held_to_the_rules(
        project, folder / "tsv", lambda paths: import_layer(get_db(project), paths, labels, "fuzz", "measeval")
    )
