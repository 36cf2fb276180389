"""KPI metrics: small classes in a registry keyed by name, and target statuses.

A metric turns the `Figures` of a region, territory or shop into one number.
Quantitative metrics add up over the period, so their targets are pro-rated
by the time elapsed; qualitative ones (shares) are compared as they stand.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
STATUS_ORDER = {GREY: 0, GREEN: 1, AMBER: 2, RED: 3}
STATUS_COLOURS = {GREEN: "#1e8e3e", AMBER: "#f2a600", RED: "#d93025", GREY: "#9aa0a6"}
STATUS_LABELS = {GREEN: _l("target met"), AMBER: _l("on track"), RED: _l("behind"), GREY: _l("no target")}
DEFAULT_AMBER_MARGIN = 0.10  # setting "reports.amber_margin"


@dataclass
class Figures:
    """What rollups say about a group of shops in a period."""

    registrations: int = 0
    volume_m3: float = 0.0
    points: int = 0
    shops: int = 0
    active_shops: int = 0
    new_shops: int = 0

    def add(self, other: Figures) -> None:
        self.registrations += other.registrations
        self.volume_m3 += other.volume_m3
        self.points += other.points
        self.shops += other.shops
        self.active_shops += other.active_shops
        self.new_shops += other.new_shops


class Metric:
    key = "base"
    label = _l("metric")
    unit = ""
    cumulative = True  # a sum over the period: targets are pro-rated by elapsed time
    kind = "quantitative"

    def value(self, figures: Figures) -> float | None:
        raise NotImplementedError

    def format(self, value: float | None) -> str:
        if value is None:
            return str(_l("no data"))
        if float(value).is_integer():
            return f"{int(value):,}".replace(",", "\u202f")
        return f"{value:,.2f}".replace(",", "\u202f")


class Packages(Metric):
    key = "packages"
    label = _l("packages registered")

    def value(self, figures: Figures) -> float | None:
        return figures.registrations


class Volume(Metric):
    key = "volume_m3"
    label = _l("volume, m³")
    unit = "m³"

    def value(self, figures: Figures) -> float | None:
        return round(figures.volume_m3, 3)


class Points(Metric):
    key = "points"
    label = _l("points earned")

    def value(self, figures: Figures) -> float | None:
        return figures.points


class ActiveShare(Metric):
    key = "active_share"
    label = _l("shops active, %")
    unit = "%"
    cumulative = False
    kind = "qualitative"

    def value(self, figures: Figures) -> float | None:
        if not figures.shops:
            return None
        return round(100.0 * figures.active_shops / figures.shops, 1)


class NewShops(Metric):
    key = "new_shops"
    label = _l("new shops joined")
    kind = "qualitative"

    def value(self, figures: Figures) -> float | None:
        return figures.new_shops


class SelfAuditShare(Metric):
    """Shops with a completed self-audit: there is no activity data to read yet."""

    key = "self_audit_share"
    label = _l("shops with a self-audit, %")
    unit = "%"
    cumulative = False
    kind = "qualitative"

    def value(self, figures: Figures) -> float | None:
        return None


METRICS: dict[str, Metric] = {
    m.key: m for m in (Packages(), Volume(), Points(), ActiveShare(), NewShops(), SelfAuditShare())
}


@dataclass
class TargetCheck:
    metric: Metric
    target: float
    actual: float | None
    expected: float  # the part of the target due by now
    status: str

    @property
    def gap(self) -> float:
        """Share of the target still missing (negative when exceeded)."""
        if self.actual is None:
            return 1.0
        if self.target <= 0:
            return 0.0
        return (self.target - self.actual) / self.target


def check_target(
    metric: Metric, target: float, actual: float | None, *, elapsed: float, margin: float
) -> TargetCheck:
    """Green when met; amber when within `margin` of the pro-rated target; red otherwise.

    A target of zero is met by anything. A metric without data cannot be
    judged, so it stays grey rather than turning the region red.
    """
    expected = target * elapsed if metric.cumulative else target
    if actual is None:
        return TargetCheck(metric, target, actual, expected, GREY)
    if actual >= target:
        status = GREEN
    elif actual >= expected * (1.0 - margin):
        status = AMBER
    else:
        status = RED
    return TargetCheck(metric, target, actual, expected, status)


def worst(statuses) -> str:
    result = GREY
    for status in statuses:
        if STATUS_ORDER[status] > STATUS_ORDER[result]:
            result = status
    return result
