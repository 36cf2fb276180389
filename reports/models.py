"""Rollups, targets and report subscriptions.

Rollups are the only tables the map and the tables read: daily counters per
shop and product, monthly counters per shop, and each shop's first and last
active day. They are upserted inside the registering transaction (see
`reports.hooks`) and can be rebuilt from the registrations at any time.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

import partner_club.models  # noqa: F401 - the core mappers our relationships name
from partner_club.accounts.models import User
from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory


class DailyProductRollup(Model):
    """Registrations of one product at one shop on one (UTC) day."""

    __tablename__ = "report_daily"
    __table_args__ = (
        UniqueConstraint("day", "outlet_id", "product_id", name="uq_report_daily_key"),
        Index("ix_report_daily_outlet_day", "outlet_id", "day"),
        CheckConstraint("registrations >= 0", name="registrations_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    # No foreign key to codes' products: reports reads codes, and the rollup
    # must survive a product being archived. The SKU is kept for exports.
    product_id: Mapped[int]
    product_sku: Mapped[str] = mapped_column(String(64), default="")
    registrations: Mapped[int] = mapped_column(default=0)
    volume_m3: Mapped[float] = mapped_column(Float, default=0.0)
    points: Mapped[int] = mapped_column(default=0)


class MonthlyOutletRollup(Model):
    """Registrations of one shop in one calendar month: what the map reads.

    Its size is shops x months whatever the number of registrations, which is
    what keeps the map's cost flat as registrations grow.
    """

    __tablename__ = "report_monthly"
    __table_args__ = (
        UniqueConstraint("month", "outlet_id", name="uq_report_monthly_key"),
        CheckConstraint("registrations >= 0", name="registrations_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # first day of the month
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    registrations: Mapped[int] = mapped_column(default=0)
    volume_m3: Mapped[float] = mapped_column(Float, default=0.0)
    points: Mapped[int] = mapped_column(default=0)


class OutletActivity(Model):
    """A shop's first and last day with a registration."""

    __tablename__ = "report_outlet_activity"

    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, index=True)
    last_day: Mapped[date] = mapped_column(Date)


class ScopeKind(str, enum.Enum):
    REGION = "region"
    TERRITORY = "territory"
    OUTLET = "outlet"


class Target(Model):
    """A goal for one metric, one region/territory/shop and one period key."""

    __tablename__ = "report_targets"
    __table_args__ = (
        enum_check("scope_kind", ScopeKind, name="scope_kind_valid"),
        CheckConstraint("value >= 0", name="value_nonneg"),
        CheckConstraint(
            "(scope_kind = 'region' AND region_id IS NOT NULL AND territory_id IS NULL AND outlet_id IS NULL)"
            " OR (scope_kind = 'territory' AND territory_id IS NOT NULL AND region_id IS NULL AND outlet_id IS NULL)"
            " OR (scope_kind = 'outlet' AND outlet_id IS NOT NULL AND region_id IS NULL AND territory_id IS NULL)",
            name="one_scope",
        ),
        Index(
            "uq_report_targets_region",
            "metric",
            "period",
            "region_id",
            unique=True,
            sqlite_where=text("region_id IS NOT NULL"),
            postgresql_where=text("region_id IS NOT NULL"),
        ),
        Index(
            "uq_report_targets_territory",
            "metric",
            "period",
            "territory_id",
            unique=True,
            sqlite_where=text("territory_id IS NOT NULL"),
            postgresql_where=text("territory_id IS NOT NULL"),
        ),
        Index(
            "uq_report_targets_outlet",
            "metric",
            "period",
            "outlet_id",
            unique=True,
            sqlite_where=text("outlet_id IS NOT NULL"),
            postgresql_where=text("outlet_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10), index=True)  # 2026-03, 2026-Q1, 2026
    scope_kind: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    value: Mapped[float] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    outlet: Mapped[Outlet | None] = relationship()

    @property
    def scope_id(self) -> int:
        return self.region_id or self.territory_id or self.outlet_id  # type: ignore[return-value]


class Frequency(str, enum.Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ReportSpan(str, enum.Enum):
    """The stretch of time a report e-mail covers, counted from the day it is sent."""

    MONTH_TO_DATE = "month_to_date"
    PREVIOUS_MONTH = "previous_month"
    QUARTER_TO_DATE = "quarter_to_date"
    PREVIOUS_QUARTER = "previous_quarter"
    YEAR_TO_DATE = "year_to_date"


class Subscription(Model):
    """A standing order for the report of the recipient's own scope.

    Set by the recipient, or for them by head office or their regional manager
    (`created_by`). Sent at `hour` o'clock in `time_zone`: every day, on `weekday`
    (0 = Monday) or on the 1st of the month; `span` is the time the report covers.
    """

    __tablename__ = "report_subscriptions"
    __table_args__ = (
        enum_check("frequency", Frequency, name="frequency_valid"),
        enum_check("span", ReportSpan, name="span_valid"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),
        CheckConstraint("hour BETWEEN 0 AND 23", name="hour_valid"),
        UniqueConstraint("user_id", "frequency", name="uq_report_subscriptions_user_frequency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int] = mapped_column(default=0, server_default="0")
    hour: Mapped[int] = mapped_column(default=6, server_default="6")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    span: Mapped[str] = mapped_column(
        String(20), default=ReportSpan.MONTH_TO_DATE.value, server_default=ReportSpan.MONTH_TO_DATE.value
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
