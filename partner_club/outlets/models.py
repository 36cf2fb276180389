"""Outlets: the independent shops in the club."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partner_club.database import UTCDateTime, utcnow
from partner_club.extensions import Model

if TYPE_CHECKING:
    from partner_club.regions.models import Region, Territory

OUTLET_KINDS = ("shop", "market", "builders_yard", "chain", "online")


class Outlet(Model):
    __tablename__ = "outlets"
    __table_args__ = (
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str | None] = mapped_column(String(300))
    tax_number: Mapped[str | None] = mapped_column(String(12), index=True)
    address: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32), default="shop")
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The owner whose referral invitation brought the shop in (their bonus waits for the shop's
    # first accepted registrations). Added after both tables exist: users point at outlets too.
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True), index=True)

    region: Mapped[Region] = relationship()
    territory: Mapped[Territory | None] = relationship()

    def __repr__(self) -> str:
        return f"<Outlet {self.id} {self.name}>"
