"""archive: shared solutions and experiences

Revision ID: 0005_archive
Revises: 0004_events
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_archive"
down_revision = "0004_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "solutions",
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(255), nullable=False, unique=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=True),
        sa.Column("room_id", sa.String(255), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_solutions_status", "solutions", ["status"])
    op.create_table(
        "experiences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("solution_number", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_experiences_solution_number", "experiences", ["solution_number"])


def downgrade() -> None:
    op.drop_index("ix_experiences_solution_number", "experiences")
    op.drop_table("experiences")
    op.drop_index("ix_solutions_status", "solutions")
    op.drop_table("solutions")
