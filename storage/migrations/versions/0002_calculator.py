"""calculator: saved scenarios

Revision ID: 0002_calculator
Revises: 0001_runtime
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_calculator"
down_revision = "0001_runtime"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calc_scenarios",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("overrides", sa.Text(), nullable=False),
        sa.Column("npv", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calc_scenarios")
