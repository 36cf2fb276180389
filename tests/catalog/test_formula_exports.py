"""Orders and the tax register exported with hostile names: no cell runs as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask_babel import force_locale
from openpyxl import load_workbook

from catalog import tax
from catalog.prizes import import_prizes
from catalog.services import Item, place_order
from partner_club.accounts.models import Role
from tests.catalog.conftest import PHONE

EVIL = '=HYPERLINK("http://evil.example","Kazan, Lenina 1, flat 2")'


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_orders_and_tax_register_neutralise_formulas(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    person = cat.participant(100000, full_name="+79161112233")
    prize = cat.prize(points=100, name_en="@SUM(A1:A9)", name_ru="@SUM(A1:A9)")
    place_order(make.session, person, [Item(prize.id, 1)], address=EVIL, phone=PHONE)
    make.session.commit()
    login(admin)
    orders = _rows(client.get("/prizes/admin/orders.csv").get_data(as_text=True))
    line = dict(zip(orders[0], orders[1], strict=True))
    assert line["address"] == "'" + EVIL and line["prize"] == "'@SUM(A1:A9)"
    assert line["name"] == "'+79161112233" and line["quantity"] == "1"
    year = tax.tax_year(datetime.now(UTC))
    register = _rows(client.get(f"/prizes/admin/tax.csv?year={year}").get_data(as_text=True))
    assert register[1][1] == "'+79161112233"
    book = client.get(f"/prizes/admin/tax.xlsx?year={year}").data
    name_cell = load_workbook(io.BytesIO(book)).active.cell(2, 2)
    assert (name_cell.value, name_cell.data_type) == ("'+79161112233", "s")


def test_prize_import_names_over_long_fields_and_nul_by_line(db, make):
    admin = make.user(Role.ADMIN)
    header = "category,name_en,name_ru,points,value_rub,stock,provider_sku\n"
    text = header + "mugs," + "x" * 1001 + ",Кружка,100,500,5,M-1\nmugs,Mug\x00,Кружка,100,500,5,M-2\n"
    with force_locale("en"):
        result = import_prizes(db.session, text, None, actor=admin)
    assert result.created == 0 and len(result.errors) == 2
    assert result.errors[0].startswith("Line 2:") and "1001 characters" in result.errors[0]
    assert result.errors[1].startswith("Line 3:") and "NUL" in result.errors[1]
