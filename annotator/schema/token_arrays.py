"""A document's exported token array, made and validated once, when its tokens are stored.

Tokens are most of an exported record (~450 {"start", "end"} objects next to ~50 spans) and
never change once stored. Building those objects, validating them and serialising them on
every export was about half of an export's work, for the same bytes each time. So the array
is made once: from the stored tokens, checked against the text, validated against the record
schema's own definition of the field (`#/properties/tokens`, compiled from the same file)
and serialised exactly as a record's serialisation writes it. It is kept beside the document
with a seal: the SHA-256 of the schema it was validated against, the packed tokens it was
made from and its bytes.

An export still validates every record in full, in two parts that together are the whole
schema: the record with an empty token array against the whole schema (every other field,
the required keys, no extra keys), and the array itself, validated when it was made. That
split is exact only because the schema's top level constrains each field on its own (no
keyword there relates one field to another): `can_split` checks this on the schema, and
without it no kept array is used. Every export checks the seal, which also binds the length
of the text the offsets were checked against when the array was made: while it holds, the
offsets are known to fit the text; an array made from other tokens, for a text of another
length, under another schema, or altered since is refused, and that record's offsets are
checked and its tokens built and validated in full as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

import orjson
from sqlalchemy import delete, insert, or_, select

from annotator.models import Document, TokenArray
from annotator.schema import load_schema, schema_sha256
from annotator.tokens import token_dicts

TOKENS_POINTER = "#/properties/tokens"
# Top-level keywords that constrain each property separately (or nothing at all).
PER_FIELD_KEYWORDS = {
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "$defs",
    "type",
    "required",
    "properties",
    "additionalProperties",
}
FILL_BATCH = 500
SEAL_FORMAT = "2"  # 2: the seal binds the text length too (migration 0006 drops older arrays)


class StoredTokensError(ValueError):
    """A document's stored token offsets do not fit its text."""


@lru_cache(maxsize=1)
def tokens_validator():
    """The compiled validator of the record schema's token array (its $refs resolved in the
    whole schema, so it is the very definition a record's tokens are held to)."""
    return _tokens_validator(load_schema())


def _tokens_validator(schema: dict):
    import jsonschema_rs

    return jsonschema_rs.validator_map_for(schema)[TOKENS_POINTER]


def splits(schema: dict) -> bool:
    """Whether, under this schema, validating a record with an empty token array and then
    its token array on its own is exactly validating the whole record: the top level says
    nothing that ties one field to another, and an empty array is a valid one."""
    return (
        set(schema) <= PER_FIELD_KEYWORDS
        and schema.get("type") == "object"
        and "tokens" in schema.get("properties", {})
        and _tokens_validator(schema).is_valid([])
    )


@lru_cache(maxsize=1)
def can_split() -> bool:
    return splits(load_schema())


def checked_count(packed: bytes | None, length: int, uid: str) -> int:
    """How many tokens the packed offsets hold, refusing any that is empty or outside the
    text (StoredTokensError); whole-array comparisons, ~10 times faster than a Python pass."""
    import numpy as np  # ~0.1 s: a command that never checks token arrays (stats, users) skips it

    try:
        pairs = np.frombuffer(packed or b"", dtype=np.uint32).reshape(-1, 2)  # unsigned: none negative
    except ValueError:  # not a whole number of (start, end) pairs
        pairs = None
    if pairs is None or not (pairs[:, 0] < pairs[:, 1]).all() or (len(pairs) and pairs[:, 1].max() > length):
        raise StoredTokensError(
            f"record {uid}: stored token offsets outside the text (length {length}), empty or unpaired"
        )
    return len(pairs)


def seal(packed: bytes, data: bytes, length: int) -> str:
    """Binds an array to the schema it passed, to the tokens it was made from and to the
    length of the text those tokens were checked against."""
    digest = hashlib.sha256(f"{schema_sha256()}:{SEAL_FORMAT}:{length}:{len(packed)}:".encode())
    digest.update(packed)
    digest.update(data)
    return digest.hexdigest()


