"""report e-mails chosen by managers (schedule, zone, span); periodic task slots

Revision ID: reportmail0001
Revises: support0001
Create Date: 2026-12-04 19:20:00

"""
from alembic import op
import sqlalchemy as sa

import partner_club.database


# revision identifiers, used by Alembic.
revision = 'reportmail0001'
down_revision = 'support0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('periodic_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('slot_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', partner_club.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_periodic_runs_job_id_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periodic_runs')),
    sa.UniqueConstraint('name', 'slot_at', name='uq_periodic_runs_name_slot')
    )
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weekday', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('hour', sa.Integer(), server_default='6', nullable=False))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False))
        batch_op.add_column(sa.Column('span', sa.String(length=20), server_default='month_to_date', nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_report_subscriptions_created_by_id_users'), 'users', ['created_by_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_report_subscriptions_frequency_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_subscriptions_frequency_valid'), "frequency IN ('daily', 'weekly', 'monthly')")
        batch_op.create_check_constraint(batch_op.f('ck_report_subscriptions_span_valid'), "span IN ('month_to_date', 'previous_month', 'quarter_to_date', 'previous_quarter', 'year_to_date')")
        batch_op.create_check_constraint(batch_op.f('ck_report_subscriptions_weekday_valid'), 'weekday BETWEEN 0 AND 6')
        batch_op.create_check_constraint(batch_op.f('ck_report_subscriptions_hour_valid'), 'hour BETWEEN 0 AND 23')
    # Monthly reports always covered the month just over.
    op.execute("UPDATE report_subscriptions SET span = 'previous_month' WHERE frequency = 'monthly'")


def downgrade():
    op.execute("DELETE FROM report_subscriptions WHERE frequency = 'daily'")
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_subscriptions_hour_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_subscriptions_weekday_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_subscriptions_span_valid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_subscriptions_frequency_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_subscriptions_frequency_valid'), "frequency IN ('weekly', 'monthly')")
        batch_op.drop_constraint(batch_op.f('fk_report_subscriptions_created_by_id_users'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('span')
        batch_op.drop_column('time_zone')
        batch_op.drop_column('hour')
        batch_op.drop_column('weekday')
    op.drop_table('periodic_runs')
