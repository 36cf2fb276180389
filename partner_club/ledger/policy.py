"""The ledger's run-time settings: expiry policy, registration rule, point value.

Each lives in the settings store under its own key; every read names its
default, so a fresh database works unseeded.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from partner_club.errors import Invalid
from partner_club.settings_store import get_setting, put_setting

EXPIRY_KEY = "points.expiry_policy"
RULE_KEY = "points.registration_rule"
POINT_VALUE_KEY = "points.point_value"

EXPIRY_MODES = {
    "never": _l("Points never expire"),
    "months": _l("N months after they were earned"),
    "quarter_end": _l("At the end of the quarter, N months after they were earned"),
}
RULE_MODES = {
    "person": _l("The person who registered the code"),
    "shop": _l("The shop"),
    "split": _l("Split between the person and the shop"),
}


@dataclass(frozen=True)
class ExpiryPolicy:
    mode: str = "months"
    months: int = 12

    def expires_at(self, earned_at: datetime) -> datetime | None:
        """When points earned at `earned_at` expire under this policy."""
        if self.mode == "never":
            return None
        shifted = add_months(earned_at, self.months)
        if self.mode == "months":
            return shifted
        first_month_of_next_quarter = (shifted.month - 1) // 3 * 3 + 4
        year = shifted.year + (first_month_of_next_quarter - 1) // 12
        month = (first_month_of_next_quarter - 1) % 12 + 1
        return shifted.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class RegistrationRule:
    """Who gets a registration's points; `person_percent` matters for a split."""

    mode: str = "person"
    person_percent: int = 100

    def shares(self, points: int) -> tuple[int, int]:
        """(person's points, shop's points) of a registration worth `points`."""
        if self.mode == "shop":
            return 0, points
        if self.mode == "split":
            person = points * self.person_percent // 100
            return person, points - person
        return points, 0


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_policy(session: Session) -> ExpiryPolicy:
    value = get_setting(session, EXPIRY_KEY, None) or {}
    return ExpiryPolicy(mode=value.get("mode", "months"), months=int(value.get("months", 12)))


def validate_expiry_policy(mode: str, months: int | str | None) -> ExpiryPolicy:
    if mode not in EXPIRY_MODES:
        raise Invalid(_l("Choose how points expire."), code="bad_expiry_mode")
    if mode == "never":
        return ExpiryPolicy(mode="never", months=0)
    try:
        months = int(months)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid(_l("The number of months must be a whole number."), code="bad_months") from None
    if not 0 <= months <= 120 or (mode == "months" and months == 0):
        raise Invalid(_l("The number of months must be between 1 and 120."), code="bad_months")
    return ExpiryPolicy(mode=mode, months=months)


def store_expiry_policy(session: Session, policy: ExpiryPolicy, *, actor_id: int | None) -> None:
    put_setting(session, EXPIRY_KEY, asdict(policy), actor_id=actor_id)


def outlet_rule_key(outlet_id: int) -> str:
    return f"{RULE_KEY}.outlet.{outlet_id}"


def registration_rule(session: Session, outlet_id: int | None = None) -> RegistrationRule:
    """The shop's own rule if its owner set one, else the programme's default."""
    value = None
    if outlet_id is not None:
        value = get_setting(session, outlet_rule_key(outlet_id), None)
    if value is None:
        value = get_setting(session, RULE_KEY, None) or {}
    return RegistrationRule(
        mode=value.get("mode", "person"), person_percent=int(value.get("person_percent", 100))
    )


def validate_registration_rule(mode: str, person_percent: int | str | None) -> RegistrationRule:
    if mode not in RULE_MODES:
        raise Invalid(_l("Choose who gets the points of a registration."), code="bad_rule_mode")
    if mode != "split":
        return RegistrationRule(mode=mode, person_percent=100 if mode == "person" else 0)
    try:
        percent = int(person_percent)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid(_l("The person's share must be a whole number of percent."), code="bad_share") from None
    if not 0 <= percent <= 100:
        raise Invalid(_l("The person's share must be between 0 and 100 percent."), code="bad_share")
    return RegistrationRule(mode="split", person_percent=percent)


def store_registration_rule(
    session: Session, rule: RegistrationRule, *, outlet_id: int | None, actor_id: int | None
) -> None:
    key = RULE_KEY if outlet_id is None else outlet_rule_key(outlet_id)
    put_setting(session, key, asdict(rule), actor_id=actor_id)


@dataclass(frozen=True)
class PointValue:
    amount: Decimal = Decimal("1.00")
    currency: str = "RUB"

    def of(self, points: int) -> Decimal:
        return (self.amount * points).quantize(Decimal("0.01"))


def point_value(session: Session) -> PointValue:
    value = get_setting(session, POINT_VALUE_KEY, None) or {}
    return PointValue(amount=Decimal(str(value.get("amount", "1.00"))), currency=value.get("currency", "RUB"))


def validate_point_value(amount: str, currency: str = "RUB") -> PointValue:
    try:
        value = Decimal(str(amount).replace(",", ".").strip())
    except InvalidOperation:
        raise Invalid(
            _l("The value of a point must be a number, such as 0.50."), code="bad_point_value"
        ) from None
    if not value.is_finite() or value < 0 or value > 1_000_000:
        raise Invalid(_l("The value of a point must be a number, such as 0.50."), code="bad_point_value")
    currency = (currency or "RUB").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid(_l("The currency must be a three-letter code, such as RUB."), code="bad_currency")
    return PointValue(amount=value.quantize(Decimal("0.0001")), currency=currency)


def store_point_value(session: Session, value: PointValue, *, actor_id: int | None) -> None:
    put_setting(
        session, POINT_VALUE_KEY, {"amount": str(value.amount), "currency": value.currency}, actor_id=actor_id
    )
