"""settings versions (two tabs cannot overwrite each other) and the excluded group recorded
on a suspended person

settings_versions: one row per set of settings a form saves whole (a school's groups, schedule,
sync settings, leaver retention; a person's notifications), counting its saves, so a save drawn
from an older version is refused (webapp/versions.py).
synced_people.suspended_group: the excluded group that keeps a suspended person out, as the
sync recorded it; filled for people already suspended that way from their last suspension.

Revision ID: 0015_i20a
Revises: 0014_i22
Create Date: 2026-12-06 20:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015_i20a'
down_revision = '0014_i22'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'settings_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('owner_user_id', sa.Integer(), nullable=True),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('changed_by_user_id', sa.Integer(), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['changed_by_user_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    with op.batch_alter_table('settings_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settings_versions_organisation_id'),
                              ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_settings_versions_owner_user_id'),
                              ['owner_user_id'], unique=False)
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_group', sa.String(length=512), nullable=True))
    op.execute(
        "UPDATE synced_people SET suspended_group = (SELECT c.detail FROM sync_changes c "
        "WHERE c.synced_person_id = synced_people.id AND c.action = 'suspend' "
        "AND c.reason = 'excluded_group' ORDER BY c.id DESC LIMIT 1) "
        "WHERE status = 'suspended' AND suspended_reason = 'excluded_group'")


def downgrade():
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.drop_column('suspended_group')
    with op.batch_alter_table('settings_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settings_versions_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_settings_versions_organisation_id'))
    op.drop_table('settings_versions')
