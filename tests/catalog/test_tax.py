"""The prize tax register: allowance, grossed-up tax, INN, exports."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from catalog import tax
from catalog.services import Item, TaxProfileRequired, cancel_order, place_order
from partner_club.accounts.models import Role
from partner_club.errors import Invalid
from tests.catalog.conftest import ADDRESS, PHONE

RUB = 100


def test_grossed_up_formula():
    settings = tax.TaxSettings(4000, Decimal(35))
    assert tax.tax_on(3999 * RUB, settings) == (0, 0)
    assert tax.tax_on(4000 * RUB, settings) == (0, 0)
    # 6,000 taxable: 6000 × 0.35 / 0.65 = 3230.77 -> 3231; and 9231 × 35% = 3231 (the check of the gross-up)
    assert tax.tax_on(10000 * RUB, settings) == (6000 * RUB, 3231 * RUB)
    assert tax.tax_on(4650 * RUB, settings) == (650 * RUB, 350 * RUB)
    assert tax.tax_on(10000 * RUB, tax.TaxSettings(0, Decimal(13))) == (10000 * RUB, 1494 * RUB)


@pytest.mark.parametrize(
    ("inn", "valid"),
    [
        ("500100732259", True),
        ("7707083893", False),
        ("500100732258", False),
        ("50010073225X", False),
        ("", False),
    ],
)
def test_inn_checksum(inn, valid):
    assert tax.valid_inn(inn) is valid


def test_settings_are_validated_and_stored(db, make):
    admin = make.user(Role.ADMIN)
    assert tax.tax_settings(db.session) == tax.TaxSettings(4000, Decimal(35))
    tax.save_tax_settings(db.session, allowance_rub=5000, rate_percent=30, actor=admin)
    assert tax.tax_settings(db.session) == tax.TaxSettings(5000, Decimal(30))
    with pytest.raises(Invalid):
        tax.save_tax_settings(db.session, allowance_rub=5000, rate_percent=100, actor=admin)


def test_order_over_the_allowance_needs_inn_once_and_the_register_counts_it(db, make, cat):
    admin = make.user(Role.ADMIN)
    person = cat.participant(100000, full_name="Anna Petrova")
    small = cat.prize(points=100, value_kopecks=3000 * RUB)
    big = cat.prize(points=100, value_kopecks=7000 * RUB)
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    place_order(db.session, person, [Item(small.id, 1)], address=ADDRESS, phone=PHONE, at=at)
    db.session.commit()
    with pytest.raises(TaxProfileRequired):
        place_order(db.session, person, [Item(big.id, 1)], address=ADDRESS, phone=PHONE, at=at)
    db.session.rollback()  # as every caller does: nothing of the refused order stays
    with pytest.raises(Invalid):
        tax.save_tax_profile(db.session, person, "500100732259", consent=False)
    tax.save_tax_profile(db.session, person, "5001 0073 2259", consent=True)
    place_order(db.session, person, [Item(big.id, 1)], address=ADDRESS, phone=PHONE, at=at)
    cancelled = place_order(db.session, person, [Item(big.id, 1)], address=ADDRESS, phone=PHONE, at=at).order
    cancel_order(db.session, cancelled.id, reason="changed my mind", actor=admin)
    # New Year's night in Moscow is still the old year in UTC: it counts in 2027.
    place_order(
        db.session,
        person,
        [Item(small.id, 1)],
        address=ADDRESS,
        phone=PHONE,
        at=datetime(2026, 12, 31, 22, 30, tzinfo=UTC),
    )
    rows = tax.tax_register(db.session, 2026)
    assert len(rows) == 1
    row = rows[0]
    assert (row.name, row.inn, row.orders) == ("Anna Petrova", "500100732259", 2)
    assert (row.value_kopecks, row.taxable_kopecks, row.tax_kopecks) == (10000 * RUB, 6000 * RUB, 3231 * RUB)
    assert [r.value_kopecks for r in tax.tax_register(db.session, 2027)] == [3000 * RUB]
    text = tax.register_csv(rows)
    assert text.splitlines()[0].startswith("user_id,name,login,inn") and "3231.0" in text
    sheet = load_workbook(io.BytesIO(tax.register_xlsx(rows, 2026))).active
    assert sheet.cell(2, 2).value == "Anna Petrova" and sheet.cell(2, 9).value == 3231


def test_register_pages_and_exports(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000, full_name="Boris")
    mug = cat.prize(points=100, value_kopecks=500 * RUB)
    place_order(make.session, person, [Item(mug.id, 1)], address=ADDRESS, phone=PHONE)
    make.session.commit()
    login(admin)
    year = tax.tax_year(datetime.now(UTC))
    page = client.get(f"/prizes/admin/tax?year={year}").get_data(as_text=True)
    assert "Boris" in page and "500.00" in page
    assert "Boris" in client.get(f"/prizes/admin/tax.csv?year={year}").get_data(as_text=True)
    assert client.get(f"/prizes/admin/tax.xlsx?year={year}").data[:2] == b"PK"
    client.post("/prizes/admin/tax/settings", data={"allowance_rub": "100", "rate_percent": "35"})
    assert tax.tax_settings(make.session).allowance_rub == 100
