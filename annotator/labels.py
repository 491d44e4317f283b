"""The label configuration: entity labels (colour, hotkey), relation labels with the
head/child labels they allow, quantity qualifiers, claim modifiers, and how the trained
model's labels map onto ours. A project may supply its own file (ANNOTATOR_LABELS_FILE).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson


class LabelConfigError(ValueError):
    pass


@dataclass(frozen=True)
class LabelConfig:
    raw: dict
    path: str
    entities: dict[str, dict] = field(default_factory=dict)
    relations: dict[str, dict] = field(default_factory=dict)

    @property
    def entity_labels(self) -> list[str]:
        return list(self.entities)

    @property
    def relation_labels(self) -> list[str]:
        return list(self.relations)

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
    def quantity_label(self) -> str:
        return self.raw.get("quantity_label", "QUANTITY")

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


def parse_label_config(raw: dict, path: str = "<memory>") -> LabelConfig:
    if not isinstance(raw, dict) or not isinstance(raw.get("entities"), list) or not raw["entities"]:
        raise LabelConfigError(f"{path}: 'entities' must be a non-empty list")
    entities: dict[str, dict] = {}
    hotkeys: set[str] = set()
    for item in raw["entities"]:
        label = item.get("label") if isinstance(item, dict) else None
        if not isinstance(label, str) or not label or label in entities:
            raise LabelConfigError(f"{path}: entity label {label!r} is missing or repeated")
        key = item.get("hotkey")
        if key is not None and (key in hotkeys or len(key) != 1):
            raise LabelConfigError(f"{path}: hotkey {key!r} of {label} is repeated or not one key")
        hotkeys.add(key)
        entities[label] = item
    relations: dict[str, dict] = {}
    for item in raw.get("relations", []):
        label = item.get("label")
        pairs = item.get("pairs")
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise LabelConfigError(f"{path}: relation {label!r} needs 'pairs': [[head, child], ...]")
        unknown = [x for pair in pairs for x in pair if x not in entities]
        if not label or label in relations or unknown:
            raise LabelConfigError(f"{path}: relation {label!r} is repeated or names unknown labels {unknown}")
        relations[label] = item
    return LabelConfig(raw=raw, path=path, entities=entities, relations=relations)
