"""A report or the raw visits as CSV (UTF-8 with BOM, so Excel reads ə and ş) or as XLSX.

Every text cell is written as text, never as a formula: a service, counter, clerk or center
named ``=HYPERLINK("http://…?"&A2)`` must not run in the spreadsheet of the manager who opens
the export (OWASP "CSV injection"). In XLSX such a cell is typed as a string; in CSV it gets a
leading apostrophe, which spreadsheets read as "text follows" and do not show.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from werkzeug.wrappers import Response

from server.queue.feedback import REASONS

# What starts a formula in Excel, LibreOffice or Google Sheets, and their full-width forms.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The report's tables as exported: sheet name, report key, columns in order.
REPORT_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Hours", "hours", ("hour", "arrived", "served", "rated", "satisfied_percent")),
    ("Days", "days", ("day",)),
    ("Areas", "areas", ("letter", "name")),
    ("Services", "services", ("code", "letter", "name")),
    ("Counters", "counters", ("name",)),
    ("Clerks", "clerks", ("name",)),
)
FIGURES = (
    "visits",
    "served",
    "no_show",
    "cancelled",
    "unserved",
    "transferred",
    "no_show_percent",
    "transfer_percent",
    "priority_percent",
    "within_target_percent",
    "wait_median_s",
    "wait_p90_s",
    "service_median_s",
    "service_p90_s",
    "cancelled_by_visitor",
    "rated",
    "satisfied_percent",
    "rating_mean",
    *(f"reason_{reason}" for reason in REASONS),
)


def report_tables(report: dict[str, Any]) -> Iterable[tuple[str, Sequence[str], list[list[Any]]]]:
    """Yield each table of a report as (title, header, rows); the totals come first."""
    totals = report["totals"]
    yield (
        "Totals",
        ("from", "to", *FIGURES),
        [[report["from"], report["to"], *(totals[f] for f in FIGURES)]],
    )
    for title, key, columns in REPORT_TABLES:
        header = columns if key == "hours" else (*columns, *FIGURES)
        yield title, header, [[row.get(column) for column in header] for row in report[key]]


def is_formula_like(value: Any) -> bool:
    """Tell whether a spreadsheet would read this cell as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """Return a CSV cell that no spreadsheet runs: text that starts a formula gets a "'"."""
    return f"'{value}" if is_formula_like(value) else value


def _csv_row(writer: Any, row: Iterable[Any]) -> None:
    writer.writerow([csv_cell(value) for value in row])


def _xlsx_row(sheet: WriteOnlyWorksheet, row: Iterable[Any]) -> None:
    """Append a row whose text cells are typed as text, so none becomes a formula."""
    cells: list[Any] = []
    for value in row:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # openpyxl would type "=…" as a formula
            cells.append(cell)
        else:
            cells.append(value)
    sheet.append(cells)


def report_csv(report: dict[str, Any]) -> bytes:
    """Return the report as one CSV: each table under a line naming it, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out)
    for title, header, rows in report_tables(report):
        _csv_row(writer, [f"# {title}"])
        _csv_row(writer, header)
        for row in rows:
            _csv_row(writer, row)
        _csv_row(writer, [])
    return ("\ufeff" + out.getvalue()).encode()


def report_xlsx(report: dict[str, Any]) -> bytes:
    """Return the report as a workbook with one sheet per table."""
    book = Workbook(write_only=True)
    for title, header, rows in report_tables(report):
        sheet = book.create_sheet(title)
        _xlsx_row(sheet, header)
        for row in rows:
            _xlsx_row(sheet, row)
    return _saved(book)


def table_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Return a table as CSV: a header line, then one line per row (raw visits, centers)."""
    out = io.StringIO()
    writer = csv.writer(out)
    _csv_row(writer, header)
    for row in rows:
        _csv_row(writer, row)
    return ("\ufeff" + out.getvalue()).encode()


def table_xlsx(
    header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_name: str = "Visits"
) -> bytes:
    """Return a table as a one-sheet workbook (written row by row, never held as cells)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    _xlsx_row(sheet, header)
    for row in rows:
        _xlsx_row(sheet, row)
    return _saved(book)


def attachment(body: bytes, name: str) -> Response:
    """Return ``body`` as a download named ``name`` (.csv, .json or .xlsx)."""
    mimetype = {"csv": "text/csv", "json": "application/json"}.get(
        name.rsplit(".", 1)[-1], XLSX_MIMETYPE
    )
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
