"""Campaigns: promotions that raise the points of registrations, and what each one awarded.

A campaign's period is stored in UTC with the name of the time zone it was
entered in (days and weeks of its caps are that zone's). Each award names the
registration by id only: the core does not know codes' tables.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partner_club.accounts.models import User
from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model


class Mechanic(str, enum.Enum):
    MULTIPLIER = "multiplier"  # base points x value
    BONUS = "bonus"  # value points per package
    EVERY_NTH = "every_nth"  # value points at every n-th package of the shop in the period
    ONCE_AT_N = "once_at_n"  # value points once, at the shop's n-th package in the period
    FIRST_N = "first_n"  # value points for each of the first n packages of a product a shop registers


class Combine(str, enum.Enum):
    ADDS = "adds"  # adds up with the others
    BEST = "best"  # of the "best" campaigns that apply, the one giving most wins
    EXCLUSIVE = "exclusive"  # alone: the exclusive one with the highest priority wins over all


class Status(str, enum.Enum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"  # stopped early by staff, or by itself when the budget ran out
    ENDED = "ended"


MECHANIC_LABELS = {
    Mechanic.MULTIPLIER: _l("multiplier"),
    Mechanic.BONUS: _l("bonus per package"),
    Mechanic.EVERY_NTH: _l("bonus at every N-th package"),
    Mechanic.ONCE_AT_N: _l("bonus once at N packages"),
    Mechanic.FIRST_N: _l("bonus for the first N packages of a product"),
}
COMBINE_LABELS = {
    Combine.ADDS: _l("adds up with others"),
    Combine.BEST: _l("the best one wins"),
    Combine.EXCLUSIVE: _l("exclusive, by priority"),
}
STATUS_LABELS = {
    Status.DRAFT: _l("draft"),
    Status.RUNNING: _l("running"),
    Status.PAUSED: _l("paused"),
    Status.STOPPED: _l("stopped"),
    Status.ENDED: _l("ended"),
}
# Caps: points per person or shop per day, week (Monday to Sunday) or the whole period.
CAP_FIELDS = (
    "cap_person_day",
    "cap_person_week",
    "cap_person_period",
    "cap_shop_day",
    "cap_shop_week",
    "cap_shop_period",
)


def status_label(status: str) -> str:
    return str(STATUS_LABELS[Status(status)])


class Campaign(Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        enum_check("mechanic", Mechanic, name="campaigns_mechanic_valid"),
        enum_check("combine", Combine, name="campaigns_combine_valid"),
        enum_check("status", Status, name="campaigns_status_valid"),
        CheckConstraint("ends_at > starts_at", name="campaigns_period_order"),
        CheckConstraint(
            "mechanic <> 'multiplier' OR (value > 0 AND value <= 10)", name="campaigns_multiplier_range"
        ),
        CheckConstraint("mechanic = 'multiplier' OR value >= 0", name="campaigns_bonus_positive"),
        CheckConstraint(
            "mechanic NOT IN ('every_nth', 'once_at_n', 'first_n') OR n >= 1", name="campaigns_n_positive"
        ),
        CheckConstraint("budget IS NULL OR budget >= 0", name="campaigns_budget_positive"),
        CheckConstraint(
            "spent >= 0 AND (budget IS NULL OR spent <= budget)", name="campaigns_spent_within_budget"
        ),
        CheckConstraint("control_share >= 0 AND control_share <= 0.5", name="campaigns_control_share_range"),
        CheckConstraint(
            "cap_person_day >= 0 AND cap_person_week >= 0 AND cap_person_period >= 0 "
            "AND cap_shop_day >= 0 AND cap_shop_week >= 0 AND cap_shop_period >= 0",
            name="campaigns_caps_positive",
        ),
        Index("ix_campaigns_status_period", "status", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ru: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    # Audience: empty lists mean "everyone".
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 3166-2 codes
    territory_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    shop_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    outlet_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Products: empty lists mean "every product".
    skus: Mapped[list[str]] = mapped_column(JSON, default=list)
    product_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    packages: Mapped[list[str]] = mapped_column(JSON, default=list)
    mechanic: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    n: Mapped[int | None]
    cap_person_day: Mapped[int | None]
    cap_person_week: Mapped[int | None]
    cap_person_period: Mapped[int | None]
    cap_shop_day: Mapped[int | None]
    cap_shop_week: Mapped[int | None]
    cap_shop_period: Mapped[int | None]
    budget: Mapped[int | None]
    spent: Mapped[int] = mapped_column(default=0)
    combine: Mapped[str] = mapped_column(String(16), default=Combine.ADDS.value)
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT.value)
    control_share: Mapped[float] = mapped_column(Float, default=0.0)
    control_seed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(32))  # staff | budget
    # A change to a running campaign applies to registrations from this moment on.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    def local(self, moment: datetime) -> datetime:
        """A moment on the campaign's own clock (its period was entered in that time zone)."""
        return moment.astimezone(ZoneInfo(self.time_zone))

    def name(self, locale: Any = None) -> str:
        return self.name_en if str(locale or "ru").startswith("en") else self.name_ru

    def description(self, locale: Any = None) -> str:
        return self.description_en if str(locale or "ru").startswith("en") else self.description_ru

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[Status(self.status)])

    @property
    def points_each(self) -> int:
        """A bonus mechanic's points for one package, as evaluation rounds them."""
        return points_of(self.value)

    @property
    def mechanic_label(self) -> str:
        return str(MECHANIC_LABELS[Mechanic(self.mechanic)])

    @property
    def combine_label(self) -> str:
        return str(COMBINE_LABELS[Combine(self.combine)])


def points_of(value: float) -> int:
    """A bonus campaign's value as whole points: one rounding for evaluation and its cards."""
    return round(value)


class CampaignAward(Model):
    """Points a campaign gave one registration (0 for a package that only counts towards an N-th)."""

    __tablename__ = "campaign_awards"
    __table_args__ = (
        CheckConstraint("points >= 0", name="campaign_awards_points_positive"),
        Index("ix_campaign_awards_campaign_person", "campaign_id", "person_id", "created_at"),
        Index("ix_campaign_awards_campaign_outlet", "campaign_id", "outlet_id", "created_at"),
    )

    # One award per campaign and registration; the key leads with the registration, which a
    # rejection releases by.
    registration_id: Mapped[int] = mapped_column(primary_key=True)  # codes' (no foreign key: core)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    sku: Mapped[str] = mapped_column(String(64), default="")
    points: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BonusKind(str, enum.Enum):
    WELCOME = "welcome"  # a person's account approved
    REFERRAL = "referral"  # an owner brought a shop that made its first N accepted registrations


class BonusGrant(Model):
    """A one-off bonus, given at most once per subject (a person, or a shop brought in)."""

    __tablename__ = "bonus_grants"
    __table_args__ = (
        enum_check("kind", BonusKind, name="bonus_grants_kind_valid"),
        UniqueConstraint("kind", "subject", name="bonus_grants_once"),
        CheckConstraint("points > 0", name="bonus_grants_points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))  # "person:<id>" or "outlet:<id>"
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # who earns it
    points: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
