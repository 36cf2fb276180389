"""What scanning stores: review photos, and bulk uploads waiting for their job.

Both keep image bytes in the database rather than on one server's disk, so
any app server or rq worker behind the load balancer can read them. Review
photos are re-encoded without EXIF before they are stored; bulk uploads are
deleted as soon as their job has decoded them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from partner_club.database import UTCDateTime, utcnow
from partner_club.extensions import Model, db

scan_photo_registrations = Table(
    "scan_photo_registrations",
    db.metadata,
    Column("photo_id", Integer, ForeignKey("scan_photos.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "registration_id",
        Integer,
        ForeignKey("registrations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class ScanPhoto(Model):
    """A photo kept as evidence because a registration from it was held for review."""

    __tablename__ = "scan_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class BulkScanImage(Model):
    """One picture of a bulk upload, kept only until its decoding job has read it."""

    __tablename__ = "bulk_scan_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
