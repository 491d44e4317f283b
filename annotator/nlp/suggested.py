"""Whole suggestions: claims and relations on top of a document's span suggestions.

The claim and relation rules (claims.py, relations.py) name their parts by offsets; here
those parts join the span suggestions (a part that is already an entity suggestion is that
suggestion, so accepting the claim accepts it), and claims and relations come to name their
parts by position in the final, text-ordered list, which is how they are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from annotator.labels import LabelConfig
from annotator.nlp.claims import FoundClaim, find_claims, modifiers_of
from annotator.nlp.quantities import parsed_quantity
from annotator.nlp.relations import find_relations

PART_ROLES = ("entity", "property", "condition")
# A quantity only a trained model found joins the suggestions when the model is this sure
MODEL_ONLY_MIN_SCORE = 0.9
Key = tuple[int, int, str]


@dataclass
class Suggested:
    spans: list[dict]
    claims: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)


def _key(span: dict) -> Key:
    return (span["start"], span["end"], span["label"])


def suggest_links(
    doc, spans: list[dict], labels: LabelConfig, rules: dict, prediction=None, model=None, found=None
) -> Suggested:
    """Add the rules' claims (one per quantity suggestion) and relations to `spans`, and a
    trained model's spans, claims and relations if given (`prediction`, with `model` the
    pipeline fields of its suggestions). `rules`: the pipeline fields of rule-made ones;
    `found`: rule_links() of these spans, when already worked out."""
    spans, claims, relations = found if found is not None else rule_links(doc, spans, labels, rules)
    if prediction is not None:
        spans, claims, relations = with_model(doc, spans, claims, relations, prediction, model, labels)
    return merged(spans, claims, relations, labels, {"origin": "pattern", **rules})


def rule_links(doc, spans: list[dict], labels: LabelConfig, rules: dict):
    """(spans, claims, relations) with parts named by offsets (see merged())."""
    qlabel = labels.quantity_label
    quantities = [s for s in spans if s["label"] == qlabel] if qlabel else []
    entities = [_key(s) for s in spans if s["label"] != qlabel]
    found = find_claims(doc, quantities, entities, labels) if quantities else []
    relations = find_relations(doc, entities, labels) if labels.relations and len(entities) > 1 else []
    provenance = {"origin": "pattern", **rules}
    claims = [_claim_keys(claim, provenance) for claim in found]
    links = [
        {"head": entities[head], "child": entities[child], "label": label, **provenance, "score": score}
        for head, child, label, score in relations
    ]
    return spans, claims, links


def candidates(found) -> list[Key]:
    """The spans a trained model's linker may choose from besides its own: every span
    suggestion (rule_links() output). Not the rules' claim parts: each was read for its own
    quantity, and offered to the others it lowered every MeasEval score."""
    spans, _claims, _relations = found
    return sorted({_key(s) for s in spans})


def _claim_keys(claim: FoundClaim, provenance: dict) -> dict:
    out: dict = {"quantity": claim.quantity, "modifiers": list(claim.modifiers), **provenance, "score": claim.score}
    for role in PART_ROLES:
        part = getattr(claim, role)
        out[role] = (part.start, part.end, part.label) if part else None
    return out


def merged(
    spans: list[dict], claims: list[dict], relations: list[dict], labels: LabelConfig, provenance: dict
) -> Suggested:
    """Spans with every part the claims and relations name, and those pointing at positions.

    `claims` name the quantity by (start, end) and parts by (start, end, label); `relations`
    name head and child by (start, end, label). A part of a label the configuration lacks is
    dropped (the claim keeps its other parts); so is a relation whose ends are not spans."""
    qlabel = labels.quantity_label
    by_key: dict[Key, dict] = {_key(s): s for s in spans}
    for claim in claims:
        for role in PART_ROLES:
            key = claim[role]
            if key and key not in by_key and key[2] in labels.entities:
                by_key[key] = {"start": key[0], "end": key[1], "label": key[2], **provenance}
    ordered = sorted(by_key.values(), key=_key)
    position = {_key(s): i for i, s in enumerate(ordered)}
    out_claims = []
    for claim in claims:
        quantity = position.get((*claim["quantity"], qlabel))
        if quantity is None:
            continue
        parts = {role: position.get(claim[role]) if claim[role] else None for role in PART_ROLES}
        out_claims.append({**claim, "quantity": quantity, **parts})
    out_relations = [
        {**rel, "head": position[rel["head"]], "child": position[rel["child"]]}
        for rel in relations
        if rel["head"] in position and rel["child"] in position and rel["head"] != rel["child"]
    ]
    return Suggested(ordered, out_claims, out_relations)


def _overlapping(spans: list[dict], start: int, end: int, label: str) -> dict | None:
    return next((s for s in spans if s["label"] == label and s["start"] < end and start < s["end"]), None)


def with_model(doc, spans, claims, relations, prediction, model: dict, labels: LabelConfig):
    """Rules plus a trained model. The model's spans join the span suggestions and its
    relations the rules'. Its claim on a quantity fills the parts the rules' claim left
    empty (the rules' parts and modifiers stand). A model quantity overlapping a rule
    quantity is that quantity (the normaliser read its value); one only the model found
    joins only when scored at least MODEL_ONLY_MIN_SCORE and the normaliser reads a number."""
    qlabel = labels.quantity_label
    spans = list(spans)
    keys = {_key(s) for s in spans}
    ruled = set(keys)
    scores = {(s["start"], s["end"], s["label"]): s.get("score") or 0.0 for s in prediction.spans}
    provenance = {"origin": "model", **model}
    text = doc.text  # rebuilt from the tokens on each access

    def trusted(key) -> bool:
        return tuple(key) in ruled or scores.get(tuple(key), 0.0) >= MODEL_ONLY_MIN_SCORE

    def place(start: int, end: int, label: str, score) -> Key | None:
        if label not in labels.entities:
            return None
        if label == qlabel:
            rule = _overlapping(spans, start, end, label)
            if rule is not None:
                return _key(rule)
        key = (start, end, label)
        extra = parsed_quantity(text[start:end], doc.lang_) if label == qlabel else {}
        if label == qlabel and (not trusted(key) or extra.get("value") is None):
            return None  # a quantity is one the normaliser can read a number from
        if key not in keys:
            spans.append({"start": start, "end": end, "label": label, **provenance, "score": score, **extra})
            keys.add(key)
        return key

    for span in prediction.spans:
        place(span["start"], span["end"], span["label"], span.get("score"))
    by_quantity = {claim["quantity"]: claim for claim in claims}
    for found in prediction.claims:
        quantity = place(*found["quantity"], qlabel, found.get("score")) if qlabel else None
        if quantity is None:
            continue
        rule = by_quantity.get(quantity[:2], {})
        parts = {role: place(*found[role], found.get("score")) if found.get(role) else None for role in PART_ROLES}
        quantity_row = next(s for s in spans if _key(s) == quantity)
        modifiers = rule.get("modifiers") or list(modifiers_of(quantity_row, labels))
        by_quantity[quantity[:2]] = {
            "quantity": quantity[:2],
            **{role: rule.get(role) or parts[role] for role in PART_ROLES},
            "modifiers": modifiers,
            **provenance,
            "score": found.get("score"),
        }
    seen = {(r["head"], r["child"], r["label"]) for r in relations}
    relations = list(relations)
    for found in prediction.relations:
        head, child = place(*found["head"], found.get("score")), place(*found["child"], found.get("score"))
        if head and child and (head, child, found["label"]) not in seen and head != child:
            relations.append(
                {"head": head, "child": child, "label": found["label"], **provenance, "score": found.get("score")}
            )
            seen.add((head, child, found["label"]))
    return spans, list(by_quantity.values()), relations
