"""Spreadsheet cells that a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from partner_club import spreadsheets

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_text_starting_a_formula_gets_an_apostrophe_numbers_stay_numbers():
    assert [spreadsheets.safe_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert spreadsheets.safe_cell(-3) == -3 and spreadsheets.safe_cell(2.5) == 2.5
    assert spreadsheets.safe_cell(date(2026, 1, 2)) == date(2026, 1, 2)
    assert spreadsheets.safe_cell(None) == "" and spreadsheets.safe_cell("Shop =1") == "Shop =1"


def test_csv_and_xlsx_read_back_as_text():
    rows = [[name, 7] for name in HOSTILE]
    text = spreadsheets.csv_text(["name", "n"], rows)
    assert text.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert [r[0] for r in read[1:]] == ["'" + v for v in HOSTILE] and read[1][1] == "7"
    sheet = load_workbook(io.BytesIO(spreadsheets.xlsx_bytes(["name", "n"], rows, title="t"))).active
    cells = list(sheet.iter_rows(min_row=2))
    assert all(row[0].data_type == "s" and row[0].value.startswith("'") for row in cells)
    assert all(row[1].data_type == "n" and row[1].value == 7 for row in cells)
