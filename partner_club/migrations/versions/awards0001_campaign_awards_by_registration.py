"""campaign_awards: keyed by (registration, campaign) instead of a serial id

One award per campaign and registration is now a constraint, and a registration's awards are
found by the key: the serial id and the index on registration_id go.

Revision ID: awards0001
Revises: campaigns20001
Create Date: 2026-12-06 02:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'awards0001'
down_revision = 'campaigns20001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_awards_registration_id'))
        batch_op.drop_constraint(batch_op.f('pk_campaign_awards'), type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key(batch_op.f('pk_campaign_awards'), ['registration_id', 'campaign_id'])


def downgrade():
    # The earlier serial key comes back numbered anew (PostgreSQL's SERIAL, SQLite's rowid).
    with op.batch_alter_table('campaign_awards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('pk_campaign_awards'), type_='primary')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE campaign_awards ADD COLUMN id SERIAL')
    else:
        with op.batch_alter_table('campaign_awards', schema=None) as batch_op:
            batch_op.add_column(sa.Column('id', sa.Integer(), nullable=True))
        op.execute('UPDATE campaign_awards SET id = rowid')
    with op.batch_alter_table('campaign_awards', schema=None) as batch_op:
        batch_op.alter_column('id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_primary_key(batch_op.f('pk_campaign_awards'), ['id'])
        batch_op.create_index(
            batch_op.f('ix_campaign_awards_registration_id'), ['registration_id'], unique=False
        )
