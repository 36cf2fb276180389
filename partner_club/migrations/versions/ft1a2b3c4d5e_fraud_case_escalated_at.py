"""fraud cases: escalated_at (a case unanswered longer than the club's review time)

Revision ID: ft1a2b3c4d5e
Revises: 6660cb110f35
Create Date: 2026-12-04 17:25:00

"""
from alembic import op
import sqlalchemy as sa

import partner_club.database


# revision identifiers, used by Alembic.
revision = 'ft1a2b3c4d5e'
down_revision = 'ca0916a1b2c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fraud_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', partner_club.database.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('fraud_cases', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
