"""the tenant of the Microsoft account each Microsoft sign-in was made with

A Microsoft sign-in stands in for "Admins must use two-step verification" only when its
Microsoft account is of the tenant of every school asking it (webapp.two_step.policy), so each
session keeps that tenant. Sessions from before keep none, and are treated as not of the
school's tenant.

Revision ID: 0017_ms_tenant
Revises: 0016_i19
Create Date: 2026-12-07 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_ms_tenant'
down_revision = '0016_i19'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('microsoft_tenant_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.drop_column('microsoft_tenant_id')
