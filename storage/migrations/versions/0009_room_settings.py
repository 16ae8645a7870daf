"""runtime: a room's own settings (the language of what the bot posts there)

Revision ID: 0009_room_settings
Revises: 0008_solution_decisions
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_room_settings"
down_revision = "0008_solution_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_settings",
        sa.Column("room_id", sa.String(255), primary_key=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("set_by", sa.String(255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("room_settings")
