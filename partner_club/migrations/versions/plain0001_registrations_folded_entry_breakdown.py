"""registrations folded into the rollups by a job; a ledger entry's breakdown

Revision ID: plain0001
Revises: 6660cb110f35
Create Date: 2026-12-04 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'plain0001'
down_revision = 'tro1c8e2a4d6'
branch_labels = None
depends_on = None


def upgrade():
    # Registrations stored before this migration were counted in the rollups as they were stored.
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('folded', sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.alter_column('folded', server_default=sa.false())
        batch_op.create_index(
            'ix_registrations_unfolded',
            ['created_at'],
            unique=False,
            postgresql_where=sa.text('NOT folded'),
            sqlite_where=sa.text('NOT folded'),
        )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('breakdown', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_column('breakdown')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_unfolded', postgresql_where=sa.text('NOT folded'), sqlite_where=sa.text('NOT folded'))
        batch_op.drop_column('folded')
