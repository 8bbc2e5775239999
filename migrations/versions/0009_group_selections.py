"""several groups per school: each chosen group syncs or excludes its members

A school's single group becomes a one-group selection (role "sync"); the people it synced
are recorded as having come through it, so the first sync after the upgrade changes nobody.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('microsoft_group_choices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=False,
                                      server_default='sync'))
        batch_op.drop_constraint('uq_microsoft_group_choices_organisation_id', type_='unique')
        batch_op.create_unique_constraint('uq_microsoft_group_choices_organisation_group',
                                          ['organisation_id', 'group_id'])
    with op.batch_alter_table('microsoft_group_choices', schema=None) as batch_op:
        batch_op.alter_column('role', server_default=None)
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('selection', sa.Text(), nullable=True))
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('synced_via', sa.Text(), nullable=True))
    # Everyone the old single group synced came through that group.
    op.execute(
        "UPDATE synced_people SET synced_via = (SELECT c.display_name FROM microsoft_group_choices c "
        "WHERE c.organisation_id = synced_people.organisation_id) WHERE in_group = "
        + ("true" if op.get_bind().dialect.name == "postgresql" else "1"))


def downgrade():
    # Keeps one synced group per school (the first chosen); exclusions are forgotten.
    op.execute("DELETE FROM microsoft_group_choices WHERE role <> 'sync' OR id NOT IN ("
               "SELECT MIN(id) FROM microsoft_group_choices WHERE role = 'sync' "
               "GROUP BY organisation_id)")
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.drop_column('synced_via')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('selection')
    with op.batch_alter_table('microsoft_group_choices', schema=None) as batch_op:
        batch_op.drop_constraint('uq_microsoft_group_choices_organisation_group', type_='unique')
        batch_op.create_unique_constraint('uq_microsoft_group_choices_organisation_id',
                                          ['organisation_id'])
        batch_op.drop_column('role')
