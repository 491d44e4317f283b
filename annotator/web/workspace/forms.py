"""The workspace's two forms: the relation chooser and the claim form, and reading their fields.

Form fields arrive as strings; they are turned into the types the service layer checks
(ints for ids and offsets) without second-guessing it: something that is not a whole number
is passed on as it came, so the service refuses it with its own clear message.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from annotator.annotate.spans import span_in_layer
from annotator.labels import LabelConfig
from annotator.layers import AnnotationError
from annotator.models import CLAIM_LINKS, Claim, Document, Layer, Span
from annotator.nlp.quantities import parsed_quantity
from annotator.nlp.units import canonical_units
from annotator.web.guards import MAX_ROW_ID
from annotator.web.workspace.panel import excerpt
from annotator.web.workspace.views import text_blocks

# ASCII digits only: Python's \d also takes "١" (Arabic-Indic one) and int() reads it as 1
WHOLE = re.compile(r"-?[0-9]{1,10}")


def preferred(labels: LabelConfig) -> dict[str, str | None]:
    """The label each part's spans have in the configuration's claim scheme (listed first in
    its choice, and pre-selected nearby); a scheme without one gets no pre-selection for that
    part. Any span may be the measured entity: it names no label there."""
    scheme = labels.claims
    return {
        "entity_id": None,
        "property_id": scheme.property,
        "condition_id": scheme.condition,
        "time_id": scheme.time,
        "source_id": scheme.source,
    }


# Pre-selected for a new claim when the paragraph has one (a date nearby is too often about
# something else to guess the claim's time).
GUESSED = ("property_id", "condition_id")
NEARBY_BLOCKS = 2


def whole(value):
    """An int for a whole-number string that can name a row or an offset, else the value
    unchanged (the service refuses it, naming it)."""
    if isinstance(value, str) and WHOLE.fullmatch(value.strip()) and abs(int(value)) <= MAX_ROW_ID:
        return int(value.strip())
    return value


def optional_id(value):
    return None if value in (None, "") else whole(value)


def read_version(form) -> int:
    raw = form.get("version")
    if raw is None or not WHOLE.fullmatch(raw.strip()) or int(raw) < 0:
        raise AnnotationError("the request did not say which version of your annotations it saw; reload the page")
    return int(raw)


def ids_field(form, name: str) -> list:
    """Repeated or comma-separated ids, each once (`ids=258,258` is one id)."""
    values = [v.strip() for raw in form.getlist(name) for v in raw.split(",") if v.strip()]
    return [whole(v) for v in dict.fromkeys(values)]


def ranges_field(raw: str) -> list[tuple]:
    """ "12-20,31-39" as [(12, 20), (31, 39)]; anything else is refused, naming it."""
    out = []
    for piece in (p.strip() for p in raw.split(",") if p.strip()):
        start, _, end = piece.partition("-")
        start, end = whole(start), whole(end)
        if not (isinstance(start, int) and isinstance(end, int)):
            raise AnnotationError(f"{piece!r} is not a range of code points (write start-end, e.g. 12-20)")
        out.append((start, end))
    out = list(dict.fromkeys(out))
    if not out:
        raise AnnotationError("name the places to mark (ranges=start-end,start-end)")
    if len(out) > MAX_RANGES:
        raise AnnotationError(f"at most {MAX_RANGES} places at once, not {len(out)}")
    return out


MAX_RANGES = 2000


# --- relation chooser -------------------------------------------------------------------------


def relation_choice(session: Session, labels: LabelConfig, layer: Layer | None, head_id, child_id) -> dict:
    head = span_in_layer(session, layer, whole(head_id))
    child = span_in_layer(session, layer, whole(child_id))
    if head.id == child.id:
        raise AnnotationError("a relation needs two different spans: pick another child span")
    return {"head": head, "child": child, "allowed": labels.relations_for(head.label, child.label)}


# --- claim form -------------------------------------------------------------------------------


def claim_form_data(
    session: Session, labels: LabelConfig, doc: Document, layer: Layer | None, quantity_id=None, claim_id=None
) -> dict:
    """Everything the claim form shows: values pre-filled from the quantity span (or the
    normaliser), nearby spans to link, and the current links when editing."""
    claim = None
    if claim_id is not None:
        claim = session.get(Claim, whole(claim_id)) if isinstance(whole(claim_id), int) else None
        if claim is None or layer is None or claim.layer_id != layer.id:
            raise AnnotationError(f"claim {claim_id!r} is not in this layer of this document")
        quantity_id = claim.quantity_id
    quantity = span_in_layer(session, layer, whole(quantity_id))
    if quantity.label != labels.quantity_label:
        raise AnnotationError(
            f"a claim is built on a {labels.quantity_label} span, not on {quantity.label}: "
            f"pick a {labels.quantity_label} span first"
        )
    if claim is None:
        claim = session.exec(select(Claim).where(Claim.quantity_id == quantity.id)).scalars().first()
    value, unit, qualifier = quantity.value, quantity.unit, quantity.qualifier
    parsed = {}
    if value is None and unit is None:
        parsed = parsed_quantity(doc.text[quantity.start : quantity.end], doc.lang)
        value, unit, qualifier = parsed.get("value"), parsed.get("unit"), parsed.get("qualifier")
    nearby = nearby_spans(session, doc, layer, quantity, claim)
    links = {key: getattr(claim, key) for key in CLAIM_LINKS} if claim else guess_links(nearby, quantity, labels)
    modifiers = list(claim.modifiers) if claim else guess_modifiers(quantity, parsed, qualifier)
    return {
        "claim": claim,
        "quantity": quantity,
        "quantity_text": doc.text[quantity.start : quantity.end],
        "value": "" if value is None else _number(value),
        "unit": unit or "",
        "qualifier": qualifier or "",
        "nearby": nearby,
        "links": links,
        "modifiers": modifiers,
        "property_text": (claim.property_text if claim else "") or "",
        "units": sorted(canonical_units()),
        "qualifiers": labels.qualifiers,
        "all_modifiers": labels.modifiers,
        "preferred": preferred(labels),
    }


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def nearby_spans(session: Session, doc: Document, layer: Layer, quantity: Span, claim: Claim | None) -> list[dict]:
    """Spans of the layer within a couple of blocks of the quantity (plus any already linked),
    nearest first: the form's choices stay short in a long document."""
    bounds = text_blocks(doc.text)
    index = next(i for i, (s, e) in enumerate(bounds) if s <= quantity.start < e)
    lo, hi = bounds[max(0, index - NEARBY_BLOCKS)][0], bounds[min(len(bounds) - 1, index + NEARBY_BLOCKS)][1]
    linked = {getattr(claim, key) for key in CLAIM_LINKS if claim and getattr(claim, key)}
    rows = (
        session.exec(
            select(Span).where(
                Span.layer_id == layer.id,
                Span.id != quantity.id,
                ((Span.start < hi) & (Span.end > lo)) | Span.id.in_(linked or {-1}),
            )
        )
        .scalars()
        .all()
    )
    same = bounds[index]
    sentence = sentence_around(doc.text, same, quantity.start, quantity.end)
    out = [
        {
            "id": s.id,
            "label": s.label,
            "start": s.start,
            "text": excerpt(doc.text[s.start : s.end], 50),
            "same_block": same[0] <= s.start < same[1],
            "same_sentence": sentence[0] <= s.start and s.end <= sentence[1],
            "distance": max(quantity.start - s.end, s.start - quantity.end, 0),
        }
        for s in rows
    ]
    return sorted(out, key=lambda s: (s["distance"], s["label"]))


