"""runtime: sync state, inbox, user settings, role grants

Revision ID: 0001_runtime
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_runtime"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("thread_root", sa.String(255), nullable=True),
        sa.Column("relates_to", sa.String(255), nullable=True),
        sa.Column("origin_ts", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("command", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_inbox_status", "inbox", ["status"])
    op.create_table(
        "bot_messages",
        sa.Column("matrix_event_id", sa.String(255), primary_key=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=False),
    )
    op.create_index("ix_bot_messages_source_event_id", "bot_messages", ["source_event_id"])
    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
    )
    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("granted_by", sa.String(255), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "role", name="uq_role_grants_user_role"),
    )


def downgrade() -> None:
    op.drop_table("role_grants")
    op.drop_table("user_settings")
    op.drop_index("ix_bot_messages_source_event_id", "bot_messages")
    op.drop_table("bot_messages")
    op.drop_index("ix_inbox_status", "inbox")
    op.drop_table("inbox")
    op.drop_table("bot_state")
