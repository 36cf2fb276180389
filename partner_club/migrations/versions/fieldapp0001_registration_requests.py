"""registration_requests: a client's request id and the first answer to it (safe resends)

Revision ID: fieldapp0001
Revises: reportmail0001
Create Date: 2026-12-04 19:30:00

"""
from alembic import op
import sqlalchemy as sa

import partner_club.database


# revision identifiers, used by Alembic.
revision = 'fieldapp0001'
down_revision = 'reportmail0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registration_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('status BETWEEN 100 AND 599', name=op.f('ck_registration_requests_status_http')),
        sa.ForeignKeyConstraint(['participant_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('participant_id', 'client_id', name='registration_requests_one_per_client_id'),
    )
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_requests_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_requests_created_at'))
    op.drop_table('registration_requests')
