"""The prize tax register: the organizer pays the participants' tax on prizes.

In Russia prizes from promotional programmes are income taxed at 35% above a
tax-free allowance of 4,000 roubles per person and calendar year. The
organizer acts as tax agent and pays the tax itself, so the tax it pays is
one more benefit to the participant and the income is grossed up:

    taxable = max(0, value of the year's prizes - allowance)
    tax     = taxable × rate / (1 − rate)          (rounded to whole roubles)

With 35%: tax = taxable × 0.35 / 0.65 ≈ 0.5385 × taxable. A person with
prizes worth 10,000 roubles in a year: taxable 6,000, tax 3,231 roubles
(the grossed-up income 9,231 taxed at 35% is exactly 3,231).

A prize counts in the calendar year (Moscow time) its order was placed, as
long as the order is not cancelled. Allowance and rate are settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Order, OrderStatus, TaxProfile
from partner_club import spreadsheets
from partner_club.accounts.models import User
from partner_club.accounts.signup import inn_checksum_ok
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.errors import Invalid
from partner_club.settings_store import get_setting, put_setting

SETTING_KEY = "catalog.tax"
TAX_ZONE = ZoneInfo("Europe/Moscow")
DEFAULTS = {"allowance_rub": 4000, "rate_percent": 35}


@dataclass(frozen=True)
class TaxSettings:
    allowance_rub: int
    rate_percent: Decimal

    @property
    def allowance_kopecks(self) -> int:
        return self.allowance_rub * 100


def tax_settings(session: Session) -> TaxSettings:
    stored = {**DEFAULTS, **(get_setting(session, SETTING_KEY, {}) or {})}
    return TaxSettings(int(stored["allowance_rub"]), Decimal(str(stored["rate_percent"])))


def save_tax_settings(
    session: Session, *, allowance_rub: int, rate_percent: Decimal | float, actor: User
) -> TaxSettings:
    rate = Decimal(str(rate_percent))
    if allowance_rub < 0:
        raise Invalid(_("The allowance cannot be negative."), code="bad_allowance")
    if not Decimal(0) <= rate < Decimal(100):
        raise Invalid(_("The rate must be from 0 to 99.99 percent."), code="bad_rate")
    put_setting(
        session, SETTING_KEY, {"allowance_rub": allowance_rub, "rate_percent": str(rate)}, actor_id=actor.id
    )
    record(session, actor, "catalog.tax_settings", None, allowance_rub=allowance_rub, rate_percent=str(rate))
    return tax_settings(session)


def tax_on(value_kopecks: int, settings: TaxSettings) -> tuple[int, int]:
    """(taxable part, tax) in kopecks for one person's prizes of one year."""
    taxable = max(0, value_kopecks - settings.allowance_kopecks)
    rate = settings.rate_percent / 100
    tax_rub = (Decimal(taxable) / 100 * rate / (1 - rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return taxable, int(tax_rub) * 100


def year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=TAX_ZONE).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=TAX_ZONE).astimezone(UTC)
    return start, end


def tax_year(at: datetime) -> int:
    return at.astimezone(TAX_ZONE).year


def value_received(session: Session, user_id: int, year: int) -> int:
    start, end = year_bounds(year)
    total = session.scalar(
        select(func.coalesce(func.sum(Order.value_kopecks), 0)).where(
            Order.user_id == user_id,
            Order.status != OrderStatus.CANCELLED.value,
            Order.placed_at >= start,
            Order.placed_at < end,
        )
    )
    return int(total or 0)


def needs_tax_profile(
    session: Session, user: User, extra_value_kopecks: int, at: datetime | None = None
) -> bool:
    """True when this order crosses the allowance and the person has not given INN and consent."""
    settings = tax_settings(session)
    year = tax_year(at or utcnow())
    if value_received(session, user.id, year) + extra_value_kopecks <= settings.allowance_kopecks:
        return False
    return session.scalar(select(TaxProfile.id).where(TaxProfile.user_id == user.id)) is None


def valid_inn(inn: str) -> bool:
    """An individual's INN: 12 digits whose last two are check digits."""
    return len(inn) == 12 and inn_checksum_ok(inn)


def save_tax_profile(session: Session, user: User, inn: str, *, consent: bool) -> TaxProfile:
    inn = "".join(inn.split())
    if not valid_inn(inn):
        raise Invalid(
            _("This is not a valid INN: a person's INN has 12 digits and its last two are check digits."),
            code="bad_inn",
        )
    if not consent:
        raise Invalid(_("Please agree that the organizer pays the tax on your prizes."), code="no_consent")
    profile = session.scalar(select(TaxProfile).where(TaxProfile.user_id == user.id))
    if profile is None:
        profile = TaxProfile(user_id=user.id, inn=inn, consent_at=utcnow())
        session.add(profile)
    else:
        profile.inn = inn
    session.flush()
    record(session, user, "catalog.tax_profile", profile, inn=inn)  # kept masked by the audit log
    return profile


@dataclass(frozen=True)
class RegisterRow:
    user_id: int
    name: str
    login: str
    inn: str
    consent_at: datetime | None
    orders: int
    value_kopecks: int
    taxable_kopecks: int
    tax_kopecks: int


def tax_register(session: Session, year: int) -> list[RegisterRow]:
    settings = tax_settings(session)
    start, end = year_bounds(year)
    rows = session.execute(
        select(User, TaxProfile, func.count(Order.id), func.sum(Order.value_kopecks))
        .join(Order, Order.user_id == User.id)
        .outerjoin(TaxProfile, TaxProfile.user_id == User.id)
        .where(Order.status != OrderStatus.CANCELLED.value, Order.placed_at >= start, Order.placed_at < end)
        .group_by(User.id, TaxProfile.id)
        .order_by(User.full_name, User.id)
    ).all()
    result = []
    for user, profile, count, value in rows:
        taxable, tax = tax_on(int(value or 0), settings)
        result.append(
            RegisterRow(
                user.id,
                user.display_name,
                user.login,
                profile.inn if profile else "",
                profile.consent_at if profile else None,
                int(count),
                int(value or 0),
                taxable,
                tax,
            )
        )
    return result


REGISTER_HEADER = (
    "user_id",
    "name",
    "login",
    "inn",
    "consent_at",
    "orders",
    "value_rub",
    "taxable_rub",
    "tax_rub",
)


def _cells(row: RegisterRow) -> tuple:
    return (
        row.user_id,
        row.name,
        row.login,
        row.inn,
        row.consent_at.isoformat() if row.consent_at else "",
        row.orders,
        row.value_kopecks / 100,
        row.taxable_kopecks / 100,
        row.tax_kopecks / 100,
    )


def register_csv(rows: list[RegisterRow]) -> str:
    return spreadsheets.csv_text(REGISTER_HEADER, (_cells(row) for row in rows), bom=False)


def register_xlsx(rows: list[RegisterRow], year: int) -> bytes:
    return spreadsheets.xlsx_bytes(REGISTER_HEADER, (_cells(row) for row in rows), title=f"Prize tax {year}")
