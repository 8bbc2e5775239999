"""school_run_facts: each school's stored answers to the Schools page's run rules; the indexes
of sync_runs that answer them name the run's kind too (index-only probes)

No rows are written here: a school without one is answered from sync_runs directly, and its row
is written when one of its runs next changes status (webapp.user_sync.engine.run_facts).

Revision ID: 0019_run_facts
Revises: 0018_undo_group
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019_run_facts'
down_revision = '0018_undo_group'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('school_run_facts',
    sa.Column('organisation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('complete_id', sa.Integer(), nullable=True),
    sa.Column('complete_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_school_run_facts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_school_run_facts'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_runs_org_status_finished')
        batch_op.drop_index('ix_sync_runs_org_status_id')
        batch_op.create_index('ix_sync_runs_org_status_kind_id', ['organisation_id', 'status', 'kind', 'id'], unique=False)
        batch_op.create_index('ix_sync_runs_org_status_kind_finished', ['organisation_id', 'status', 'kind', 'finished_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_runs_org_status_kind_finished')
        batch_op.drop_index('ix_sync_runs_org_status_kind_id')
        batch_op.create_index('ix_sync_runs_org_status_id', ['organisation_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_sync_runs_org_status_finished', ['organisation_id', 'status', 'finished_at'], unique=False)
    op.drop_table('school_run_facts')
