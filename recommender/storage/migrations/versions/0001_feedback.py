"""Chat users and their feedback events.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("identity", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "feedback_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("chat_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("client_event_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("rating", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "client_event_id", name="uq_event_per_user"),
        sa.CheckConstraint("kind IN ('like', 'dislike', 'seen', 'rating', 'shown')", name="ck_event_kind"),
        sa.CheckConstraint("kind != 'rating' OR rating IS NOT NULL", name="ck_rating_has_value"),
    )
    op.create_index("ix_feedback_events_user_id", "feedback_events", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_events_user_id", "feedback_events")
    op.drop_table("feedback_events")
    op.drop_table("chat_users")
