"""Cells a spreadsheet will not run: every CSV and XLSX export writes through here.

Excel, LibreOffice and Google Sheets run a cell that begins with `=`, `+`,
`-` or `@` as a formula (and strip a leading tab or carriage return before
deciding), so a shop named `=HYPERLINK("http://evil", "click")` would become a
live link in a rep's export. Text that begins with one of those characters is
written with a leading apostrophe, the spreadsheets' own "this is text" mark;
numbers, dates and booleans stay what they are. XLSX cells holding text are
written as strings (data type `s`), never as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # Excel opens UTF-8 Cyrillic right only with it


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text: formula starters get an apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_cell(value: Any) -> Any:
    """A cell value: numbers, dates and booleans as they are, anything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    return safe_text(str(value))


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def csv_text(columns: Sequence[Any], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> str:
    """A whole CSV document with a header line and neutralised cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(columns))
    for row in rows:
        writer.writerow(safe_row(row))
    return (BOM if bom else "") + buffer.getvalue()


def xlsx_bytes(columns: Sequence[Any], rows: Iterable[Sequence[Any]], *, title: str) -> bytes:
    """A one-sheet workbook: bold frozen header, text cells typed as text."""
    book = Workbook()
    sheet = book.active
    sheet.title = (title[:31] or "export").replace("/", "-")
    sheet.append([_xlsx_cell(sheet, value) for value in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    # openpyxl reads a str starting with "=" as a formula; a Cell typed "s" is stored as text.
    cell = Cell(sheet, value=safe_text(str(value)))
    cell.data_type = "s"
    return cell
