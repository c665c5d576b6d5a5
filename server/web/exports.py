"""A report or the raw visits as CSV (UTF-8 with BOM, so Excel reads ə and ş) or as XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from werkzeug.wrappers import Response

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The report's tables as exported: sheet name, report key, columns in order.
REPORT_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Hours", "hours", ("hour", "arrived", "served")),
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
    "transferred",
    "no_show_percent",
    "transfer_percent",
    "priority_percent",
    "within_target_percent",
    "wait_median_s",
    "wait_p90_s",
    "service_median_s",
    "service_p90_s",
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


def report_csv(report: dict[str, Any]) -> bytes:
    """Return the report as one CSV: each table under a line naming it, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out)
    for title, header, rows in report_tables(report):
        writer.writerow([f"# {title}"])
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode()


def report_xlsx(report: dict[str, Any]) -> bytes:
    """Return the report as a workbook with one sheet per table."""
    book = Workbook(write_only=True)
    for title, header, rows in report_tables(report):
        sheet = book.create_sheet(title)
        sheet.append(list(header))
        for row in rows:
            sheet.append(row)
    return _saved(book)


def table_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Return a table as CSV: a header line, then one line per row (raw visits, centers)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def table_xlsx(
    header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_name: str = "Visits"
) -> bytes:
    """Return a table as a one-sheet workbook (written row by row, never held as cells)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    return _saved(book)


def attachment(body: bytes, name: str) -> Response:
    """Return ``body`` as a download named ``name`` (.csv or .xlsx)."""
    mimetype = "text/csv" if name.endswith(".csv") else XLSX_MIMETYPE
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
