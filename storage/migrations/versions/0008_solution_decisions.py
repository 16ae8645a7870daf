"""archive: the moderation decisions of each solution (who decided what, when, why)

Revision ID: 0008_solution_decisions
Revises: 0007_event_message_edits
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_solution_decisions"
down_revision = "0007_event_message_edits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON list of {"status", "by", "at", "reason"}: kept so that export → import loses no decision.
    op.add_column("solutions", sa.Column("decisions", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("solutions") as batch:
        batch.drop_column("decisions")