def make_array(text: str, packed: bytes, uid: str = "") -> bytes:
    """The token array as a record carries it, checked and validated (StoredTokensError or
    ValueError if the tokens do not fit the text or the array not the schema)."""
    checked_count(packed, len(text), uid)
    tokens = token_dicts(packed)
    if not tokens_validator().is_valid(tokens):
        raise ValueError(f"record {uid}: token array does not match the schema")
    return orjson.dumps(tokens, option=orjson.OPT_SORT_KEYS)


class SealedArray:
    """A record's tokens as a kept, validated array: serialised by splicing its bytes
    (orjson's Fragment), read as token objects only by a writer that needs them."""

    __slots__ = ("data", "count")

    def __init__(self, data: bytes, count: int):
        self.data, self.count = data, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict]:
        return iter(orjson.loads(self.data))

    def __eq__(self, other) -> bool:
        return list(self) == list(other)


def as_fragment(value):
    """orjson's hook for types it does not know: a sealed array goes in as its bytes."""
    if isinstance(value, SealedArray):
        return orjson.Fragment(value.data)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def export_tokens(doc, packed: bytes) -> SealedArray | list[dict]:
    """A record's tokens for an export, from the document's packed tokens. `doc` has text
    and uid, and the kept array's seal and data (None when there is none).

    The kept array is used while its seal holds: it was made from exactly these offsets,
    checked then against a text of this length (the text of a document never changes).
    Otherwise the offsets are checked here (StoredTokensError) and the token objects built,
    and the record is validated with them in full.
    """
    if doc.data is not None and can_split() and doc.seal == seal(packed, doc.data, len(doc.text)):
        return SealedArray(doc.data, len(packed) // 8)  # 8 bytes a token: two uint32
    checked_count(packed, len(doc.text), doc.uid)
    return token_dicts(packed)


# --- keeping arrays ---------------------------------------------------------------------------


class Tokenized(NamedTuple):
    """A document as its tokens were stored: what its array is made from."""

    id: int
    uid: str
    text: str
    tokens: bytes | None


def array_rows(docs) -> list[dict]:
    """TokenArray rows for documents (with id, uid, text and packed tokens); a document
    whose tokens do not fit its text gets none (its export refuses it, naming it)."""
    rows = []
    for doc in docs:
        try:
            data = make_array(doc.text, doc.tokens, doc.uid)
        except ValueError:
            continue
        rows.append(
            {
                "document_id": doc.id,
                "schema_sha256": schema_sha256(),
                "seal": seal(doc.tokens, data, len(doc.text)),
                "data": data,
            }
        )
    return rows


def keep_arrays(conn, docs) -> int:
    """Make and store the arrays of these documents (with id, uid, text and packed tokens;
    those without tokens are skipped), replacing any they had, in the transaction that
    stores their tokens; how many were stored."""
    docs = [d for d in docs if d.tokens is not None]
    if not docs:
        return 0
    table = TokenArray.__table__
    conn.execute(delete(table).where(table.c.document_id.in_([d.id for d in docs])))
    rows = array_rows(docs)
    if rows:
        conn.execute(insert(table), rows)
    return len(rows)


def fill_token_arrays(db, batch: int = FILL_BATCH) -> int:
    """Arrays for documents that have tokens but no array made under the current schema
    (stored before arrays were kept, tokenized one at a time in the workspace, or after a
    schema change). Runs before an export, so the export itself stays a read."""
    done, after = 0, 0
    table = TokenArray.__table__
    while True:
        query = (
            select(Document.id, Document.uid, Document.text, Document.tokens)
            .outerjoin(table, table.c.document_id == Document.id)
            .where(
                Document.tokens.is_not(None),
                Document.id > after,
                or_(table.c.document_id.is_(None), table.c.schema_sha256 != schema_sha256()),
            )
            .order_by(Document.id)
            .limit(batch)
        )
        with db.reading() as session:
            docs = session.connection().execute(query).all()
        if not docs:
            return done
        with db.writing() as session:
            done += keep_arrays(session.connection(), docs)
        after = docs[-1].id
