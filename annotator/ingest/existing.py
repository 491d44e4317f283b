"""What a layer already holds: compared with an import's contents, kept when replaced.

An import that meets a layer someone has written compares fingerprints (the same contents
again are skipped, an empty document's too); `--replace` keeps the old contents, in the
record's shape, in the audit event before clearing the layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update

from annotator.contents import Contents, load_contents
from annotator.models import AuditEvent, Claim, Relation, Span, SuggestionDecision
from annotator.schema.build import contents_json


@dataclass
class Held:
    """A layer's contents as an import meets them, and what it keeps of where they came from."""

    contents: Contents
    meta: dict | None = None

    @property
    def fingerprint(self) -> bytes:
        return self.contents.fingerprint(self.meta or None)

    def record(self, quantity_label: str | None) -> dict:
        """The contents as the export writes them (span texts left out: the document has them)."""
        out = contents_json("", self.contents, quantity_label)
        for span in out["spans"]:
            span.pop("text")
        if self.meta:
            out["layer_meta"] = self.meta
        return out


def held(conn, layers: dict[int, dict | None]) -> dict[int, Held]:
    """What each of these layers ({layer id: its meta}) holds, empty layers included."""
    return {
        layer_id: Held(contents, layers[layer_id]) for layer_id, contents in load_contents(conn, list(layers)).items()
    }


def clear(conn, layer_ids: list[int]) -> None:
    """Empty the layers being replaced, and end their undo history: an undo reaching back
    across an import would re-apply steps to annotations that are gone."""
    if not layer_ids:
        return
    for model in (Claim, Relation, SuggestionDecision, Span):
        conn.execute(delete(model.__table__).where(model.layer_id.in_(layer_ids)))
    conn.execute(
        update(AuditEvent.__table__)
        .where(AuditEvent.layer_id.in_(layer_ids), AuditEvent.state.in_(["applied", "undone"]))
        .values(state="discarded")
    )
