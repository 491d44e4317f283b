"""The label configuration: a project's own scheme, every name in it chosen by the project.

Entity labels (colour, hotkey), relation labels with the head/child labels they allow,
attributes (kept from other tools' files), quantity qualifiers, claim modifiers, which labels
and relations make up a numeric claim (`claims`), and how a trained model's labels map onto
ours. The default file serves the seed domain; a project supplies its own through
ANNOTATOR_LABELS_FILE. docs/labels.md describes every field; `annotator labels check FILE`
names the field of each problem.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from annotator.unit_table import qualifier_codes

TOP_LEVEL = (
    "name",
    "version",
    "description",
    "entities",
    "relations",
    "attributes",
    "qualifiers",
    "modifiers",
    "claims",
    "quantity_label",
    "model_labels",
)
ENTITY_FIELDS = ("label", "color", "hotkey", "description")
RELATION_FIELDS = ("label", "pairs", "description")
# The parts of a claim, each a span of its layer (or, for the property, a text); a
# configuration's `claims` names the label of each. The claim table has a column per part.
CLAIM_ROLES = ("quantity", "entity", "property", "condition", "time", "source")
# The relations that tie a claim's parts to its quantity, as other tools (MeasEval, brat) draw them.
CLAIM_RELATIONS = ("has_quantity", "has_property", "qualifies")
CLAIM_FIELDS = (*CLAIM_ROLES, *CLAIM_RELATIONS, "modifier_attribute")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class LabelConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ClaimScheme:
    """Which labels and relations make up a claim: the label of the quantity span and of
    each part's span (the label a part gets when a format names only its role), the
    relations linking parts to the quantity, and the attribute that carries modifiers as its
    value (None: a claim modifier is a binary attribute of its own name)."""

    quantity: str | None = None
    entity: str | None = None
    property: str | None = None
    condition: str | None = None
    time: str | None = None
    source: str | None = None
    has_quantity: str | None = None
    has_property: str | None = None
    qualifies: str | None = None
    modifier_attribute: str | None = None

    def role_label(self, role: str) -> str | None:
        return getattr(self, role)


@dataclass(frozen=True)
class LabelConfig:
    raw: dict
    path: str
    entities: dict[str, dict] = field(default_factory=dict)
    relations: dict[str, dict] = field(default_factory=dict)
    claims: ClaimScheme = field(default_factory=ClaimScheme)

    @property
    def entity_labels(self) -> list[str]:
        return list(self.entities)

    @property
    def relation_labels(self) -> list[str]:
        return list(self.relations)

    @property
    def attributes(self) -> list[str]:
        return self.raw.get("attributes", [])

    @property
    def model_labels(self) -> dict[str, str | None]:
        return self.raw.get("model_labels", {})

    @property
    def qualifiers(self) -> list[str]:
        return self.raw.get("qualifiers", [])

    @property
    def modifiers(self) -> list[str]:
        return self.raw.get("modifiers", [])

    @property
    def quantity_label(self) -> str | None:
        """The label of quantity spans (None: the scheme has no numeric claims)."""
        return self.claims.quantity

    def colour(self, label: str) -> str:
        return self.entities.get(label, {}).get("color", "#d0d0d0")

    def relation_allowed(self, label: str, head: str, child: str) -> bool:
        rule = self.relations.get(label)
        return bool(rule) and [head, child] in rule["pairs"]

    def relations_for(self, head: str, child: str) -> list[str]:
        """Relation labels allowed from a `head` span to a `child` span."""
        return [name for name, rule in self.relations.items() if [head, child] in rule["pairs"]]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(orjson.dumps(self.raw, option=orjson.OPT_SORT_KEYS)).hexdigest()


def load_label_config(path: str | Path) -> LabelConfig:
    path = Path(path)
    try:
        raw = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise LabelConfigError(f"{path}: cannot read label configuration: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise LabelConfigError(f"{path}: not valid JSON: {exc}") from exc
    return parse_label_config(raw, str(path))


def parse_label_config(raw, path: str = "<memory>") -> LabelConfig:
    problems = config_problems(raw)
    if problems:
        raise LabelConfigError(f"{path}: " + "; ".join(problems))
    entities = {item["label"]: item for item in raw["entities"]}
    relations = {item["label"]: item for item in raw.get("relations", [])}
    return LabelConfig(raw=raw, path=path, entities=entities, relations=relations, claims=_claim_scheme(raw))


def _claim_scheme(raw: dict) -> ClaimScheme:
    given = dict(raw.get("claims") or {})
    if "quantity" not in given and "quantity_label" in raw:  # the older files' one claim field
        given["quantity"] = raw["quantity_label"]
    return ClaimScheme(**given)


# --- checking a configuration -------------------------------------------------------------------
# Each problem names its field as a path into the file ("entities[3].hotkey"), so a person
# can find it; every problem is listed, not just the first.


def config_problems(raw) -> list[str]:
    if not isinstance(raw, dict):
        return ["the configuration must be a JSON object"]
    problems = [f"{key}: unknown field (known: {', '.join(TOP_LEVEL)})" for key in raw if key not in TOP_LEVEL]
    entities = _entity_problems(raw.get("entities"), problems)
    relations = _relation_problems(raw.get("relations", []), entities, problems)
    _name_list(raw, "attributes", problems)
    _name_list(raw, "modifiers", problems)
    known = qualifier_codes()
    for i, code in enumerate(_name_list(raw, "qualifiers", problems)):
        if code not in known:
            problems.append(f"qualifiers[{i}]: {code!r} is not a qualifier the normaliser knows ({', '.join(known)})")
    _claim_problems(raw, entities, relations, problems)
    _model_label_problems(raw.get("model_labels", {}), entities, problems)
    return problems


def _entity_problems(items, problems: list[str]) -> set[str]:
    if not isinstance(items, list) or not items:
        problems.append('entities: must be a non-empty list of {"label": ...} objects')
        return set()
    labels, hotkeys = set(), {}
    for i, item in enumerate(items):
        at = f"entities[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: must be an object with a 'label'")
            continue
        problems += [
            f"{at}.{key}: unknown field (known: {', '.join(ENTITY_FIELDS)})" for key in item if key not in ENTITY_FIELDS
        ]
        label = item.get("label")
        if not isinstance(label, str) or not label.strip() or label != label.strip():
            problems.append(f"{at}.label: must be a non-empty name without surrounding spaces")
        elif label in labels:
            problems.append(f"{at}.label: {label!r} is repeated")
        else:
            labels.add(label)
        colour, key = item.get("color"), item.get("hotkey")
        if colour is not None and not (isinstance(colour, str) and _COLOUR.match(colour)):
            problems.append(f'{at}.color: {colour!r} is not a colour like "#7aa6ff"')
        if key is not None and (not isinstance(key, str) or len(key) != 1):
            problems.append(f"{at}.hotkey: {key!r} must be one key")
        elif key is not None and key in hotkeys:
            problems.append(f"{at}.hotkey: {key!r} is already the hotkey of {hotkeys[key]}")
        elif key is not None:
            hotkeys[key] = label
    return labels


def _relation_problems(items, entities: set[str], problems: list[str]) -> set[str]:
    if not isinstance(items, list):
        problems.append('relations: must be a list of {"label": ..., "pairs": [[head, child], ...]} objects')
        return set()
    names = set()
    for i, item in enumerate(items):
        at = f"relations[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: must be an object with 'label' and 'pairs'")
            continue
        problems += [
            f"{at}.{key}: unknown field (known: {', '.join(RELATION_FIELDS)})"
            for key in item
            if key not in RELATION_FIELDS
        ]
        label = item.get("label")
        if not isinstance(label, str) or not label.strip() or label != label.strip():
            problems.append(f"{at}.label: must be a non-empty name without surrounding spaces")
        elif label in names:
            problems.append(f"{at}.label: {label!r} is repeated")
        else:
            names.add(label)
        pairs = item.get("pairs")
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            problems.append(f"{at}.pairs: must be a list of [head label, child label] pairs")
            continue
        for j, pair in enumerate(pairs):
            problems += [
                f"{at}.pairs[{j}]: {name!r} is not an entity label" for name in pair if not _names(name, entities)
            ]
    return names


def _listed(value) -> list:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _names(value, known: set[str]) -> bool:
    """Whether `value` is one of the `known` names (a list or number in its place is not)."""
    return isinstance(value, str) and value in known


def _name_list(raw: dict, key: str, problems: list[str]) -> list:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{key}: must be a list of names")
        return []
    problems += [f"{key}: {name!r} is repeated" for name in sorted({v for v in value if value.count(v) > 1})]
    return value


def _claim_problems(raw: dict, entities: set[str], relations: set[str], problems: list[str]) -> None:
    claims = raw.get("claims", {})
    if not isinstance(claims, dict):
        problems.append("claims: must be an object (see docs/labels.md)")
        return
    quantity = raw.get("quantity_label")
    if quantity is not None and (not _names(quantity, entities) or claims.get("quantity", quantity) != quantity):
        problems.append(f"quantity_label: {quantity!r} must be an entity label, and claims.quantity if both are given")
    for key, value in claims.items():
        at = f"claims.{key}"
        if key not in CLAIM_FIELDS:
            problems.append(f"{at}: unknown field (known: {', '.join(CLAIM_FIELDS)})")
        elif value is None:
            continue
        elif not isinstance(value, str):
            problems.append(f"{at}: must be a label name (or null), not {value!r}")
        elif key in CLAIM_ROLES and value not in entities:
            problems.append(f"{at}: {value!r} is not an entity label")
        elif key in CLAIM_RELATIONS and value not in relations:
            problems.append(f"{at}: {value!r} is not a relation label")
        elif key == "modifier_attribute" and not _names(value, set(_listed(raw.get("attributes")))):
            problems.append(f"{at}: {value!r} must be one of the 'attributes'")


def _model_label_problems(mapping, entities: set[str], problems: list[str]) -> None:
    if not isinstance(mapping, dict):
        problems.append("model_labels: must map the model's labels to ours (or to null)")
        return
    for name, ours in mapping.items():
        if ours is not None and not _names(ours, entities):
            problems.append(f"model_labels.{name}: {ours!r} is not an entity label (null leaves it out)")
