"""audit log, leaver retention per organisation, when a person was suspended, sync-created accounts

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 09:00:00

Schools that exist when this runs get retention "Never" and a notice asking them to choose;
schools created later default to 90 days (no row: webapp.privacy.retention.retention_for).
People already suspended count their retention from their membership's last change.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=320), nullable=True),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_user_id', sa.Integer(), nullable=True),
    sa.Column('subject_synced_person_id', sa.Integer(), nullable=True),
    sa.Column('subject_label', sa.String(length=512), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=200), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_actor', ['actor_user_id'], unique=False)
        batch_op.create_index('ix_audit_entries_org_action_created', ['organisation_id', 'action', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_org_created', ['organisation_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_subject_synced_person_id'), ['subject_synced_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_subject_user_id'), ['subject_user_id'], unique=False)

    op.create_table('privacy_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('erase_leavers_after_days', sa.Integer(), nullable=True),
    sa.Column('needs_choice', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_privacy_settings_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_settings')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_privacy_settings_organisation_id'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_sync', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))

    op.execute("INSERT INTO privacy_settings (organisation_id, erase_leavers_after_days, needs_choice, updated_at) "
               "SELECT id, NULL, true, CURRENT_TIMESTAMP FROM organisations")
    op.execute("UPDATE synced_people SET suspended_at = (SELECT m.updated_at FROM memberships m "
               "WHERE m.id = synced_people.membership_id) WHERE status = 'suspended'")
    # Accounts whose every membership came from the sync and that never had a password were
    # created by it (the sync does not set passwords).
    op.execute("UPDATE users SET created_by_sync = true WHERE password_hash IS NULL AND EXISTS "
               "(SELECT 1 FROM memberships m WHERE m.user_id = users.id) AND NOT EXISTS "
               "(SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.source <> 'microsoft')")


def downgrade():
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.drop_column('suspended_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('created_by_sync')
    op.drop_table('privacy_settings')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_subject_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_subject_synced_person_id'))
        batch_op.drop_index('ix_audit_entries_org_created')
        batch_op.drop_index('ix_audit_entries_org_action_created')
        batch_op.drop_index('ix_audit_entries_actor')
    op.drop_table('audit_entries')
