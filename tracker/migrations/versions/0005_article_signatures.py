"""narrow article_signatures table for near-duplicate candidates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 18:40:00.000000

Comparing a new article with its LSH candidates needs their signatures and stories. Read from
``articles`` they cost a row read past the body (SQLite overflow pages: ~0.1 ms a candidate, the
largest cost of storing a batch into a big archive); ``article_signatures`` keeps them in small
rows. Filled from ``articles`` here; afterwards the archive writes both.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_signatures",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("minhash", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_signatures_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_signatures")),
    )
    # Articles stored without a signature were never grouped; they stay that way.
    op.execute(
        "INSERT INTO article_signatures (article_id, story_id, minhash) "
        "SELECT id, coalesce(story_id, id), minhash FROM articles WHERE minhash IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("article_signatures")
