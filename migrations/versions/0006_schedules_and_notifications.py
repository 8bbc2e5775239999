"""automatic sync schedules, run trigger, organisation time zone, notification events and opt-outs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                      server_default='Europe/London'))
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trigger', sa.String(length=16), nullable=False,
                                      server_default='manual'))
    op.create_table(
        'sync_schedules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('frequency', sa.String(length=8), nullable=False),
        sa.Column('minute_of_day', sa.Integer(), nullable=True),
        sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('suggestion_answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('organisation_id'),
    )
    with op.batch_alter_table('sync_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_schedules_next_due_at'), ['next_due_at'],
                              unique=False)
    op.create_table(
        'notification_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('scope', sa.String(length=32), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('dedupe_key', sa.String(length=128), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('scope', 'dedupe_key', 'day', name='uq_notification_events_once'),
    )
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.create_index('ix_notification_events_status_next', ['status', 'next_attempt_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_notification_events_organisation_id'),
                              ['organisation_id'], unique=False)
    op.create_table(
        'notification_opt_outs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'event', name='uq_notification_opt_outs'),
    )


def downgrade():
    op.drop_table('notification_opt_outs')
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_events_organisation_id'))
        batch_op.drop_index('ix_notification_events_status_next')
    op.drop_table('notification_events')
    with op.batch_alter_table('sync_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_schedules_next_due_at'))
    op.drop_table('sync_schedules')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('trigger')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
