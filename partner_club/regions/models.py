"""Regions (ISO 3166-2 subdivisions with their shapes) and rep territories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partner_club.extensions import Model

if TYPE_CHECKING:
    from partner_club.accounts.models import User


class Region(Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    iso_code: Mapped[str] = mapped_column(String(10), unique=True)  # e.g. RU-TA
    country: Mapped[str] = mapped_column(String(2), index=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    # GeoJSON geometry (Polygon or MultiPolygon), simplified for drawing.
    geometry: Mapped[str | None] = mapped_column(Text, deferred=True)  # large: read only to draw
    # Bounding box "min_lon,min_lat,max_lon,max_lat" for quick checks.
    bbox: Mapped[str | None] = mapped_column(String(100))

    territories: Mapped[list[Territory]] = relationship(back_populates="region")

    def name(self, locale: str | None) -> str:
        return self.name_ru if (locale or "ru").startswith("ru") else self.name_en


class Territory(Model):
    """A rep's patch of a region: the shops the rep looks after."""

    __tablename__ = "territories"
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # use_alter: users and territories point at each other.
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True), index=True)

    region: Mapped[Region] = relationship(back_populates="territories")
    rep: Mapped[User | None] = relationship(foreign_keys=[rep_id])
