"""events: when each event last changed (its DTSTAMP in the calendars)

Revision ID: 0006_event_updated_at
Revises: 0005_archive
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_event_updated_at"
down_revision = "0005_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    # The best the old rows know: confirmation, else creation.
    op.execute("UPDATE events SET updated_at = COALESCE(confirmed_at, created_at)")


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("updated_at")
