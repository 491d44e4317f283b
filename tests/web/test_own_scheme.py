"""The pages under a project's own label scheme (MeasEval's names, from docs/examples): two
annotators build claims in the workspace, the agreement report compares them, a curator
pre-accepts what they agree on into gold, and the gold layer exports as brat under the same
names. Nothing on the way assumes the default labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from annotator.db import get_db
from annotator.export.publish import export
from annotator.models import Claim, Document, Layer, Span
from annotator.nlp.tokenizer import tokenize
from annotator.project import labels_of
from annotator.review.agreement import agreement_report
from annotator.review.comparison import compare
from annotator.tokens import pack
from tests.conftest import make_test_app
from tests.helpers import give, log_in

SCHEME = Path(__file__).resolve().parents[2] / "docs" / "examples" / "measeval-labels.json"
TEXT = "In diseased soils the nitrate content was 63 % lower, at about 12 mg per kg."
HX = {"HX-Request": "true"}


def write(client, path: str, app, name: str, **data):
    with get_db(app).reading() as s:
        layer = s.exec(select(Layer).join(Document).where(Document.uid == "doc1", Layer.name == name)).scalars().first()
    data["version"] = layer.version if layer else 0
    response = client.post(f"/annotate/doc1{path}", data=data, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def span(client, app, name: str, frag: str, label: str) -> int:
    start = TEXT.index(frag)
    response = write(client, "/spans", app, name, start=start, end=start + len(frag), label=label)
    return int(re.search(r'"key": "s(\d+)"', response.headers["HX-Trigger-After-Swap"]).group(1))


def gold_version(app) -> int:
    with get_db(app).reading() as s:
        return s.exec(select(Layer.version).where(Layer.name == "gold")).scalar() or 0


def is_open(item) -> bool:
    return item.state == "conflict" and not item.rejected and item.gold_id is None


def test_workspace_agreement_curation_and_export_under_measeval_names(tmp_path):
    app = make_test_app(tmp_path, LABELS_FILE=str(SCHEME))
    assert labels_of(app).quantity_label == "Quantity"
    with get_db(app).writing() as s:
        s.add(
            Document(
                uid="doc1", text=TEXT, lang="en", title="soils", n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en"))
            )
        )
    for name, entity in (("ann1", "diseased soils"), ("ann2", "soils")):
        give(app, name, ["doc1"])
        client = log_in(app, app.test_client(), name)
        page = client.get("/annotate/doc1").get_data(as_text=True)
        assert 'data-quantity-label="Quantity"' in page and 'data-label="MeasuredEntity"' in page
        qty = span(client, app, name, "63 %", "Quantity")
        ent = span(client, app, name, entity, "MeasuredEntity")
        prop = span(client, app, name, "nitrate content", "MeasuredProperty")
        form = client.get(f"/annotate/doc1/claim-form?quantity={qty}").get_data(as_text=True)
        # a choice reads as its mention first, then the scheme's own label
        assert re.search(rf'<option value="{ent}" selected>{entity} · MeasuredEntity', form), form
        assert re.search(rf'<option value="{prop}" selected>nitrate content · MeasuredProperty', form)
        assert 'value="IsCount"' in form and "IsMeanHasSD" in form  # the scheme's own modifiers
        write(client, "/claims", app, name, quantity_id=qty, value="63", unit="%", entity_id=ent, property_id=prop)
        write(client, "/status", app, name, status="done")
    with get_db(app).reading() as s:
        assert s.exec(select(Span.label).where(Span.label == "Quantity")).all()
        assert len(s.exec(select(Claim)).all()) == 2
    lead = log_in(app, app.test_client(), "lead", "curator")
    page = lead.get("/reports/agreement").get_data(as_text=True)
    assert "MeasuredEntity" in page and "MeasuredProperty" in page and "Quantity" in page
    with get_db(app).reading() as s:
        [pair] = agreement_report(s)["pairs"]
    # the entities differ exactly; claims are compared between spans matched by overlap
    assert pair["span_f1"]["exact"]["per_label"]["MeasuredEntity"]["f1"] == 0.0
    assert pair["span_f1"]["overlap"]["per_label"]["MeasuredEntity"]["f1"] == 1.0
    assert pair["claims"]["same_quantity"] == 1 and pair["claims"]["same_entity"] == 1
    board = lead.get("/curate/doc1").get_data(as_text=True)
    assert "MeasuredEntity" in board and "Pre-accept agreements" in board
    pre = lead.post("/curate/doc1/pre-accept", data={"version": gold_version(app)}, headers=HX)
    assert pre.status_code == 200 and "Pre-accepted 2 spans" in pre.get_data(as_text=True)
    # the curator settles the conflict for annotator 1: 63 % is about the diseased soils
    for _ in range(6):
        with get_db(app).reading() as s:
            open_items = [i for i in compare(s, s.exec(select(Document)).scalars().one()).items if is_open(i)]
        if not open_items:
            break
        it = open_items[0]
        verb = "accept" if "ann1" in it.rows and "ann2" not in it.rows else "reject"
        data = {"version": gold_version(app), "kind": it.kind, "key": it.key}
        if verb == "accept":
            data["annotator"] = "ann1"
        answer = lead.post(f"/curate/doc1/{verb}", data=data, headers=HX)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    done = lead.post("/curate/doc1/status", data={"version": gold_version(app), "status": "done"}, headers=HX)
    assert done.status_code == 200, done.get_data(as_text=True)
    result = export(get_db(app), labels_of(app), "gold", name="gold-brat", out_dir=tmp_path / "exports", fmt="brat")
    [ann] = (result.path / "brat").glob("*.ann")
    lines = ann.read_text("utf-8").splitlines()
    texts = {line.split("\t")[2]: line.split("\t")[1].split(" ")[0] for line in lines if line.startswith("T")}
    assert texts == {"63 %": "Quantity", "diseased soils": "MeasuredEntity", "nitrate content": "MeasuredProperty"}
    assert sorted(line.split("\t")[1].split(" ")[0] for line in lines if line.startswith("R")) == [
        "HasProperty",
        "HasQuantity",
    ]
    schema = json.loads((result.path / "schema.json").read_text("utf-8"))
    assert schema["$defs"]["span"]["if"]["properties"]["label"]["const"] == "Quantity"
    get_db(app).dispose()
