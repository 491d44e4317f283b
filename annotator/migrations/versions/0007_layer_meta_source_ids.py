"""a layer remembers where its contents came from; a document's own id from its file is a column

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00.000000

layer.meta keeps, for instance, the brat files (annotation sets) a layer was imported from,
empty ones included, so an export gives them back. document.source_id is the id a record
brought (it was kept in document.meta["source_id"]): unique in a project, so `show` and the
layer route can be asked for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

documents = sa.table(
    "document", sa.column("id", sa.Integer), sa.column("meta", sa.JSON), sa.column("source_id", sa.String)
)


def upgrade() -> None:
    with op.batch_alter_table("layer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meta", sa.JSON(), nullable=True))
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    conn = op.get_bind()
    seen: set[str] = set()
    for doc_id, meta in conn.execute(sa.select(documents.c.id, documents.c.meta).order_by(documents.c.id)).all():
        source_id = (meta or {}).get("source_id")
        if not isinstance(source_id, str) or source_id in seen or len(source_id) > 200:
            continue  # an earlier document has it: the first keeps it (ids are unique from now on)
        seen.add(source_id)
        rest = {k: v for k, v in meta.items() if k != "source_id"}
        conn.execute(documents.update().where(documents.c.id == doc_id).values(source_id=source_id, meta=rest))
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index("ix_document_source_id", ["source_id"], unique=True)


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(documents.c.id, documents.c.meta, documents.c.source_id).where(documents.c.source_id.is_not(None))
    ).all()
    for doc_id, meta, source_id in rows:
        conn.execute(
            documents.update().where(documents.c.id == doc_id).values(meta={**(meta or {}), "source_id": source_id})
        )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_source_id")
        batch_op.drop_column("source_id")
    with op.batch_alter_table("layer", schema=None) as batch_op:
        batch_op.drop_column("meta")
