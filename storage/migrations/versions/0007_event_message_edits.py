"""events: what each announcement shows of the RSVPs, for its m.replace edits

Revision ID: 0007_event_message_edits
Revises: 0006_event_updated_at
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_event_message_edits"
down_revision = "0006_event_updated_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("event_messages", sa.Column("kind", sa.String(16), nullable=True))
    op.add_column("event_messages", sa.Column("shown", sa.String(64), nullable=True))
    op.add_column("event_messages", sa.Column("edits", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("event_messages", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    # Which message is an announcement: its planned send says so.
    op.execute("UPDATE event_messages SET kind = (SELECT s.kind FROM scheduled_sends s "
               "WHERE s.matrix_event_id = event_messages.matrix_event_id)")


def downgrade() -> None:
    with op.batch_alter_table("event_messages") as batch:
        for column in ("edited_at", "edits", "shown", "kind"):
            batch.drop_column(column)
