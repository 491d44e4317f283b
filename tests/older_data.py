"""Documents as an older version left them: imported without the pipeline, their language and
tokens waiting for first use. Imports now detect the language as they store a document
(settling it later would index its text twice), but projects from before hold such
documents, and first use must still settle them."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from annotator.db import get_db
from annotator.ingest.first_use import reparse_quantities
from annotator.models import Document, TokenArray
from annotator.nlp.language import PENDING, UNDETERMINED_ISO
from annotator.project import labels_of


def as_an_older_version_left(app) -> int:
    """Every document whose language was detected waits again: language undetermined, no
    tokens nor token arrays, its imported quantities read without knowing the language (as
    such an import read them). Returns how many."""
    with get_db(app).writing() as s:
        conn = s.connection()
        ids = list(conn.execute(select(Document.id).where(Document.lang_source == "detected")).scalars())
        if not ids:
            return 0
        conn.execute(
            update(Document).where(Document.id.in_(ids)).values(lang=UNDETERMINED_ISO, lang_source=PENDING, tokens=None)
        )
        conn.execute(delete(TokenArray).where(TokenArray.document_id.in_(ids)))
        reparse_quantities(conn, dict.fromkeys(ids, UNDETERMINED_ISO), labels_of(app).quantity_label)
    return len(ids)