SENTENCE_END = re.compile(r"[.!?…。！？](?=[\s\"'”’)\]]|$)")


def sentence_around(text: str, block: tuple[int, int], start: int, end: int) -> tuple[int, int]:
    """[start, end) of the sentence holding [start, end), within its block: a sentence ends at
    . ! ? before a space or the block's end (a decimal point is followed by a digit)."""
    lo, hi = block
    ends = [m.end() for m in SENTENCE_END.finditer(text, lo, hi)]
    before = [e for e in ends if e <= start]
    after = [e for e in ends if e >= end]
    return (before[-1] if before else lo), (after[0] if after else hi)


def guess_links(nearby: list[dict], quantity: Span, labels: LabelConfig) -> dict:
    """Pre-selections for a new claim, only from the quantity's own paragraph: the nearest
    property and condition spans, and as the measured entity the nearest fitting span of the
    quantity's own sentence, before it if there is one (an entity usually precedes its number:
    "the SC11 FP300 has 256 GB"); from another sentence the guess is wrong more often than not."""
    wanted = preferred(labels)
    parts = {v for v in wanted.values() if v} | {labels.quantity_label}
    same = [s for s in nearby if s["same_block"]]
    links = dict.fromkeys(CLAIM_LINKS)
    for key in GUESSED:
        links[key] = next((s["id"] for s in same if wanted[key] and s["label"] == wanted[key]), None)
    fitting = [s for s in same if s["same_sentence"] and s["label"] not in parts]
    before = [s for s in fitting if s["start"] < quantity.start]
    if before or fitting:
        links["entity_id"] = min(before or fitting, key=lambda s: s["distance"])["id"]
    return links


def guess_modifiers(quantity: Span, parsed: dict, qualifier: str | None) -> list[str]:
    out = []
    if qualifier == "approx":
        out.append("IsApproximate")
    if (quantity.value_max if quantity.value_max is not None else parsed.get("value_max")) is not None:
        out.append("IsRange")
    if (quantity.tolerance if quantity.tolerance is not None else parsed.get("tolerance")) is not None:
        out.append("HasTolerance")
    return out


def claim_fields(form) -> dict:
    """The claim form as the service wants it."""
    fields = {
        "quantity_id": whole(form.get("quantity_id", "")),
        "value": form.get("value", ""),
        "unit": form.get("unit", ""),
        "qualifier": form.get("qualifier", "") or None,
        "property_text": form.get("property_text", ""),
        "modifiers": form.getlist("modifiers"),
    }
    for key in CLAIM_LINKS:
        fields[key] = optional_id(form.get(key))
    return fields
