"""Store documents' suggestions with the claims and relations built on them, in bulk.

A row of a new document carries "suggestions" (span dicts) and, naming those by position,
"claims" and "relations". Ids are drawn up front (bulk.new_ids) so claims can name their
parts without reading anything back: three executemany statements however many documents.
"""

from __future__ import annotations

from annotator.ingest.bulk import insert_rows, json_text, new_ids
from annotator.models import QUANTITY_FIELDS, ClaimSuggestion, RelationSuggestion, Suggestion

SUGGESTION_COLUMNS = (
    "id",
    "document_id",
    "start",
    "end",
    "label",
    "origin",
    "pipeline",
    "pipeline_version",
    "score",
    *QUANTITY_FIELDS,
)
PROVENANCE = ("origin", "pipeline", "pipeline_version", "score")
PARTS = ("quantity", "entity", "property", "condition")
CLAIM_COLUMNS = ("document_id", *(f"{part}_id" for part in PARTS), "modifiers", *PROVENANCE)
RELATION_COLUMNS = ("document_id", "head_id", "child_id", "label", *PROVENANCE)


def _key(span: dict) -> tuple[int, int, str]:
    return (span["start"], span["end"], span["label"])


def insert_suggestions(conn, documents: list[tuple[int, dict]]) -> int:
    """Insert the suggestions, claims and relations of (document id, row) pairs; how many
    span suggestions went in.

    A row may carry "kept": {(start, end, label): id} of suggestions the document keeps (a
    re-suggest keeps what someone decided); a suggestion equal to one of those is not stored
    again but named by its id, and "kept_claims" / "kept_relations" (quantity ids; (head,
    child, label) ids) say which claims and relations it has already."""
    new = [[s for s in row["suggestions"] if _key(s) not in row.get("kept", {})] for _, row in documents]
    ids = iter(new_ids(conn, Suggestion.__table__, sum(map(len, new))))
    spans, claims, relations = [], [], []
    for doc_id, row in documents:
        kept = row.get("kept", {})
        own = [kept[_key(s)] if _key(s) in kept else next(ids) for s in row["suggestions"]]
        spans += [
            (sid, doc_id, *map(s.get, SUGGESTION_COLUMNS[2:]))
            for sid, s in zip(own, row["suggestions"])
            if _key(s) not in kept
        ]
        kept_claims, kept_relations = row.get("kept_claims", set()), row.get("kept_relations", set())
        for claim in row.get("claims", ()):
            parts = [own[claim[p]] if claim.get(p) is not None else None for p in PARTS]
            if parts[0] not in kept_claims:
                claims.append((doc_id, *parts, json_text(claim.get("modifiers") or []), *map(claim.get, PROVENANCE)))
        for rel in row.get("relations", ()):
            ends = (own[rel["head"]], own[rel["child"]], rel["label"])
            if ends not in kept_relations:
                relations.append((doc_id, *ends, *map(rel.get, PROVENANCE)))
    insert_rows(conn, Suggestion.__table__, SUGGESTION_COLUMNS, spans)
    insert_rows(conn, ClaimSuggestion.__table__, CLAIM_COLUMNS, claims)
    insert_rows(conn, RelationSuggestion.__table__, RELATION_COLUMNS, relations)
    return sum(map(len, new))
