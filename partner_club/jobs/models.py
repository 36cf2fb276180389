"""A row per background job, so a person can watch its progress."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class Job(Model):
    __tablename__ = "jobs"
    __table_args__ = (enum_check("status", JobStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "package.module:function" of the job function; see jobs.services.
    func: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value, index=True)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the job was handed to Redis (None: not yet, e.g. Redis was down; the sweep sends it).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written every few seconds by the running job: a stale one means its worker died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.FINISHED.value:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def is_over(self) -> bool:
        return self.status in (JobStatus.FINISHED.value, JobStatus.FAILED.value)


class PeriodicRun(Model):
    """One slot of a periodic task (`jobs/schedule.py`), claimed by whoever inserts it first.

    The unique (name, slot_at) is what makes a slot run once however many schedulers
    (web processes, workers) see it come round at the same moment.
    """

    __tablename__ = "periodic_runs"
    __table_args__ = (UniqueConstraint("name", "slot_at", name="uq_periodic_runs_name_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
