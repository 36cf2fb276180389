"""Every figure of a report as a table: CSV and XLSX (openpyxl)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _

from partner_club import spreadsheets
from reports.kpi import METRICS, STATUS_LABELS
from reports.services import Report, Row, ShopCard

FIGURE_METRICS = ("packages", "volume_m3", "points", "active_share", "new_shops", "self_audit_share")


def header() -> list[str]:
    columns = [
        _("Level"),
        _("Code"),
        _("Name"),
        _("Status"),
        _("Gap to target, %"),
        _("Shops"),
        _("Active shops"),
    ]
    for key in FIGURE_METRICS:
        columns += [str(METRICS[key].label), _("Target: %(metric)s", metric=METRICS[key].label)]
    return columns


def row_values(row: Row) -> list[Any]:
    targets = {c.metric.key: c.target for c in row.checks}
    values: list[Any] = [
        row.kind,
        row.code,
        row.name,
        str(STATUS_LABELS[row.status]),
        None if row.gap is None else round(100 * row.gap, 1),
        row.figures.shops,
        row.figures.active_shops,
    ]
    for key in FIGURE_METRICS:
        values += [METRICS[key].value(row.figures), targets.get(key)]
    return values


def report_table(report: Report) -> tuple[list[str], list[list[Any]]]:
    rows = (
        [row_values(report.total)]
        + [row_values(r) for r in report.rows]
        + [row_values(r) for r in report.outlets]
    )
    return header(), rows


def shop_table(card: ShopCard) -> tuple[list[str], list[list[Any]]]:
    columns = [_("Product")] + [month.strftime("%Y-%m") for month in card.months]
    return columns, [[sku, *counts] for sku, counts in card.series.items()]


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    return spreadsheets.csv_text(columns, rows).encode("utf-8")


def to_xlsx(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str) -> bytes:
    return spreadsheets.xlsx_bytes(columns, rows, title=title or "report")
