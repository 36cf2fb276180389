"""user sessions and password resets

Revision ID: ta1a5e55
Revises: 6660cb110f35
Create Date: 2026-12-04 16:50:00

"""
from alembic import op
import sqlalchemy as sa
import partner_club.database


# revision identifiers, used by Alembic.
revision = 'ta1a5e55'
down_revision = '6660cb110f35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', partner_club.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('web', 'api')", name=op.f('ck_user_sessions_kind_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_user_sessions_user_revoked', ['user_id', 'revoked_at'], unique=False)

    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', partner_club.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_resets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash'))
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_resets_user_id'))
    op.drop_table('password_resets')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_user_sessions_user_revoked')
    op.drop_table('user_sessions')
