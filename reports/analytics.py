"""Programme analytics for head office, and the small inline SVG charts.

Participation, penetration and RFM segments come from the rollups;
redemption and liability from the core points ledger; shipped volume from
codes' activated batches (a batch is marked shipped when it is activated).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from codes.models import Batch, Product
from partner_club.ledger.models import Account, Bucket, EntryKind, LedgerEntry
from partner_club.outlets.models import Outlet
from reports.models import MonthlyOutletRollup, OutletActivity

SEGMENTS = {
    "champions": _l("champions"),
    "loyal": _l("loyal"),
    "new": _l("new"),
    "occasional": _l("occasional"),
    "at_risk": _l("at risk"),
    "sleeping": _l("sleeping"),
    "never": _l("never active"),
}
PALETTE = ("#0b5cab", "#1e8e3e", "#f2a600", "#d93025", "#8430ce", "#00838f", "#5b6675", "#c2185b")
EARNED = (EntryKind.ACCRUAL.value, EntryKind.ACTION.value, EntryKind.CONFIRMATION.value)


@dataclass
class Summary:
    months: list[date]
    enrolled: list[int]
    active: list[int]
    earned: list[int]
    spent: list[int]
    liability: list[int]
    registered_m3: list[float]
    shipped_m3: list[float]
    segments_now: dict[str, int] = field(default_factory=dict)
    segments_before: dict[str, int] = field(default_factory=dict)
    liability_now: int = 0
    pending_now: int = 0

    @property
    def participation(self) -> list[float | None]:
        return [
            round(100 * a / e, 1) if e else None for a, e in zip(self.active, self.enrolled, strict=False)
        ]

    @property
    def redemption_rate(self) -> float | None:
        earned = sum(self.earned)
        return round(100 * sum(self.spent) / earned, 1) if earned else None

    @property
    def penetration(self) -> float | None:
        shipped = sum(self.shipped_m3)
        return round(100 * sum(self.registered_m3) / shipped, 1) if shipped else None


def _month_key(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", func.timezone("UTC", column)), Date)
    return func.strftime("%Y-%m-01", column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _months_back(now: datetime, count: int) -> list[date]:
    index = now.year * 12 + now.month - 1
    return [date((i) // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def programme_summary(session: Session, *, now: datetime, months: int = 12) -> Summary:
    window = _months_back(now, months)
    position = {m: i for i, m in enumerate(window)}
    summary = Summary(
        window,
        [0] * months,
        [0] * months,
        [0] * months,
        [0] * months,
        [0] * months,
        [0.0] * months,
        [0.0] * months,
    )

    # A shop counts as enrolled from when it was created, or from its first
    # registration if that came earlier (shops imported after their history).
    before = 0
    for created_at, first_day in session.execute(
        select(Outlet.created_at, OutletActivity.first_day)
        .outerjoin(OutletActivity, OutletActivity.outlet_id == Outlet.id)
        .where(Outlet.active)
    ):
        month = created_at.date().replace(day=1)
        if first_day is not None:
            month = min(month, _as_date(first_day).replace(day=1))
        if month < window[0]:
            before += 1
        elif month in position:
            summary.enrolled[position[month]] += 1
    running = before
    for i in range(months):
        running += summary.enrolled[i]
        summary.enrolled[i] = running

    rollup = MonthlyOutletRollup
    for month, active, volume in session.execute(
        select(rollup.month, func.count(), func.sum(rollup.volume_m3))
        .where(rollup.month >= window[0], rollup.registrations > 0)
        .group_by(rollup.month)
    ):
        i = position.get(_as_date(month))
        if i is not None:
            summary.active[i], summary.registered_m3[i] = active, round(float(volume or 0), 3)

    entry_month = _month_key(session, LedgerEntry.created_at)
    opening = 0
    for month, kind, bucket, amount in session.execute(
        select(entry_month, LedgerEntry.kind, LedgerEntry.bucket, func.sum(LedgerEntry.amount)).group_by(
            entry_month, LedgerEntry.kind, LedgerEntry.bucket
        )
    ):
        month, amount = _as_date(month), int(amount or 0)
        if bucket == Bucket.ACTIVE.value and month < window[0]:
            opening += amount
            continue
        i = position.get(month)
        if i is None:
            continue
        if bucket == Bucket.ACTIVE.value:
            summary.liability[i] += amount
            if kind in EARNED and amount > 0:
                summary.earned[i] += amount
            elif kind == EntryKind.REDEMPTION.value or kind == EntryKind.REFUND.value:
                summary.spent[i] -= amount
    for i in range(months):
        opening += summary.liability[i]
        summary.liability[i] = opening

    shipped = _month_key(session, Batch.activated_at)
    for month, volume in session.execute(
        select(shipped, func.sum(Batch.count * func.coalesce(Product.volume_m3, 0.0)))
        .join(Product, Product.id == Batch.product_id)
        .where(Batch.activated_at.is_not(None))
        .group_by(shipped)
    ):
        i = position.get(_as_date(month))
        if i is not None:
            summary.shipped_m3[i] = round(float(volume or 0), 3)

    totals = session.execute(
        select(func.coalesce(func.sum(Account.active), 0), func.coalesce(func.sum(Account.pending), 0))
    ).one()
    summary.liability_now, summary.pending_now = int(totals[0]), int(totals[1])
    summary.segments_now = rfm_segments(session, as_of=window[-1])
    summary.segments_before = rfm_segments(session, as_of=window[-4] if months >= 4 else window[0])
    return summary


def rfm_segments(session: Session, *, as_of: date) -> dict[str, int]:
    """Shop counts per segment, judged from monthly rollups up to the month `as_of`."""
    by_outlet = rfm_by_outlet(session, as_of=as_of)
    counts: Counter[str] = Counter(by_outlet.values())
    shops = session.scalar(select(func.count()).select_from(Outlet).where(Outlet.active)) or 0
    counts["never"] = max(0, shops - len(by_outlet))
    return {key: counts.get(key, 0) for key in SEGMENTS}


def rfm_by_outlet(session: Session, *, as_of: date) -> dict[int, str]:
    """The segment of every shop active at least once up to the month `as_of` ("never": the rest).

    Recency: months since the last active month; frequency: active months of
    the last twelve; volume splits the frequent shops into champions and loyal.
    """
    as_of_index = as_of.year * 12 + as_of.month - 1
    history: dict[int, list[tuple[int, float]]] = defaultdict(list)
    rollup = MonthlyOutletRollup
    for outlet_id, month, volume in session.execute(
        select(rollup.outlet_id, rollup.month, rollup.volume_m3).where(
            rollup.registrations > 0, rollup.month <= as_of
        )
    ):
        month = _as_date(month)
        history[outlet_id].append((as_of_index - (month.year * 12 + month.month - 1), float(volume or 0)))
    volumes = sorted(sum(v for age, v in rows if age < 12) for rows in history.values())
    top_volume = volumes[len(volumes) * 2 // 3] if volumes else 0.0
    segments: dict[int, str] = {}
    for outlet_id, rows in history.items():
        recency = min(age for age, _v in rows)
        frequency = sum(1 for age, _v in rows if age < 12)
        first = max(age for age, _v in rows)
        volume = sum(v for age, v in rows if age < 12)
        if first < 3:
            segment = "new"
        elif recency >= 6:
            segment = "sleeping"
        elif recency >= 2 and frequency >= 3:
            segment = "at_risk"
        elif frequency >= 6 and volume >= top_volume:
            segment = "champions"
        elif frequency >= 3:
            segment = "loyal"
        else:
            segment = "occasional"
        segments[int(outlet_id)] = segment
    return segments


# --- inline SVG charts ------------------------------------------------------------


def line_chart(
    labels: list[str],
    series: dict[str, list[float | None]],
    *,
    title: str,
    unit: str = "",
    width: int = 440,
    height: int = 220,
) -> Markup:
    """A small responsive SVG line chart with a legend; no script, no library."""
    left, right, top, bottom = 44, 22, 24, 34
    values = [v for points in series.values() for v in points if v is not None]
    peak = max(values) if values else 0
    peak = peak if peak > 0 else 1
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 18 * ((len(series) + 1) // 2)}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="14" class="chart-title">{escape(title)}</text>',
    ]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">'
            f'{_short(peak * fraction)}{escape(unit)}</text>'
        )
    for i, label in enumerate(labels):
        if len(labels) <= 6 or i % 2 == (len(labels) - 1) % 2:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'class="chart-axis">{escape(label)}</text>'
            )
    for n, (name, points) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        coords = [
            (left + i * step, top + plot_h * (1 - v / peak)) for i, v in enumerate(points) if v is not None
        ]
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coords)
        lx, ly = left + (n % 2) * (plot_w / 2), height + 4 + 18 * (n // 2)
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 16:.1f}" y="{ly + 11}" class="chart-axis">{escape(name[:28])}</text>'
        )
    if not values:
        empty = escape(_("No data for this period."))
        parts.append(
            f'<text x="{width / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            f'class="chart-empty">{empty}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped labels


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}"


def charts(summary: Summary) -> dict[str, Markup]:
    labels = [m.strftime("%m.%y") for m in summary.months]
    return {
        "participation": line_chart(
            labels,
            {_("active shops"): summary.active, _("enrolled shops"): summary.enrolled},
            title=_("Participation"),
        ),
        "points": line_chart(
            labels,
            {_("points earned"): summary.earned, _("points spent"): summary.spent},
            title=_("Points earned and spent"),
        ),
        "liability": line_chart(
            labels, {_("points liability"): summary.liability}, title=_("Points liability")
        ),
        "volume": line_chart(
            labels,
            {_("registered, m³"): summary.registered_m3, _("shipped, m³"): summary.shipped_m3},
            title=_("Registered and shipped volume"),
        ),
    }
