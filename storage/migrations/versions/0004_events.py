"""events: events, RSVPs, scheduled sends, announcements

Revision ID: 0004_events
Revises: 0003_moderation
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_events"
down_revision = "0003_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_room", sa.String(255), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_events_source_event_id", "events", ["source_event_id"])
    op.create_table(
        "event_messages",
        sa.Column("matrix_event_id", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
    )
    op.create_index("ix_event_messages_event_id", "event_messages", ["event_id"])
    op.create_table(
        "rsvps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("answer", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "user_id", name="uq_rsvps_event_user"),
    )
    op.create_index("ix_rsvps_event_id", "rsvps", ["event_id"])
    op.create_table(
        "scheduled_sends",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("send_key", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("matrix_event_id", sa.String(255), nullable=True),
        sa.UniqueConstraint("send_key", "room_id", name="uq_scheduled_sends_key_room"),
    )
    op.create_index("ix_scheduled_sends_due_at", "scheduled_sends", ["due_at"])
    op.create_index("ix_scheduled_sends_status", "scheduled_sends", ["status"])
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_room", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("announcements", "scheduled_sends", "rsvps", "event_messages", "events"):
        op.drop_table(table)
