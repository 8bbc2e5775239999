"""names of 256 characters: Microsoft's limit on a user's displayName

Microsoft Graph allows a user's displayName up to 256 characters; the columns that keep it
were 255, so the longest names lost their last character.

Revision ID: 0010_i23
Revises: 0009
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_i23'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = (("users", "display_name", False), ("synced_people", "display_name", False),
           ("synced_people", "sort_name", False), ("sync_changes", "display_name", True))


def _resize(length):
    for table, column, nullable in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=511 - length),
                                  type_=sa.String(length=length), existing_nullable=nullable)


def upgrade():
    _resize(256)


def downgrade():
    # Names of 256 characters lose their last character, as they did before.
    for table, column, _ in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = SUBSTR({column}, 1, 255) "
                   f"WHERE LENGTH({column}) > 255")
    _resize(255)
