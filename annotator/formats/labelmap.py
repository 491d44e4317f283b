"""Foreign label names -> the project's, and the names nobody knows.

A label map (`--label-map MAP.json`) renames the entity types, relation types and attribute
names of another tool's files:

    {"entities": {"Organization": "ORG"}, "relations": {"Employer": "WORKS_FOR"},
     "attributes": {"Negation": "Negated"}}

A name is known when the map names it or the label configuration has it (attributes: the
configuration's optional "attributes" list and its claim modifiers). Readers report every
name they could not place to an Unknowns collector; the import lists them all at once and
stores nothing, so one run shows the whole map that is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from annotator.labels import LabelConfig
from annotator.problems import Problem

KINDS = ("entities", "relations", "attributes")
# Relation labels the importers make themselves; they are not for annotators to choose,
# so they need no entry in the label configuration.
FRAGMENT = "FRAGMENT"
STRUCTURAL_RELATIONS = frozenset({FRAGMENT})


Where = tuple[str, "int | None"]  # (file, line)


class LabelMapError(ValueError):
    pass


@dataclass
class LabelMap:
    entities: dict[str, str] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)

    def over(self, defaults: LabelMap) -> LabelMap:
        """This map, falling back to `defaults` for names it does not mention."""
        return LabelMap(*({**getattr(defaults, k), **getattr(self, k)} for k in KINDS))

    def entity(self, name: str) -> str:
        return self.entities.get(name, name)

    def relation(self, name: str) -> str:
        return self.relations.get(name, name)

    def attribute(self, name: str) -> str:
        return self.attributes.get(name, name)


def load_label_map(path: str | Path | None, labels: LabelConfig) -> LabelMap:
    """Read and check a map file: three objects of strings, targets known to the configuration."""
    if path is None:
        return LabelMap()
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise LabelMapError(f"{path}: cannot read the label map: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise LabelMapError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) - set(KINDS):
        raise LabelMapError(f"{path}: expected an object with {', '.join(KINDS)} (each foreign name -> ours)")
    problems = []
    for kind in KINDS:
        part = raw.get(kind, {})
        if not isinstance(part, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in part.items()
        ):
            problems.append(f"'{kind}' must map names to non-empty names")
    if problems:
        raise LabelMapError(f"{path}: " + "; ".join(problems))
    found = LabelMap(*(dict(raw.get(k, {})) for k in KINDS))
    bad = [f"entity {v!r}" for v in found.entities.values() if v not in labels.entities]
    bad += [
        f"relation {v!r}"
        for v in found.relations.values()
        if v not in labels.relations and v not in STRUCTURAL_RELATIONS
    ]
    if bad:
        raise LabelMapError(
            f"{path}: the map points to labels the label configuration ({labels.path}) "
            f"does not have: {', '.join(sorted(set(bad)))}"
        )
    return found


def known_attributes(labels: LabelConfig) -> set[str]:
    return set(labels.raw.get("attributes", [])) | set(labels.modifiers)


class Unknowns:
    """Names no map or configuration knows, each with where it was first seen."""

    def __init__(self, labels: LabelConfig, label_map: LabelMap):
        self.labels, self.map = labels, label_map
        self.attributes = known_attributes(labels)
        self.seen: dict[tuple[str, str, str], list] = {}

    def _note(self, kind: str, name: str, label: str, where: Where) -> None:
        entry = self.seen.setdefault((kind, name, label), [where, 0])
        entry[1] += 1

    def entity(self, name: str, where: Where) -> str:
        label = self.map.entity(name)
        if label not in self.labels.entities:
            self._note("entity type", name, label, where)
        return label

    def relation(self, name: str, where: Where) -> str:
        label = self.map.relation(name)
        if label not in self.labels.relations and label not in STRUCTURAL_RELATIONS:
            self._note("relation type", name, label, where)
        return label

    def attribute(self, name: str, where: Where) -> str:
        if name in self.map.attributes:
            return self.map.attributes[name]
        if name not in self.attributes:
            self._note("attribute", name, name, where)
        return name

    def problems(self) -> list[Problem]:
        """One per unknown name (where first seen, how often), sorted by kind and name."""
        out = []
        for (kind, name, label), ((path, line), count) in sorted(self.seen.items()):
            what = f"{kind} {name!r}" + (f" (mapped to {label!r})" if label != name else "")
            out.append(
                Problem(
                    path,
                    line,
                    f"unknown {what}, {count} time{'s' * (count != 1)} in this import: "
                    f"map it with --label-map MAP.json or add it to the label configuration "
                    f"({self.labels.path})",
                )
            )
        return out
