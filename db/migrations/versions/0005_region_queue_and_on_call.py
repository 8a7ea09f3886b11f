"""Safety: the region-wide urgent queue (conversations without an office) and officers on call

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("office_id", existing_type=sa.String(length=64), nullable=True)

    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_call", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.drop_column("on_call")

    # Fails while a conversation has no office: giving it one would be a guess.
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("office_id", existing_type=sa.String(length=64), nullable=False)
