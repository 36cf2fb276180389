"""Report periods: a month `2026-03`, a quarter `2026-Q1` or a year `2026`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _

from partner_club.errors import Invalid

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year
    start: date  # first day
    end: date  # first day after the period

    @property
    def key(self) -> str:
        if self.kind == "year":
            return f"{self.start.year}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def months(self) -> list[date]:
        out, current = [], self.start
        while current < self.end:
            out.append(current)
            current = _add_months(current, 1)
        return out

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    def elapsed(self, now: datetime) -> float:
        """How much of the period has passed at `now`, from 0 to 1."""
        total = (self.end_at - self.start_at).total_seconds()
        done = (now - self.start_at).total_seconds()
        return min(1.0, max(0.0, done / total))

    def previous(self) -> Period:
        step = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        start = _add_months(self.start, -step)
        return Period(self.kind, start, self.start)

    def __str__(self) -> str:
        return self.key


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(raw: str | None) -> Period:
    """`2026-03`, `2026-Q1` or `2026`; raises Invalid with a message a person can act on."""
    text = (raw or "").strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise Invalid(
                _("Month %(month)s does not exist: use 01 to 12, e.g. 2026-03.", month=month),
                code="bad_period",
            )
        start = date(year, month, 1)
        return Period("month", start, _add_months(start, 1))
    if match := _QUARTER.match(text):
        start = date(int(match[1]), 3 * (int(match[2]) - 1) + 1, 1)
        return Period("quarter", start, _add_months(start, 3))
    if match := _YEAR.match(text):
        start = date(int(match[1]), 1, 1)
        return Period("year", start, _add_months(start, 12))
    raise Invalid(
        _(
            "“%(text)s” is not a period: write a month 2026-03, a quarter 2026-Q1 or a year 2026.",
            text=text[:20],
        ),
        code="bad_period",
    )


def current_month(now: datetime) -> Period:
    start = date(now.year, now.month, 1)
    return Period("month", start, _add_months(start, 1))


def last_days(now: datetime, days: int) -> tuple[date, date]:
    end = now.date() + timedelta(days=1)
    return end - timedelta(days=days), end
