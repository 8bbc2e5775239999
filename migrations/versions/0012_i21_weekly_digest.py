"""the weekly digest (who asked for it, and mails to one admin); indexes for the Schools page

Revision ID: 0012_i21
Revises: 0011_i20b
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_i21'
down_revision = '0011_i20b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_digest_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_notification_digest_subscriptions_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_digest_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_digest_subscriptions')),
    sa.UniqueConstraint('user_id', name=op.f('uq_notification_digest_subscriptions_user_id'))
    )
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_events_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_events_user_id_users'), 'users', ['user_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index('ix_sync_runs_org_status_id', ['organisation_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_sync_runs_org_status_finished', ['organisation_id', 'status', 'finished_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_runs_org_status_finished')
        batch_op.drop_index('ix_sync_runs_org_status_id')
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_events_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_events_user_id'))
        batch_op.drop_column('user_id')
    op.drop_table('notification_digest_subscriptions')
