"""every account can get in: sessions, one-time links, Microsoft sign-in links

Adds the sessions each sign-in makes (what "Sign out other sessions" ends), the one-time links
mailed for invitations and password resets (hashes only), the Microsoft accounts people link to
their own account, and the Microsoft tenant of each synced person, filled in from their school's
connection so the people already synced can sign in with Microsoft straight away.

Revision ID: 0013_i18
Revises: 0012_i21
Create Date: 2026-12-08 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_i18'
down_revision = '0012_i21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_account_sessions_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_account_sessions'))
    op.create_index('ix_account_sessions_user_created', 'account_sessions',
                    ['user_id', 'created_at'], unique=False)
    op.create_table(
        'one_time_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('created_by_user_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_one_time_tokens_user_id_users', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name='fk_one_time_tokens_organisation_id_organisations',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                                name='fk_one_time_tokens_created_by_user_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_one_time_tokens'),
        sa.UniqueConstraint('token_hash', name='uq_one_time_tokens_token_hash'))
    op.create_index('ix_one_time_tokens_user_purpose', 'one_time_tokens',
                    ['user_id', 'purpose'], unique=False)
    op.create_index('ix_one_time_tokens_org_purpose', 'one_time_tokens',
                    ['organisation_id', 'purpose'], unique=False)
    op.create_table(
        'microsoft_sign_in_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('object_id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_microsoft_sign_in_links_user_id_users',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_microsoft_sign_in_links'),
        sa.UniqueConstraint('tenant_id', 'object_id', name='uq_microsoft_sign_in_links_account'))
    op.create_index('ix_microsoft_sign_in_links_user_id', 'microsoft_sign_in_links', ['user_id'],
                    unique=False)
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_synced_people_microsoft_id', ['microsoft_id'], unique=False)
    # A school's people came from its trust's connection (or its own, outside a trust).
    op.execute(
        "UPDATE synced_people SET tenant_id = (SELECT c.tenant_id FROM microsoft_connections c "
        "JOIN organisations o ON (o.trust_id IS NOT NULL AND c.trust_id = o.trust_id) "
        "OR (o.trust_id IS NULL AND c.organisation_id = o.id) "
        "WHERE o.id = synced_people.organisation_id)")


def downgrade():
    with op.batch_alter_table('synced_people', schema=None) as batch_op:
        batch_op.drop_index('ix_synced_people_microsoft_id')
        batch_op.drop_column('tenant_id')
    op.drop_index('ix_microsoft_sign_in_links_user_id', table_name='microsoft_sign_in_links')
    op.drop_table('microsoft_sign_in_links')
    op.drop_index('ix_one_time_tokens_org_purpose', table_name='one_time_tokens')
    op.drop_index('ix_one_time_tokens_user_purpose', table_name='one_time_tokens')
    op.drop_table('one_time_tokens')
    op.drop_index('ix_account_sessions_user_created', table_name='account_sessions')
    op.drop_table('account_sessions')
