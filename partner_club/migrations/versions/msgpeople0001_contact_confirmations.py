"""contact_confirmations: a new e-mail or phone waiting for its one-time code

Revision ID: msgpeople0001
Revises: msgcore0001
Create Date: 2026-12-04 19:11:26

"""
from alembic import op
import sqlalchemy as sa
import partner_club.database


# revision identifiers, used by Alembic.
revision = 'msgpeople0001'
down_revision = 'msgcore0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', partner_club.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("field IN ('email', 'phone')", name=op.f('ck_contact_confirmations_field_valid')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_contact_confirmations_attempts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contact_confirmations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_confirmations'))
    )
    with op.batch_alter_table('contact_confirmations', schema=None) as batch_op:
        batch_op.create_index('ix_contact_confirmations_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_contact_confirmations_value_created', ['value', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('contact_confirmations', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_confirmations_value_created')
        batch_op.drop_index('ix_contact_confirmations_user_created')

    op.drop_table('contact_confirmations')
