"""a connection's reconnect reason says what happened, not what to do

The reason used to end with "Reconnect to Microsoft.", and every place that shows it adds its own
advice, so pages and the failed sync's outcome said it twice. Saved reasons lose the old ending.

Revision ID: 0011_i20b
Revises: 0010_i23
Create Date: 2026-12-06 21:00:00

"""
from alembic import op


revision = '0011_i20b'
down_revision = '0010_i23'
branch_labels = None
depends_on = None

OLD_ENDING = " Reconnect to Microsoft."


def upgrade():
    op.execute(f"UPDATE microsoft_connections SET status_reason = "
               f"substr(status_reason, 1, length(status_reason) - {len(OLD_ENDING)}) "
               f"WHERE status_reason LIKE '%{OLD_ENDING}'")


def downgrade():
    pass  # the advice is added where the reason is shown; nothing to put back
