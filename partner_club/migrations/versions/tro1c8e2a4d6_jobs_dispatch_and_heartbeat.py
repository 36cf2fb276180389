"""jobs: dispatched_at, heartbeat_at, attempts

Revision ID: tro1c8e2a4d6
Revises: 6660cb110f35
Create Date: 2026-12-04 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
import partner_club.database


# revision identifiers, used by Alembic.
revision = 'tro1c8e2a4d6'
down_revision = 'ta1a5e55'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispatched_at', partner_club.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', partner_club.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('dispatched_at')
