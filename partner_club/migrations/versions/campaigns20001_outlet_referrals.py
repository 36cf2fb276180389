"""outlets.referred_by_id (the owner who brought a shop in) and referral invitations

Revision ID: campaigns20001
Revises: fieldapp0001
Create Date: 2026-12-04 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'campaigns20001'
down_revision = 'fieldapp0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outlets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referred_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outlets_referred_by_id'), ['referred_by_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_outlets_referred_by_id_users'), 'users', ['referred_by_id'], ['id']
        )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_invitations_kind_valid'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_invitations_kind_valid'), "kind IN ('outlet', 'seller', 'referral')"
        )


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_invitations_kind_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_invitations_kind_valid'), "kind IN ('outlet', 'seller')")
    with op.batch_alter_table('outlets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outlets_referred_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outlets_referred_by_id'))
        batch_op.drop_column('referred_by_id')
