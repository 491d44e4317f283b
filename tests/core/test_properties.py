"""Property-based tests: offsets survive import -> export whatever the text holds, and
malformed input never crashes the importer nor leaves part of a refused file behind."""

from __future__ import annotations

import itertools
import json

import orjson
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from annotator.cli import main
from annotator.db import get_db
from annotator.export.publish import export
from annotator.models import Document, Suggestion, document_uid
from annotator.project import labels_of
from tests.conftest import make_test_app

# Pieces that break naive offset arithmetic: astral-plane emoji (2 UTF-16 units), ZWJ
# family sequences, flags, skin tones, combining accents, CRLF, tabs, RTL and CJK text.
TRICKY = [
    "😀",
    "👩\u200d👩\u200d👧",
    "🇧🇷",
    "👍🏽",
    "e\u0301",
    "n\u0303",
    "\r\n",
    "\t",
    "\n",
    " ",
    "שלום",
    "中文",
    "ä",
    "𝔘𝔫𝔦",
    "\u2028",
    "\ufeff",
    "1,5 GB",
    "$2 trillion",
    "Nvidia",
    "<b>",
    "&amp;",
]
text_strategy = (
    st.lists(
        st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=8)),
        min_size=1,
        max_size=25,
    )
    .map("".join)
    .filter(lambda t: t.strip() != "" and "\x00" not in t)
)

counter = itertools.count()


@st.composite
def records_with_spans(draw):
    text = draw(text_strategy)
    labels = ["ORG", "PRODUCT", "MODEL", "QUANTITY", "DATE", "PERSON"]
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        span = {"start": start, "end": end, "label": draw(st.sampled_from(labels))}
        if draw(st.booleans()):
            span["text"] = text[start:end]
        spans.append(span)
    return {"text": text, "spans": spans}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(records_with_spans(), min_size=1, max_size=4, unique_by=lambda r: r["text"]))
def test_import_export_keeps_offsets_exact(tmp_path_factory, records):
    folder = tmp_path_factory.mktemp("prop")
    app = make_test_app(folder)
    src = folder / "in.jsonl"
    src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    result = CliRunner().invoke(
        main,
        ["import", "--no-prehighlight", "--db", app.config["DATABASE_URL"], str(src)],
        env={"ANNOTATOR_INSTANCE_PATH": str(folder / "instance")},
    )
    assert result.exit_code == 0, result.output
    exported = export(get_db(app), labels_of(app), "suggestions", out_dir=folder / "exports")
    by_id = {r["id"]: r for r in map(orjson.loads, (exported.path / "data.jsonl").read_bytes().splitlines())}
    for record in records:
        out = by_id[document_uid(record["text"])]
        assert out["text"] == record["text"]
        assert {(s["start"], s["end"], s["label"]) for s in out["spans"]} == {
            (s["start"], s["end"], s["label"]) for s in record["spans"]
        }
        for span in out["spans"]:
            assert out["text"][span["start"] : span["end"]] == span["text"]
        for token in out["tokens"]:
            assert 0 <= token["start"] < token["end"] <= len(out["text"])
    get_db(app).dispose()


# --- malformed input ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
bad_line = st.one_of(
    json_values.map(lambda v: json.dumps(v)),  # valid JSON, usually not a record
    st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s),  # usually not JSON
    st.builds(
        lambda t, s, e: json.dumps({"text": t, "spans": [{"start": s, "end": e, "label": "ORG"}]}),
        st.text(max_size=10),
        st.integers(-5, 20),
        st.integers(-5, 20),
    ),
    st.builds(
        lambda t, lab: json.dumps({"text": t, "spans": [{"start": 0, "end": 1, "label": lab}]}),
        st.text(min_size=1, max_size=10),
        st.text(max_size=8),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(bad_line, min_size=1, max_size=6), raw_bytes=st.binary(max_size=8), as_bytes=st.booleans())
def test_malformed_files_never_crash_nor_store_part(tmp_path_factory, lines, raw_bytes, as_bytes):
    folder = tmp_path_factory.mktemp("bad")
    app = make_test_app(folder)
    src = folder / f"in{next(counter)}.jsonl"
    payload = "\n".join(lines).encode("utf-8") + (b"\n" + raw_bytes if as_bytes else b"")
    src.write_bytes(payload)
    result = CliRunner().invoke(
        main,
        ["import", "--no-prehighlight", "--db", app.config["DATABASE_URL"], str(src)],
        env={"ANNOTATOR_INSTANCE_PATH": str(folder / "instance")},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    with get_db(app).reading() as s:
        docs = s.exec(select(func.count()).select_from(Document)).scalar_one()
        spans = s.exec(select(func.count()).select_from(Suggestion)).scalar_one()
    if result.exit_code != 0:
        assert (docs, spans) == (0, 0), "a refused file left records behind"
        assert f"{src}" in result.output
    else:
        assert docs >= 1
    get_db(app).dispose()
