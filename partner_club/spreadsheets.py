"""Spreadsheets in and out: safe cells for every export, checked text for every import.

Cells a spreadsheet will not run: every CSV and XLSX export writes through here.

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

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

from partner_club.errors import Invalid

MAX_FIELD_CHARS = 1000  # one CSV field of an import; longer is a mistake or an attack
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


# --- reading imports ------------------------------------------------------------


def decode_csv(data: bytes | str) -> str:
    """Text of an uploaded CSV: UTF-8 with or without a byte order mark."""
    if isinstance(data, str):
        return data.lstrip(BOM)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise Invalid(
            _(
                "The file is not UTF-8 text (line %(line)d, byte %(pos)d). Save it as \"CSV UTF-8\".",
                line=line,
                pos=error.start + 1,
            ),
            code="csv_not_utf8",
        ) from None


def csv_delimiter(text: str) -> str:
    """`;` when the header has more of them than commas (Excel in Russian), else `,`."""
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


def csv_problems(text: str, *, delimiter: str | None = None) -> list[tuple[int, str]]:
    """(line, message) for every NUL character and every field over MAX_FIELD_CHARS."""
    problems: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text.lstrip(BOM), newline=""), delimiter=delimiter or csv_delimiter(text))
    line = 0
    try:
        for values in reader:
            start, line = line + 1, reader.line_num
            for column, value in enumerate(values, start=1):
                if "\x00" in value:
                    problems.append((start, _("column %(n)d contains a NUL character (code 0).", n=column)))
                elif len(value) > MAX_FIELD_CHARS:
                    problems.append(
                        (
                            start,
                            _(
                                "column %(n)d has %(length)d characters; at most %(max)d are allowed.",
                                n=column,
                                length=len(value),
                                max=MAX_FIELD_CHARS,
                            ),
                        )
                    )
    except csv.Error as error:  # e.g. a quote never closed, a field beyond the csv module's own limit
        problems.append((line + 1, _("the CSV cannot be read here (%(error)s).", error=str(error))))
    return problems
