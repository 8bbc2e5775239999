"""Sync this person now and Undo this sync: the before half of each run's change log, the
person a one-person sync was asked for, the run an undo undid, and automatic sync paused by an undo

Runs recorded before this migration have no earlier values, so they cannot be undone (the
Undo page says so).

Revision ID: 0014_i22
Revises: 0013_i18
Create Date: 2026-12-08 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_i22'
down_revision = '0013_i18'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_prior_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('synced_person_id', sa.Integer(), nullable=False),
    sa.Column('microsoft_id', sa.String(length=64), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_normalised', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('job_title', sa.String(length=255), nullable=True),
    sa.Column('department', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('in_group', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_via', sa.Text(), nullable=True),
    sa.Column('suspended_reason', sa.String(length=32), nullable=True),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('membership_status', sa.String(length=16), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_email', sa.String(length=320), nullable=True),
    sa.Column('user_email_normalised', sa.String(length=320), nullable=True),
    sa.Column('user_display_name', sa.String(length=255), nullable=True),
    sa.Column('user_job_title', sa.String(length=255), nullable=True),
    sa.Column('user_department', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_prior_values_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_prior_values'))
    )
    with op.batch_alter_table('sync_prior_values', schema=None) as batch_op:
        batch_op.create_index('ix_sync_prior_values_run_person', ['run_id', 'synced_person_id'], unique=False)
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('undoes_run_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sync_runs_undoes_run_id_sync_runs'), 'sync_runs', ['undoes_run_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('sync_schedules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_by_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sync_schedules_paused_by_run_id_sync_runs'), 'sync_runs', ['paused_by_run_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('sync_schedules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sync_schedules_paused_by_run_id_sync_runs'), type_='foreignkey')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('paused_by_run_id')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sync_runs_undoes_run_id_sync_runs'), type_='foreignkey')
        batch_op.drop_column('undoes_run_id')
        batch_op.drop_column('subject')
    with op.batch_alter_table('sync_prior_values', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_prior_values_run_person')
    op.drop_table('sync_prior_values')
