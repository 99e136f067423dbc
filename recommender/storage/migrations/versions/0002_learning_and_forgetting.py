"""The learning loop's state and the tombstones of forgotten people.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("watermark", sa.Integer, nullable=False),
        sa.Column("requested_at", sa.Float),  # unix seconds
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_until", sa.Float),
    )
    op.create_table(
        "forgotten",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("forgotten_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forgotten")
    op.drop_table("learning_state")
