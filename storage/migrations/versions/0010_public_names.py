"""archive: the names leaders chose to be shown under on the public pages (an opt-in)

Revision ID: 0010_public_names
Revises: 0009_room_settings
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_public_names"
down_revision = "0009_room_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A leader without a row is shown as "a leader of the network": never by their Matrix id.
    op.create_table(
        "public_names",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("public_names")
