"""Agreement figures checked against independent implementations and by hand."""

from __future__ import annotations

import random

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select

from annotator.contents import ClaimItem, Contents, RelationItem, SpanItem
from annotator.db import get_db
from annotator.models import Document, Layer, Span
from annotator.review.agreement import (
    MISSING,
    OUTSIDE,
    PairTally,
    agreement_report,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    overlap_pairs,
    token_labels,
)
from annotator.tokens import pack
from tests.helpers import curator


def random_ratings(rng: random.Random, raters: int, units: int, categories: int, agree: float) -> np.ndarray:
    truth = [rng.randrange(categories) for _ in range(units)]
    return np.array([[t if rng.random() < agree else rng.randrange(categories) for t in truth] for _ in range(raters)])


@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_matches_scikit_learn(seed):
    rng = random.Random(seed)
    ratings = random_ratings(rng, 2, rng.randrange(20, 400), rng.randrange(2, 7), rng.random())
    assert cohen_kappa(ratings[0], ratings[1]) == pytest.approx(cohen_kappa_score(ratings[0], ratings[1]), abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_krippendorff_alpha_matches_the_krippendorff_package(seed):
    rng = random.Random(100 + seed)
    ratings = random_ratings(rng, rng.randrange(2, 6), rng.randrange(20, 400), rng.randrange(2, 7), rng.random())
    expected = krippendorff.alpha(reliability_data=ratings, level_of_measurement="nominal")
    assert krippendorff_alpha(ratings) == pytest.approx(expected, abs=1e-9)


def test_fleiss_kappa_by_hand():
    # 3 raters, 4 units, categories A=0, B=1:
    # unit counts (A, B): (3,0) (0,3) (2,1) (1,2); P_i = 1, 1, 1/3, 1/3 -> P̄ = 2/3
    # p_A = p_B = 1/2 -> Pe = 1/2 -> kappa = (2/3 - 1/2) / (1/2) = 1/3
    ratings = np.array([[0, 1, 0, 0], [0, 1, 0, 1], [0, 1, 1, 1]])
    assert fleiss_kappa(ratings) == pytest.approx(1 / 3)


def test_perfect_agreement_on_one_category():
    same = np.zeros((3, 10), dtype=int)
    assert cohen_kappa(same[0], same[1]) == 1.0 and fleiss_kappa(same) == 1.0 and krippendorff_alpha(same) == 1.0


def test_token_labels_missing_span_is_disagreement():
    tokens = [(0, 3), (4, 8), (9, 14)]
    assert token_labels(tokens, [(4, 14, "ORG", 1, None, None)]) == [OUTSIDE, "ORG", "ORG"]
    # overlapping spans of one annotator: the longest wins each token
    assert token_labels(tokens, [(4, 8, "PERSON", 1, None, None), (0, 14, "ORG", 2, None, None)]) == ["ORG"] * 3


def spans(*rows) -> list[SpanItem]:
    """(start, end, label, id[, value, unit]) as span items."""
    return [
        SpanItem(
            row[3],
            row[0],
            row[1],
            row[2],
            value=row[4] if len(row) > 4 else None,
            unit=row[5] if len(row) > 5 else None,
        )
        for row in rows
    ]


def test_span_f1_by_hand():
    # A: [0,5) ORG, [10,15) ORG, [20,25) GPE ; B: [0,5) ORG, [11,15) ORG, [30,35) GPE
    a = Contents(spans=spans((0, 5, "ORG", 1), (10, 15, "ORG", 2), (20, 25, "GPE", 3)))
    b = Contents(spans=spans((0, 5, "ORG", 11), (11, 15, "ORG", 12), (30, 35, "GPE", 13)))
    tally = PairTally()
    tally.add_doc(a, b)
    report = tally.report(["GPE", "ORG"])
    exact, overlap = report["span_f1"]["exact"], report["span_f1"]["overlap"]
    assert exact["micro"]["f1"] == pytest.approx(2 * 1 / 6)  # one exact match of 3 + 3
    assert overlap["micro"]["f1"] == pytest.approx(2 * 2 / 6)  # [10,15) ~ [11,15)
    assert exact["per_label"]["ORG"]["f1"] == pytest.approx(0.5) and overlap["per_label"]["ORG"]["f1"] == 1.0
    assert overlap["per_label"]["GPE"]["f1"] == 0.0


def test_overlap_matching_is_one_to_one():
    a = [(0, 10, "ORG", 1)]
    b = [(0, 4, "ORG", 2), (5, 10, "ORG", 3)]
    assert len(overlap_pairs(a, b)) == 1


def test_relation_and_claim_agreement_given_matched_spans():
    a = Contents(
        spans=spans((0, 6, "ORG", 1), (10, 20, "PRODUCT", 2), (30, 36, "QUANTITY", 3, 256, "GB")),
        relations=[RelationItem(1, 2, "MAKES")],
        claims=[ClaimItem(3, entity_id=2)],
    )
    b = Contents(
        spans=spans((0, 6, "ORG", 11), (10, 20, "PRODUCT", 12), (30, 36, "QUANTITY", 13, 256, "GB")),
        relations=[RelationItem(11, 12, "MAKES")],
        claims=[ClaimItem(13, entity_id=12)],
    )
    tally = PairTally()
    tally.add_doc(a, b)
    report = tally.report(["ORG"])
    assert report["relation_f1"]["f1"] == 1.0
    assert report["claims"]["full"] == 1 and report["claims"]["f1_full"] == 1.0


@pytest.mark.parametrize("role", ["condition_id", "time_id", "source_id"])
def test_a_full_claim_match_needs_every_part_time_and_source_too(role):
    """The parts agreement compares are the parts curation compares (models.CLAIM_LINKS):
    a claim whose time or source differs is not wholly the same claim."""
    a = Contents(
        spans=spans((0, 6, "ORG", 1), (10, 20, "DATE", 2), (30, 36, "QUANTITY", 3, 256, "GB")),
        claims=[ClaimItem(3, entity_id=1, **{role: 2})],
    )
    b = Contents(
        spans=spans((0, 6, "ORG", 11), (10, 20, "DATE", 12), (30, 36, "QUANTITY", 13, 256, "GB")),
        claims=[ClaimItem(13, entity_id=11)],
    )
    differ = PairTally()
    differ.add_doc(a, b)
    claims = differ.report(["ORG"])["claims"]
    assert (claims["same_entity"], claims["same_value_unit"], claims["full"]) == (1, 1, 0)
    b.claims = [ClaimItem(13, entity_id=11, **{role: 12})]
    same = PairTally()
    same.add_doc(a, b)
    assert same.report(["ORG"])["claims"]["full"] == 1


def make_corpus(app, docs: int, annotators: list[str], seed: int = 7, not_done: str | None = None):
    rng = random.Random(seed)
    words = ["Nvidia", "makes", "the", "H100", "with", "80", "GB", "memory", "Huawei", "Ascend"]
    labels = ["ORG", "PRODUCT", "QUANTITY"]
    with get_db(app).writing() as s:
        for d in range(docs):
            tokens, text, pos = [], [], 0
            for _ in range(rng.randrange(5, 30)):
                w = rng.choice(words)
                tokens.append((pos, pos + len(w)))
                text.append(w)
                pos += len(w) + 1
            doc = Document(
                uid=f"doc{d:04d}", text=" ".join(text), lang="en", title=f"d{d}", n_chars=pos, tokens=pack(tokens)
            )
            s.add(doc)
            s.flush()
            truth = [(t, rng.choice(labels)) for t in rng.sample(tokens, min(4, len(tokens)))]
            for name in annotators:
                status = "in_progress" if (name == not_done and d == 0) else "done"
                layer = Layer(document_id=doc.id, name=name, status=status)
                s.add(layer)
                s.flush()
                for (start, end), label in truth:
                    if rng.random() < 0.8:
                        s.add(
                            Span(
                                layer_id=layer.id,
                                start=start,
                                end=end,
                                label=label if rng.random() < 0.85 else rng.choice(labels),
                            )
                        )


def test_report_from_stored_layers_matches_independent_figures(app):
    """cid has not finished doc0000: it still counts (ann and bob did), with cid's ratings
    missing there, as with overlap k of n; each pair uses the documents both finished."""
    make_corpus(app, docs=12, annotators=["ann", "bob", "cid"], not_done="cid")
    with get_db(app).reading() as s:
        report = agreement_report(s)
        docs = s.exec(select(Document).order_by(Document.uid)).scalars().all()
    assert report["documents"] == 12 and report["documents_done_by_fewer_than_two"] == 0
    assert report["tokens"] == sum(len(d.tokens) // 8 for d in docs)
    codes = {label: i for i, label in enumerate([OUTSIDE] + report["labels"])}
    # rebuild the unit ratings independently from the stored spans; nan: not rated
    from annotator.tokens import unpack

    rows = {name: [] for name in report["annotators"]}
    with get_db(app).reading() as s:
        for doc in docs:
            toks = unpack(doc.tokens)
            for name in rows:
                layer = s.exec(select(Layer).where(Layer.document_id == doc.id, Layer.name == name)).scalars().one()
                if layer.status != "done":
                    rows[name].extend([np.nan] * len(toks))
                    continue
                labels = {
                    (sp.start, sp.end): sp.label
                    for sp in s.exec(select(Span).where(Span.layer_id == layer.id)).scalars()
                }
                rows[name].extend(codes[labels.get(t, OUTSIDE)] for t in toks)
    matrix = np.array(list(rows.values()), dtype=float)
    assert report["overall"]["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    )
    assert report["overall"]["fleiss_kappa"] is None  # 2 raters on doc0000, 3 elsewhere: not defined
    for a, b, n in (("ann", "bob", 12), ("ann", "cid", 11), ("bob", "cid", 11)):
        pair = next(p for p in report["pairs"] if (p["a"], p["b"]) == (a, b))
        names = list(rows)
        both = ~np.isnan(matrix[names.index(a)]) & ~np.isnan(matrix[names.index(b)])
        x, y = np.array(rows[a])[both].astype(int), np.array(rows[b])[both].astype(int)
        assert pair["documents"] == n and pair["cohen_kappa"] == pytest.approx(cohen_kappa_score(x, y))
    assert len(report["most_disagreement"]) <= 10
    first = len(docs[0].tokens) // 8  # doc0000: only the ann/bob pair compares its tokens
    assert sum(map(sum, report["confusion"]["matrix"])) == report["tokens"] * 3 - first * 2


def test_a_document_only_one_annotator_finished_is_left_out(app):
    make_corpus(app, docs=4, annotators=["ann", "bob"], not_done="bob")
    with get_db(app).reading() as s:
        report = agreement_report(s)
    assert report["documents"] == 3 and report["documents_done_by_fewer_than_two"] == 1
    assert report["pairs"][0]["documents"] == 3 and report["overall"]["fleiss_kappa"] is not None


@pytest.mark.parametrize("seed", range(4))
def test_krippendorff_alpha_with_missing_ratings_matches_the_package(seed):
    rng = random.Random(300 + seed)
    ratings = random_ratings(rng, rng.randrange(3, 6), rng.randrange(20, 300), rng.randrange(2, 6), rng.random())
    missing = np.array([[rng.random() < 0.3 for _ in range(ratings.shape[1])] for _ in range(ratings.shape[0])])
    ours = np.where(missing, MISSING, ratings)
    expected = krippendorff.alpha(reliability_data=np.where(missing, np.nan, ratings), level_of_measurement="nominal")
    assert krippendorff_alpha(ours) == pytest.approx(expected, abs=1e-9)


def test_needs_two_annotators(app):
    make_corpus(app, docs=2, annotators=["solo"])
    with get_db(app).reading() as s, pytest.raises(ValueError, match="at least two annotators"):
        agreement_report(s)


def test_iaa_command_formats(app, cli, tmp_path):
    make_corpus(app, docs=5, annotators=["ann", "bob"])
    url = app.config["DATABASE_URL"]
    table = cli("iaa", "--db", url)
    assert table.exit_code == 0 and "Krippendorff's alpha" in table.output and "ann / bob" in table.output
    import json

    report = json.loads(cli("iaa", "--db", url, "--format", "json").output)
    assert report["documents"] == 5 and report["pairs"][0]["a"] == "ann"
    csv_text = cli("iaa", "--db", url, "--format", "csv").output
    assert csv_text.splitlines()[0].startswith("a,b,label,cohen_kappa")
    out = tmp_path / "report.html"
    assert cli("iaa", "--db", url, "--format", "html", "--out", out).exit_code == 0
    html = out.read_text()
    assert "<h1>Inter-annotator agreement</h1>" in html and "Fleiss" in html
    only = json.loads(cli("iaa", "--db", url, "--format", "json", "--labels", "ORG").output)
    assert set(only["labels"]) <= {"ORG"}
    lonely = cli("iaa", "--db", url, "--annotators", "ann")
    assert lonely.exit_code == 1 and "at least two annotators" in lonely.output


def test_agreement_page_shows_the_same_numbers(app):
    make_corpus(app, docs=6, annotators=["ann", "bob", "cid"])
    client = curator(app)
    with get_db(app).reading() as s:
        report = agreement_report(s)
    page = client.get("/reports/agreement")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-metric="krippendorff_alpha">{report["overall"]["krippendorff_alpha"]:.3f}<' in html
    assert f'data-metric="fleiss_kappa">{report["overall"]["fleiss_kappa"]:.3f}<' in html
    assert "6 documents counted" in html and "ann / bob" in html
    only_two = client.get("/reports/agreement?annotators=ann,bob").get_data(as_text=True)
    assert "ann / cid" not in only_two


def test_agreement_page_explains_when_it_cannot_compare(app):
    page = curator(app).get("/reports/agreement")
    assert page.status_code == 200 and "at least two annotators" in page.get_data(as_text=True)
