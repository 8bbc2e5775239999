"""two-step verification: authenticator apps, passkeys, recovery codes, each school's policy

Adds the authenticator app keys (encrypted with TOKEN_ENCRYPTION_KEY), the passkeys (WebAuthn
credential ids and public keys), the recovery codes (hashes only), each school's "Admins must use
two-step verification", and the second step each sign-in was made with.

Revision ID: 0016_i19
Revises: 0015_i20a
Create Date: 2026-12-15 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016_i19'
down_revision = '0015_i20a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'authenticator_apps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_step', sa.BigInteger(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_authenticator_apps_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_authenticator_apps'))
    op.create_index('ix_authenticator_apps_user_id', 'authenticator_apps', ['user_id'],
                    unique=False)
    op.create_table(
        'passkeys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.LargeBinary(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_passkeys_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_passkeys'),
        sa.UniqueConstraint('credential_id', name='uq_passkeys_credential_id'))
    op.create_index('ix_passkeys_user_id', 'passkeys', ['user_id'], unique=False)
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_recovery_codes_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_recovery_codes'))
    op.create_index('ix_recovery_codes_user_hash', 'recovery_codes', ['user_id', 'code_hash'],
                    unique=False)
    op.create_table(
        'two_step_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('admins_must_use_two_step', sa.Boolean(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name='fk_two_step_policies_organisation_id_organisations',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['changed_by_user_id'], ['users.id'],
                                name='fk_two_step_policies_changed_by_user_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_two_step_policies'),
        sa.UniqueConstraint('organisation_id', name='uq_two_step_policies_organisation_id'))
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_step', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.drop_column('second_step')
    op.drop_table('two_step_policies')
    op.drop_index('ix_recovery_codes_user_hash', table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_index('ix_passkeys_user_id', table_name='passkeys')
    op.drop_table('passkeys')
    op.drop_index('ix_authenticator_apps_user_id', table_name='authenticator_apps')
    op.drop_table('authenticator_apps')
