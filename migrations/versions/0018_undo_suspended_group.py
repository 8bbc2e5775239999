"""the excluded group recorded in a run's before values, so an undo that suspends someone
again names the group that kept them out

sync_prior_values.suspended_group: the person's synced_people.suspended_group just before the
run. Filled for rows recorded before it from the person's last suspension by an excluded group
before that run (a sync's or Sync this person now's change row, which names the group; an
undo's rows are left out: they did not record it).

Revision ID: 0018_undo_group
Revises: 0017_ms_tenant
Create Date: 2026-12-16 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018_undo_group'
down_revision = '0017_ms_tenant'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_prior_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_group', sa.String(length=512), nullable=True))
    op.execute(
        "UPDATE sync_prior_values SET suspended_group = (SELECT c.detail FROM sync_changes c "
        "JOIN sync_runs r ON r.id = c.run_id "
        "WHERE c.synced_person_id = sync_prior_values.synced_person_id "
        "AND c.action = 'suspend' AND c.reason = 'excluded_group' AND r.kind != 'undo' "
        "AND c.run_id < sync_prior_values.run_id ORDER BY c.id DESC LIMIT 1) "
        "WHERE suspended_reason = 'excluded_group'")


def downgrade():
    with op.batch_alter_table('sync_prior_values', schema=None) as batch_op:
        batch_op.drop_column('suspended_group')
