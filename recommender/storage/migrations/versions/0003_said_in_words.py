"""How a piece of feedback was given, as a column: in words (True) or with a button (False).
Before, the client event id carried it (`<message>:said:<item>`); those rows are read once here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback_events") as table:
        table.add_column(sa.Column("said_in_words", sa.Boolean, nullable=False, server_default=sa.false()))
    op.execute("UPDATE feedback_events SET said_in_words = TRUE WHERE client_event_id LIKE '%:said:%'")


def downgrade() -> None:
    with op.batch_alter_table("feedback_events") as table:
        table.drop_column("said_in_words")
