"""Training under a time budget: the span pipeline, the linker, the held-back scores and a
learning curve, written to a folder (docs/training.md).

The budget is the whole command's: the full model's span training gets MAIN_SHARE of it, and
each learning-curve point an equal part of what is left after the full model is scored.
Training stops at the epoch limit or when its share of time is spent, whichever comes first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import joblib
import orjson
import spacy
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

from annotator.labels import CLAIM_RELATIONS, LabelConfig
from annotator.learn.examples import LINK_ROLES, GoldDoc, assign_components, training_doc
from annotator.learn.linking import Linker
from annotator.learn.metrics import evaluate
from annotator.learn.model import CANDIDATE_FLOOR, SPANS_KEY, TrainedModel

MAIN_SHARE = 0.55
CURVE_POINTS = (0.25, 0.5, 0.75)
BATCH_SIZE = 8
DROPOUT = 0.2
UNNEEDED = ["ner", "lemmatizer", "senter", "spancat", "entity_ruler", "span_ruler"]
MAX_SPAN_TOKENS = 12


@dataclass
class Settings:
    labels: LabelConfig
    base: str | None  # a pipeline name or path; None: the blank pipeline of the language
    lang: str
    seconds: float
    max_epochs: int
    seed: int
    blank: Callable  # lang -> a blank spaCy pipeline (the project's tokenizer)
    progress: Callable[[float, str], None] = lambda fraction, message: None
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)


def base_pipeline(settings: Settings):
    """The pipeline to train on: the base's own components (kept frozen: tagger and parser
    feed the linker's features) or a blank one with a sentencizer."""
    if settings.base:
        nlp = spacy.load(settings.base, exclude=UNNEEDED)
    else:
        nlp = settings.blank(settings.lang)
        nlp.add_pipe("sentencizer")
    return nlp


def check_base(settings: Settings) -> None:
    """A ValueError (or OSError) now, before any training, if the base cannot be used."""
    if settings.base:
        try:
            lang = spacy.load(settings.base, exclude=UNNEEDED).lang
        except OSError as exc:
            raise ValueError(f"cannot load the base pipeline {settings.base!r}: {exc}") from exc
        if lang != settings.lang:
            raise ValueError(
                f"the base pipeline {settings.base!r} is for {lang!r}; the documents are {settings.lang!r}"
            )


def span_lengths(nlp, docs: list[GoldDoc], components: dict) -> int:
    """The longest span the span categorizer proposes: enough for 98% of its gold spans."""
    lengths = []
    for gold in docs:
        doc = nlp.make_doc(gold.text)
        for start, end, label in gold.spans:
            if components.get(label, {}).get("component") == "spancat":
                span = doc.char_span(start, end, alignment_mode="expand")
                if span is not None:
                    lengths.append(len(span))
    if not lengths:
        return 3
    lengths.sort()
    return max(1, min(MAX_SPAN_TOKENS, lengths[int(0.98 * (len(lengths) - 1))]))


def train_spans(settings: Settings, docs: list[GoldDoc], components: dict, seconds: float, stage: tuple):
    """A pipeline with NER and span categorizer trained on `docs`; (nlp, report).
    `stage`: (start, width) of this run in the progress fraction, and its name."""
    fix_random_seed(settings.seed)
    nlp = base_pipeline(settings)
    frozen = list(nlp.pipe_names)
    ner_labels = sorted(k for k, v in components.items() if v["component"] == "ner")
    cat_labels = sorted(k for k, v in components.items() if v["component"] == "spancat")
    trained = []
    if ner_labels:
        ner = nlp.add_pipe("ner")
        for label in ner_labels:
            ner.add_label(label)
        trained.append("ner")
    max_size = span_lengths(nlp, docs, components)
    if cat_labels:
        suggester = {"@misc": "spacy.ngram_range_suggester.v1", "min_size": 1, "max_size": max_size}
        config = {"spans_key": SPANS_KEY, "threshold": CANDIDATE_FLOOR, "suggester": suggester}
        cat = nlp.add_pipe("spancat", config=config)
        for label in cat_labels:
            cat.add_label(label)
        trained.append("spancat")
    examples, unplaced = [], 0
    for gold in docs:
        reference, lost = training_doc(nlp, gold, components, SPANS_KEY)
        unplaced += lost
        examples.append(Example(nlp.make_doc(gold.text), reference))
    start, width, name = stage
    report = {"documents": len(docs), "epochs": 0, "seconds": 0.0, "losses": {}, "spans_not_placed": unplaced}
    report["span_categorizer_max_tokens"] = max_size
    if not trained:
        return nlp, report
    began = time.monotonic()
    rng = random.Random(settings.seed)
    with nlp.select_pipes(enable=trained):
        # each new component by itself: nlp.initialize() would also redo the base's vocabulary
        for component in trained:
            nlp.get_pipe(component).initialize(lambda: examples, nlp=nlp)
        optimizer = nlp.create_optimizer()
        for epoch in range(settings.max_epochs):
            losses: dict = {}
            rng.shuffle(examples)
            for batch in minibatch(examples, size=BATCH_SIZE):
                nlp.update(batch, drop=DROPOUT, sgd=optimizer, losses=losses)
                spent = time.monotonic() - began
                share = max(spent / seconds if seconds > 0 else 1.0, epoch / settings.max_epochs)
                settings.progress(start + width * min(1.0, share), f"{name}: epoch {epoch + 1}/{settings.max_epochs}")
                if spent >= seconds:
                    break
            report["epochs"] = epoch + 1
            report["losses"] = {k: round(float(v), 2) for k, v in losses.items()}
            if time.monotonic() - began >= seconds:
                break
    report["seconds"] = round(time.monotonic() - began, 1)
    report["frozen"] = frozen
    return nlp, report


