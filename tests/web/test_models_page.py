"""The models page: each kept model's figures, its learning curve as a chart and a table,
activation by curators (audited); annotators are refused. SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import select

from annotator.db import get_db
from annotator.models import AuditEvent, ModelVersion
from annotator.project.model_versions import register
from tests.helpers import curator, log_in


def model_folder(path, name: str, version: str):
    """A folder as `annotator train` writes it (only the files the project reads)."""
    path.mkdir()
    (path / "meta.json").write_text(json.dumps({"name": name, "version": version, "layer": "gold", "lang": "en"}))
    curve = [
        {"fraction": f, "train_documents": n, "span_f1_overlap": s, "span_f1_exact": s - 0.1, "claim_link_f1": c}
        for f, n, s, c in ((0.25, 5, 0.31, 0.2), (0.5, 10, 0.42, 0.33), (1.0, 20, 0.55, 0.47))
    ]
    figures = {"precision": 0.6, "recall": 0.5, "f1": 0.5455, "gold": 40, "predicted": 33}
    metrics = {
        "spans": {"overlap": {"PROPERTY": figures}, "exact": {}},
        "claims": {"given_gold_spans": {"entity": figures}},
        "learning_curve": curve,
    }
    (path / "metrics.json").write_text(json.dumps(metrics))
    return path


def test_models_page_chart_table_and_activation(any_app, tmp_path):
    db = get_db(any_app)
    first = register(db, model_folder(tmp_path / "m1", "claims", "1"))
    register(db, model_folder(tmp_path / "m2", "claims", "2"))  # the newest is active
    client = curator(any_app)
    page = client.get("/models/").get_data(as_text=True)
    assert page.count('role="img"') == 2 and "Learning curve of claims@1" in page
    assert "<td>10 (50%)</td>" in page and "0.420" in page and "span PROPERTY" in page and "claim entity" in page
    assert page.count(">active</span>") == 1 and 'aria-label="Activate claims@1"' in page
    response = client.post(f"/models/{first.id}/activate")
    assert response.status_code == 303
    with db.reading() as s:
        active = s.exec(select(ModelVersion.version).where(ModelVersion.active)).scalars().all()
        audit = s.exec(select(AuditEvent.target).where(AuditEvent.action == "activate_model")).scalars().all()
    assert active == ["1"] and audit == ["model:claims@1"]
    assert client.post("/models/999/activate").status_code == 404
    annotator = log_in(any_app, any_app.test_client(), "ann")
    assert annotator.get("/models/").status_code == 403


def test_no_models_yet(app):
    page = curator(app).get("/models/").get_data(as_text=True)
    assert "No models yet" in page
