"""Relations between spans and numeric claims built on QUANTITY spans."""

from __future__ import annotations

import math
import re

from sqlalchemy import select
from sqlmodel import Session

from annotator.annotate.changes import ChangeSet
from annotator.annotate.spans import Outcome, current_layer, forget_link_decisions, span_in_layer
from annotator.labels import LabelConfig
from annotator.layers import AnnotationError, claim_version, record
from annotator.models import CLAIM_LINKS, Claim, Document, Relation
from annotator.nlp.units import canonical_units

PROPERTY_TEXT_MAX = Claim.__table__.c.property_text.type.length  # the column's width (PostgreSQL enforces it)


# --- relations ------------------------------------------------------------------------------


def add_relation(
    session: Session, labels: LabelConfig, doc: Document, name: str, user: str, seen: int, head_id, child_id, label
) -> Outcome:
    layer_before = current_layer(session, doc, name)
    head = span_in_layer(session, layer_before, head_id)
    child = span_in_layer(session, layer_before, child_id)
    if head.id == child.id:
        raise AnnotationError("a relation needs two different spans")
    if not labels.relation_allowed(label, head.label, child.label):
        allowed = labels.relations_for(head.label, child.label)
        raise AnnotationError(
            f"relation {label!r} is not allowed from {head.label} to {child.label}; "
            f"allowed: {', '.join(allowed) or 'none'}"
        )
    duplicate = session.exec(
        select(Relation.id).where(
            Relation.layer_id == layer_before.id,
            Relation.head_id == head.id,
            Relation.child_id == child.id,
            Relation.label == label,
        )
    ).first()
    if duplicate:
        raise AnnotationError("this relation already exists")
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    rel_id = changes.insert(
        "relation", {"layer_id": layer.id, "head_id": head.id, "child_id": child.id, "label": label, "meta": {}}
    )
    record(
        session,
        layer,
        user,
        "add_relation",
        changes,
        target=f"relation:{rel_id}",
        after={"head": doc.text[head.start : head.end], "label": label, "child": doc.text[child.start : child.end]},
    )
    return Outcome(layer, [rel_id])


def delete_relation(session: Session, doc: Document, name: str, user: str, seen: int, relation_id) -> Outcome:
    layer_before = current_layer(session, doc, name)
    rel = session.get(Relation, relation_id) if isinstance(relation_id, int) else None
    if rel is None or layer_before is None or rel.layer_id != layer_before.id:
        raise AnnotationError(f"relation {relation_id!r} is not in this layer of this document")
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    forget_link_decisions(session, changes, relations=[rel.id])
    changes.delete("relation", rel.id)
    record(session, layer, user, "delete_relation", changes, target=f"relation:{rel.id}", before={"label": rel.label})
    return Outcome(layer, [rel.id])


# --- claims ---------------------------------------------------------------------------------


# A number as the claim form writes it: ASCII digits, a point for decimals, and commas only
# as thousands separators ("1,234.5"); "1,2,3" is not 123 and "١٢" is not 12.
FORM_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,3})?|[+-]?\.[0-9]+")


def check_value(raw) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise AnnotationError(f"value {raw!r} is not a number")
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif FORM_NUMBER.fullmatch(str(raw).strip()):
        value = float(str(raw).strip().replace(",", ""))
    else:
        raise AnnotationError(
            f"value {raw!r} is not a number as the form writes one (digits, a point for decimals, "
            "commas only between thousands: 1,234.5)"
        )
    if not math.isfinite(value):
        raise AnnotationError(f"value {raw!r} is not a finite number")
    return value


def check_unit(raw) -> tuple[str | None, bool]:
    """(unit, canonical?): a unit of the table, or free text that is kept but flagged."""
    if raw is None or str(raw).strip() == "":
        return None, True
    unit = str(raw).strip()
    if len(unit) > 64:
        raise AnnotationError("unit is too long (64 characters at most)")
    return unit, unit in canonical_units()


def save_claim(
    session: Session, labels: LabelConfig, doc: Document, name: str, user: str, seen: int, form: dict, claim_id=None
) -> Outcome:
    """Create (claim_id None) or replace a claim from a form's fields, all checked first."""
    layer_before = current_layer(session, doc, name)
    existing = None
    if claim_id is not None:
        existing = session.get(Claim, claim_id) if isinstance(claim_id, int) else None
        if existing is None or layer_before is None or existing.layer_id != layer_before.id:
            raise AnnotationError(f"claim {claim_id!r} is not in this layer of this document")
    quantity = span_in_layer(session, layer_before, form.get("quantity_id"))
    if quantity.label != labels.quantity_label:
        raise AnnotationError(f"a claim is built on a {labels.quantity_label} span, not on {quantity.label}")
    other = session.exec(select(Claim.id).where(Claim.quantity_id == quantity.id)).scalars().first()
    if other is not None and (existing is None or other != existing.id):
        raise AnnotationError("this quantity carries a claim already: edit that claim instead of adding a second")
    links = {
        key: (span_in_layer(session, layer_before, form[key]).id if form.get(key) is not None else None)
        for key in CLAIM_LINKS
    }
    if links["property_id"] and form.get("property_text"):
        raise AnnotationError("give the measured property as a span or as text, not both")
    modifiers = form.get("modifiers") or []
    unknown = [m for m in modifiers if m not in labels.modifiers]
    if not isinstance(modifiers, list) or unknown:
        raise AnnotationError(f"unknown modifiers {unknown}; known: {', '.join(labels.modifiers)}")
    qualifier = form.get("qualifier") or None
    if qualifier is not None and qualifier not in labels.qualifiers:
        raise AnnotationError(f"unknown qualifier {qualifier!r}; known: {', '.join(labels.qualifiers)}")
    value = check_value(form.get("value"))
    unit, canonical = check_unit(form.get("unit"))
    prop_text = (form.get("property_text") or "").strip() or None
    if prop_text and len(prop_text) > PROPERTY_TEXT_MAX:
        raise AnnotationError(f"the measured property as text: {PROPERTY_TEXT_MAX} characters at most")
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    meta = dict(quantity.meta or {})
    meta.pop("unit_noncanonical", None)
    if unit and not canonical:
        meta["unit_noncanonical"] = True
    changes.update("span", quantity.id, value=value, unit=unit, qualifier=qualifier, meta=meta)
    values = {**links, "quantity_id": quantity.id, "property_text": prop_text, "modifiers": sorted(set(modifiers))}
    if existing:
        changes.update("claim", existing.id, **values)
        target = existing.id
    else:
        target = changes.insert("claim", {**values, "layer_id": layer.id, "meta": {}})
    record(
        session,
        layer,
        user,
        "edit_claim" if existing else "add_claim",
        changes,
        target=f"claim:{target}",
        after={"quantity": doc.text[quantity.start : quantity.end], "value": value, "unit": unit},
    )
    message = "" if canonical else f"unit {unit!r} is not in the unit table: kept as written and flagged"
    return Outcome(layer, [target], message)


def delete_claim(session: Session, doc: Document, name: str, user: str, seen: int, claim_id) -> Outcome:
    layer_before = current_layer(session, doc, name)
    claim = session.get(Claim, claim_id) if isinstance(claim_id, int) else None
    if claim is None or layer_before is None or claim.layer_id != layer_before.id:
        raise AnnotationError(f"claim {claim_id!r} is not in this layer of this document")
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    forget_link_decisions(session, changes, claims=[claim.id])
    changes.delete("claim", claim.id)
    record(session, layer, user, "delete_claim", changes, target=f"claim:{claim.id}")
    return Outcome(layer, [claim.id])