def relation_pairs(labels: LabelConfig) -> dict[str, list[list[str]]]:
    """The configuration's relations between spans, the ones that tie claim parts left out."""
    claim_links = {getattr(labels.claims, name) for name in CLAIM_RELATIONS}
    return {name: rule["pairs"] for name, rule in labels.relations.items() if name not in claim_links}


def parse(nlp, docs: list[GoldDoc]) -> list:
    """The docs parsed by the pipeline's frozen components: what the linker's features read."""
    keep = [n for n in nlp.pipe_names if n not in ("ner", "spancat")]
    with nlp.select_pipes(enable=keep):
        return list(nlp.pipe([d.text for d in docs], batch_size=32))


def fit_linker(settings: Settings, parsed: list, docs: list[GoldDoc]) -> Linker:
    linker = Linker(quantity_label=settings.labels.claims.quantity, seed=settings.seed)
    phrase_labels = {role: settings.labels.claims.role_label(role) for role in LINK_ROLES}
    return linker.fit(list(zip(parsed, docs)), relation_pairs(settings.labels), phrase_labels)


def score(model: TrainedModel, held: list[GoldDoc], parsed_held: list) -> dict:
    """Every figure on the held-back documents (metrics.evaluate)."""
    predictions = model.predict([d.text for d in held])
    spans = [[(s["start"], s["end"], s["label"]) for s in p.spans] for p in predictions]
    from_pred = [[c | {"quantity": (*c["quantity"], model.quantity_label)} for c in p.claims] for p in predictions]
    quantity = model.quantity_label
    from_gold = [
        model.linker.claims(doc, gold.spans, [s for s in gold.spans if s[2] == quantity], phrases=False)
        for doc, gold in zip(parsed_held, held)
    ]
    rel_labels = set(model.linker.relation_pairs)
    for gold in held:
        gold.relations = [r for r in gold.relations if r[2] in rel_labels]
    return evaluate(held, spans, from_gold, from_pred, [p.relations for p in predictions])


def headline(metrics: dict) -> dict:
    spans = metrics["spans"]
    links = metrics["claims"]["given_gold_spans"].get("_micro", {})
    return {
        "span_f1_exact": spans["exact"].get("_micro", {}).get("f1", 0.0),
        "span_f1_overlap": spans["overlap"].get("_micro", {}).get("f1", 0.0),
        "claim_link_f1": links.get("f1", 0.0),
    }


def train_all(settings: Settings, train: list[GoldDoc], held: list[GoldDoc], meta: dict):
    """The full model, its scores and the learning curve: (model, metrics)."""
    components = assign_components(train, settings.labels)
    main_seconds = max(1.0, settings.left() * MAIN_SHARE)
    nlp, report = train_spans(settings, train, components, main_seconds, (0.0, MAIN_SHARE, "full model"))
    settings.progress(MAIN_SHARE, "linker")
    parsed_train, parsed_held = parse(nlp, train), parse(nlp, held)
    linker = fit_linker(settings, parsed_train, train)
    meta = meta | {
        "quantity_label": settings.labels.claims.quantity,
        "spans_key": SPANS_KEY,
        "components": components,
    }
    model = TrainedModel(nlp, linker, meta)
    settings.progress(MAIN_SHARE + 0.02, "scoring on the held-back documents")
    scored_at = time.monotonic()
    metrics = score(model, [_copy(d) for d in held], parsed_held)
    scoring = time.monotonic() - scored_at
    curve = []
    order = list(train)
    random.Random(settings.seed).shuffle(order)
    done = MAIN_SHARE + 0.05
    for i, fraction in enumerate(CURVE_POINTS):
        n = max(1, round(len(order) * fraction))
        left_points = len(CURVE_POINTS) - i
        seconds = settings.left() / left_points - scoring * 1.5
        if seconds < 1.0:
            curve.append({"fraction": fraction, "train_documents": n, "skipped": "no time left in the budget"})
            continue
        subset = order[:n]
        width = (0.97 - done) / left_points
        sub_nlp, sub_report = train_spans(settings, subset, components, seconds * 0.9, (done, width, f"curve {n}"))
        done += width
        sub_linker = fit_linker(settings, parse(sub_nlp, subset), subset)
        sub_metrics = score(TrainedModel(sub_nlp, sub_linker, meta), [_copy(d) for d in held], parsed_held)
        point = {"fraction": fraction, "train_documents": n, "epochs": sub_report["epochs"]}
        curve.append(point | headline(sub_metrics))
    curve.append({"fraction": 1.0, "train_documents": len(train), "epochs": report["epochs"]} | headline(metrics))
    metrics["learning_curve"] = curve
    metrics["components"] = components
    metrics["training"] = report
    metrics["linker"] = linker.counts | {"roles": linker.role_labels}
    settings.progress(1.0, "done")
    return model, metrics


def _copy(doc: GoldDoc) -> GoldDoc:
    return GoldDoc(doc.uid, doc.text, doc.lang, list(doc.spans), list(doc.claims), list(doc.relations))


def write(out, model: TrainedModel, metrics: dict, labels: LabelConfig) -> None:
    """The model folder: pipeline/, linker.joblib, labels.json, metrics.json, meta.json."""
    out.mkdir(parents=True)
    model.nlp.to_disk(out / "pipeline")
    joblib.dump(model.linker, out / "linker.joblib")
    dump = lambda data: orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)  # noqa: E731
    (out / "labels.json").write_bytes(dump(labels.raw))
    (out / "metrics.json").write_bytes(dump(metrics))
    (out / "meta.json").write_bytes(dump(model.meta))
