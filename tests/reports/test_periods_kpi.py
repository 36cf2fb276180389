from datetime import date

import pytest

from partner_club.errors import Invalid
from reports.kpi import AMBER, GREEN, GREY, METRICS, RED, Figures, check_target
from reports.periods import parse_period
from tests.reports.helpers import utc


@pytest.mark.parametrize(
    ("raw", "kind", "start", "end", "key"),
    [
        ("2026-03", "month", date(2026, 3, 1), date(2026, 4, 1), "2026-03"),
        ("2026-3", "month", date(2026, 3, 1), date(2026, 4, 1), "2026-03"),
        ("2026-12", "month", date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        ("2026-q1", "quarter", date(2026, 1, 1), date(2026, 4, 1), "2026-Q1"),
        (" 2025 ", "year", date(2025, 1, 1), date(2026, 1, 1), "2025"),
    ],
)
def test_periods_parse(app, raw, kind, start, end, key):
    period = parse_period(raw)
    assert (period.kind, period.start, period.end, period.key) == (kind, start, end, key)


@pytest.mark.parametrize("raw", ["2026-13", "2026-00", "2026-Q5", "March", "", None, "26-03"])
def test_bad_periods_say_what_to_write(app, raw):
    with app.test_request_context(headers={"Accept-Language": "en"}), pytest.raises(Invalid) as error:
        parse_period(raw)
    assert error.value.code == "bad_period"
    assert "2026" in error.value.message


def test_elapsed_share_of_a_period(app):
    march = parse_period("2026-03")
    assert march.elapsed(utc(2026, 2, 1)) == 0.0
    assert march.elapsed(utc(2026, 5, 1)) == 1.0
    assert march.elapsed(utc(2026, 3, 16, 12)) == pytest.approx(0.5, abs=0.01)
    assert [m.month for m in parse_period("2026-Q2").months] == [4, 5, 6]


def test_status_is_pro_rated_by_elapsed_time(app):
    packages = METRICS["packages"]
    assert check_target(packages, 100, 100, elapsed=0.5, margin=0.1).status == GREEN
    assert check_target(packages, 100, 46, elapsed=0.5, margin=0.1).status == AMBER  # 50 due, 45 enough
    assert check_target(packages, 100, 44, elapsed=0.5, margin=0.1).status == RED
    assert check_target(packages, 100, 89, elapsed=1.0, margin=0.1).status == RED
    assert check_target(packages, 100, 95, elapsed=1.0, margin=0.1).status == AMBER
    # A target of zero is met by anything; a metric with no data stays grey.
    assert check_target(packages, 0, 0, elapsed=0.3, margin=0.1).status == GREEN
    audit = METRICS["self_audit_share"]
    assert check_target(audit, 50, audit.value(Figures(shops=3)), elapsed=1, margin=0.1).status == GREY


def test_shares_are_not_pro_rated(app):
    share = METRICS["active_share"]
    figures = Figures(shops=4, active_shops=3)
    assert share.value(figures) == 75.0
    assert check_target(share, 80, 75.0, elapsed=0.1, margin=0.1).status == AMBER
    assert check_target(share, 90, 75.0, elapsed=0.1, margin=0.1).status == RED
    assert share.value(Figures()) is None
