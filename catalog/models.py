"""Prizes, their pictures and visibility, orders, gift cards, tax profiles.

Money values are whole kopecks (integers): exact on SQLite and PostgreSQL
alike, and the tax register adds them up without rounding drift.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

import partner_club.models  # noqa: F401 - the core mappers our relationships name
from partner_club.accounts.models import User
from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model
from partner_club.regions.models import Region


class CategoryKind(str, enum.Enum):
    BRANDED = "branded"
    SEASONAL = "seasonal"
    GIFT_CARD = "gift_card"


CATEGORY_KIND_LABELS = {
    CategoryKind.BRANDED: _l("Branded goods"),
    CategoryKind.SEASONAL: _l("Seasonal and themed goods"),
    CategoryKind.GIFT_CARD: _l("Gift cards"),
}


class Category(Model):
    __tablename__ = "prize_categories"
    __table_args__ = (enum_check("kind", CategoryKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_en: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    def name(self, locale: str | None) -> str:
        return self.name_ru if str(locale or "ru").startswith("ru") else self.name_en


class PrizePicture(Model):
    """A re-encoded picture kept in the database, so every app server can serve it."""

    __tablename__ = "prize_pictures"
    __table_args__ = (
        CheckConstraint("mimetype IN ('image/jpeg', 'image/png')", name="mimetype_known"),
        CheckConstraint("length(data) <= 2097152", name="data_bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    mimetype: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Prize(Model):
    __tablename__ = "prizes"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("value_kopecks >= 0", name="value_not_negative"),
        UniqueConstraint("provider", "provider_sku"),
        Index("ix_prizes_active_category", "active", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("prize_categories.id"), index=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_ru: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int]
    # The money value in kopecks: what the tax register counts as income.
    value_kopecks: Mapped[int] = mapped_column(default=0)
    stock: Mapped[int] = mapped_column(default=0)
    provider: Mapped[str] = mapped_column(String(32), default="warehouse")
    provider_sku: Mapped[str] = mapped_column(String(64))
    picture_id: Mapped[int | None] = mapped_column(ForeignKey("prize_pictures.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Names and descriptions case-folded in Python: SQLite's LIKE and lower()
    # fold only ASCII, and the catalog is searched in Russian.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship()
    picture: Mapped[PrizePicture | None] = relationship()
    region_links: Mapped[list[PrizeRegion]] = relationship(cascade="all, delete-orphan")
    role_links: Mapped[list[PrizeRole]] = relationship(cascade="all, delete-orphan")

    def name(self, locale: str | None) -> str:
        return self.name_ru if str(locale or "ru").startswith("ru") else self.name_en

    def description(self, locale: str | None) -> str:
        return self.description_ru if str(locale or "ru").startswith("ru") else self.description_en

    @property
    def value_rub(self) -> float:
        return self.value_kopecks / 100

    @property
    def region_ids(self) -> list[int]:
        return sorted(link.region_id for link in self.region_links)

    @property
    def roles(self) -> list[str]:
        return sorted(link.role for link in self.role_links)


@event.listens_for(Prize, "before_insert")
@event.listens_for(Prize, "before_update")
def _fold_search_text(_mapper, _connection, prize: Prize) -> None:
    parts = (prize.name_ru, prize.name_en, prize.description_ru, prize.description_en, prize.provider_sku)
    prize.search_text = " ".join(part or "" for part in parts).casefold()


class PrizeRegion(Model):
    """A prize limited to some regions; a prize with no rows is seen everywhere."""

    __tablename__ = "prize_regions"

    prize_id: Mapped[int] = mapped_column(ForeignKey("prizes.id", ondelete="CASCADE"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)

    region: Mapped[Region] = relationship()


class PrizeRole(Model):
    """A prize limited to some roles (owner, seller); no rows: every participant."""

    __tablename__ = "prize_roles"
    __table_args__ = (CheckConstraint("role IN ('owner', 'seller')", name="role_is_participant"),)

    prize_id: Mapped[int] = mapped_column(ForeignKey("prizes.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class OrderStatus(str, enum.Enum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


ORDER_STATUS_LABELS = {
    OrderStatus.PLACED: _l("placed"),
    OrderStatus.CONFIRMED: _l("confirmed"),
    OrderStatus.SHIPPED: _l("shipped"),
    OrderStatus.DELIVERED: _l("delivered"),
    OrderStatus.CANCELLED: _l("cancelled"),
}


class Order(Model):
    __tablename__ = "prize_orders"
    __table_args__ = (
        enum_check("status", OrderStatus),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("status <> 'shipped' OR tracking_number IS NOT NULL", name="shipped_has_tracking"),
        CheckConstraint("status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_has_reason"),
        # A second click (or a retried API call) with the same key finds this order.
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_prize_orders_status_placed", "status", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PLACED.value)
    points: Mapped[int]
    value_kopecks: Mapped[int] = mapped_column(default=0)
    address: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded: Mapped[bool] = mapped_column(default=False)
    # Why the fraud checks want a person to look before this order is confirmed.
    review_note: Mapped[str | None] = mapped_column(String(1000))

    user: Mapped[User] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return str(ORDER_STATUS_LABELS[OrderStatus(self.status)])

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.PLACED.value, OrderStatus.CONFIRMED.value)


class ProviderStatus(str, enum.Enum):
    MANUAL = "manual"  # the organizer's staff fulfil it (warehouse)
    PENDING = "pending"  # to be sent to the provider after the commit
    RETRY = "retry"  # the provider did not answer; points stay reserved
    PLACED = "placed"  # the provider accepted it and is working on it
    DONE = "done"  # the provider delivered (codes received)
    FAILED = "failed"  # refused or gave up: the order was cancelled and refunded


class OrderLine(Model):
    __tablename__ = "prize_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("points_each > 0", name="points_positive"),
        enum_check("provider_status", ProviderStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("prize_orders.id"), index=True)
    prize_id: Mapped[int] = mapped_column(ForeignKey("prizes.id"), index=True)
    quantity: Mapped[int]
    points_each: Mapped[int]
    value_kopecks_each: Mapped[int] = mapped_column(default=0)
    provider: Mapped[str] = mapped_column(String(32))
    provider_sku: Mapped[str] = mapped_column(String(64))
    provider_status: Mapped[str] = mapped_column(String(16), default=ProviderStatus.MANUAL.value)
    provider_order_id: Mapped[str | None] = mapped_column(String(100))
    provider_attempts: Mapped[int] = mapped_column(default=0)
    provider_error: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[Order] = relationship(back_populates="lines")
    prize: Mapped[Prize] = relationship()
    gift_cards: Mapped[list[GiftCardDelivery]] = relationship(
        back_populates="line", order_by="GiftCardDelivery.id"
    )

    @property
    def points(self) -> int:
        return self.points_each * self.quantity

    @property
    def reference(self) -> str:
        """Our reference at the provider: the same on every retry, so a retry never buys twice."""
        return f"pc-line-{self.id}"


class GiftCardDelivery(Model):
    __tablename__ = "gift_card_deliveries"
    __table_args__ = (CheckConstraint("code IS NOT NULL OR link IS NOT NULL", name="code_or_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("prize_order_lines.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(String(1000))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    line: Mapped[OrderLine] = relationship(back_populates="gift_cards")


class DeliveryAddress(Model):
    """The last address and phone a person ordered with: offered next time."""

    __tablename__ = "delivery_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    address: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TaxProfile(Model):
    """A participant's taxpayer number and the consent to act as their tax agent, given once."""

    __tablename__ = "prize_tax_profiles"
    __table_args__ = (CheckConstraint("length(inn) = 12", name="inn_12_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    inn: Mapped[str] = mapped_column(String(12))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
