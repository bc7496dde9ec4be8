"""The FSMA 204 sortable spreadsheet of a farm seeded through the API: one row per critical
tracking event with its key data elements, as CSV and XLSX, streamed, safe from formulas."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import UTC, date, datetime

import openpyxl
import pytest

from signing.payloads import LotRecord
from tests.conftest import BOTH_DATABASES
from tests.orchard import GTIN, grow, recall
from traceability.accounts.parties import Party
from traceability.exports.fsma204 import COLUMNS, FORMULA_STARTS, csv_chunks, fsma_rows, write_xlsx
from traceability.exports.source import Exported, LotInfo, exported

HOSTILE_NAME = '=HYPERLINK("http://x")'
HOSTILE_SOURCE = "+cmd|' /C calc'!A0"
RECEIVED_AT = "2008-10-26T08:00:00+08:00"


@pytest.fixture
def season(farm):
    """The orchard's season, a second shipment with a waybill, the receipt, and records that
    are not CTEs (an observation, a recall)."""
    orchard = grow(farm)
    farm.event(orchard.grower, orchard.field_lot, "observation", {"note": "果面光洁"}, "2008-10-21T08:00:00+08:00")
    shipped = farm.event(
        orchard.grower,
        orchard.packed_lot,
        "shipping",
        {"to": "北京新发地市场", "carrier": "顺丰", "tracking": "SF1234567890"},
        "2008-10-25T10:00:00+08:00",
    )
    received = farm.event(
        orchard.grower,
        orchard.packed_lot,
        "receiving",
        {"from": "洛川县果品合作社", "quantity": 20, "unit": "box"},
        RECEIVED_AT,
    )
    recall(farm, orchard, orchard.field_lot)
    return orchard, shipped, received


def _by_name(row: list[str]) -> dict[str, str]:
    assert len(row) == len(COLUMNS)
    return dict(zip(COLUMNS, row, strict=True))


@pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
def test_one_row_per_cte_with_its_key_data_elements(services, season) -> None:
    orchard, shipped, received = season
    with services.sessions() as session:
        rows = [_by_name(r) for r in fsma_rows(exported(session), public_url="http://testserver")]

    # Lot creation without inputs, planting, pesticide, observation, inspection and recall are not CTEs.
    assert [r["Critical Tracking Event (CTE)"] for r in rows] == [
        "Harvesting",
        "Transformation",
        "Initial Packing",
        "Shipping",
        "Shipping",
        "Receiving",
    ]
    harvest, transformation, packing, shipping, waybill, receiving = rows
    harvest_date = datetime.fromisoformat(orchard.harvested_at).date().isoformat()

    assert harvest["21 CFR Section"] == "21 CFR 1.1325(a)"
    assert harvest["Traceability Lot Code (TLC)"] == orchard.field_lot
    assert (harvest["Commodity"], harvest["Variety"], harvest["Product Description"]) == (
        "苹果",
        "红富士",
        "苹果 红富士",
    )
    assert (harvest["Quantity"], harvest["Unit of Measure"]) == ("1200", "jin (0.5 kg)")
    assert harvest["Event Date"] == harvest["Harvest Date"] == harvest_date
    assert harvest["Event Time"] == datetime.fromisoformat(orchard.harvested_at).isoformat()
    for column in ("Location Description", "Harvest Farm Location Description"):
        assert harvest[column].startswith("王秀英, 陕西省延安市洛川县, 后山果园 (")
    assert re.fullmatch(r"后山果园 \(-?\d+\.\d{6}, -?\d+\.\d{6}\)", harvest["Harvest Field or Growing Area"])
    assert harvest["Traceability Lot Code Source Location Description"] == ""  # no TLC before initial packing

    assert transformation["21 CFR Section"] == "21 CFR 1.1350(a)"
    assert transformation["Traceability Lot Code (TLC)"] == orchard.packed_lot
    assert transformation["Product Description"] == f"苹果礼盒 红富士, GTIN {GTIN}"
    assert transformation["Quantity"] == ""
    assert transformation["Input Traceability Lot Code"] == orchard.field_lot
    assert transformation["Input Product Description"] == "苹果 红富士"
    assert (transformation["Input Quantity"], transformation["Input Unit of Measure"]) == ("200", "jin (0.5 kg)")
    assert transformation["Harvest Date"] == harvest_date
    assert transformation["Traceability Lot Code Source Location Description"] == "王秀英, 陕西省延安市洛川县"
    assert transformation["Traceability Lot Code Source Reference"] == f"http://testserver/b/{orchard.packed_lot}"

    assert packing["21 CFR Section"] == "21 CFR 1.1330(a)"
    assert packing["Traceability Lot Code (TLC)"] == orchard.packed_lot
    assert (packing["Quantity"], packing["Unit of Measure"], packing["Package Count"]) == ("200", "jin (0.5 kg)", "20")
    assert packing["Event Date"] == "2008-10-24"
    assert packing["Harvest Date"] == harvest_date
    assert packing["Harvest Farm Location Description"] == harvest["Harvest Farm Location Description"]
    assert packing["Harvest Field or Growing Area"] == harvest["Harvest Field or Growing Area"]
    assert packing["Location Description"] == "王秀英, 陕西省延安市洛川县"

    assert shipping["21 CFR Section"] == "21 CFR 1.1340(a)"
    assert (shipping["Quantity"], shipping["Unit of Measure"], shipping["Event Date"]) == ("20", "box", "2008-10-25")
    assert shipping["Immediate Subsequent Recipient Location Description"] == "西安"
    assert shipping["Location Description"] == "王秀英, 陕西省延安市洛川县"
    assert (shipping["Carrier"], shipping["Carrier Tracking Number"]) == ("顺丰", "")
    assert (waybill["Carrier"], waybill["Carrier Tracking Number"]) == ("顺丰", "SF1234567890")
    assert waybill["Quantity"] == waybill["Unit of Measure"] == ""
    assert waybill["Reference Document Number"] == f"{shipped['index']}:{shipped['leaf_hash']}"

    assert receiving["21 CFR Section"] == "21 CFR 1.1345(a)"
    assert receiving["Immediate Previous Source Location Description"] == "洛川县果品合作社"
    assert receiving["Location Description"] == "王秀英, 陕西省延安市洛川县"
    assert (receiving["Quantity"], receiving["Unit of Measure"], receiving["Event Date"]) == ("20", "box", "2008-10-26")
    assert receiving["Traceability Lot Code Source Location Description"] == "王秀英, 陕西省延安市洛川县"
    assert receiving["Reference Document Number"] == f"{received['index']}:{received['leaf_hash']}"

    for row in rows:
        assert row["Reference Document Type"] == "Suyuan signed record"
        assert re.fullmatch(r"\d+:[0-9a-f]{64}", row["Reference Document Number"])
    # The two rows of one transformation would share their reference; different CTEs never do.
    assert len({r["Reference Document Number"] for r in rows}) == len(rows)


def test_packing_of_a_lot_made_from_a_derived_lot_names_the_original_harvest(services, farm) -> None:
    orchard = grow(farm)
    mixed = farm.batch(
        orchard.grower, "苹果混装", inputs=[{"lot": orchard.packed_lot, "quantity": 100, "unit": "jin"}]
    )["lot"]
    farm.event(
        orchard.grower,
        mixed,
        "packing",
        {"quantity": 100, "unit": "jin", "package_count": 5},
        "2008-10-27T09:00:00+08:00",
    )
    with services.sessions() as session:
        rows = [_by_name(r) for r in fsma_rows(exported(session, lot=mixed))]

    packing = rows[-1]
    assert (packing["Critical Tracking Event (CTE)"], packing["Traceability Lot Code (TLC)"]) == (
        "Initial Packing",
        mixed,
    )
    assert packing["Harvest Date"] == datetime.fromisoformat(orchard.harvested_at).date().isoformat()
    assert "后山果园" in packing["Harvest Field or Growing Area"]
    assert packing["Variety"] == ""


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_rows(path) -> tuple[openpyxl.worksheet.worksheet.Worksheet, list[list[str]]]:
    sheet = openpyxl.load_workbook(path).active

    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.date().isoformat()
        return str(value)

    return sheet, [[text(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_csv_and_xlsx_hold_the_same_rows_and_chinese_text(services, season, tmp_path) -> None:
    with services.sessions() as session:
        expected = list(fsma_rows(exported(session)))
        data = b"".join(csv_chunks(exported(session)))
        write_xlsx(exported(session), tmp_path / "fsma204.xlsx")

    parsed = _csv_rows(data)
    assert parsed[0] == COLUMNS
    assert parsed[1:] == expected
    assert "王秀英" in data.decode("utf-8-sig") and "苹果礼盒" in data.decode("utf-8-sig")

    sheet, rows = _xlsx_rows(tmp_path / "fsma204.xlsx")
    assert rows == parsed
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.auto_filter.ref == f"A1:AB{len(rows)}"
    harvest = dict(zip(COLUMNS, next(sheet.iter_rows(min_row=2, max_row=2, values_only=True)), strict=True))
    assert harvest["Quantity"] == 1200  # a number, so the column sorts by value
    assert isinstance(harvest["Event Date"], datetime)


def test_hostile_grower_strings_stay_text(services, farm, tmp_path) -> None:
    orchard = grow(farm, grower_name=HOSTILE_NAME, variety="@SUM(1+1)")
    farm.event(orchard.grower, orchard.packed_lot, "receiving", {"from": HOSTILE_SOURCE}, RECEIVED_AT)
    with services.sessions() as session:
        raw = [_by_name(r) for r in fsma_rows(exported(session))]
        data = b"".join(csv_chunks(exported(session)))
        write_xlsx(exported(session), tmp_path / "hostile.xlsx")
    assert raw[0]["Location Description"].startswith(HOSTILE_NAME)

    parsed = [dict(zip(COLUMNS, r, strict=True)) for r in _csv_rows(data)[1:]]
    sheet, rows = _xlsx_rows(tmp_path / "hostile.xlsx")
    assert [dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]] == parsed
    harvest, receiving = parsed[0], parsed[-1]
    assert harvest["Location Description"] == "'" + raw[0]["Location Description"]
    assert harvest["Variety"] == "'@SUM(1+1)"
    assert receiving["Immediate Previous Source Location Description"] == "'" + HOSTILE_SOURCE
    for cells in (_csv_rows(data), rows):
        assert not [cell for row in cells for cell in row if cell.startswith(FORMULA_STARTS)]
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def _endless_shipments(taken: list[int]):
    """Records for ever, counted as they are taken: an export that waited for the end would hang."""
    owner = Party("g1", "王秀英", "grower", region="陕西省延安市洛川县")
    lot = LotInfo("ABCDEFGHJK", "苹果", "红富士", None, owner, None, (), 1)
    moment = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
    for index in itertools.count(2):
        taken.append(index)
        data = {"to": "西安", "quantity": 20, "unit": "box"}
        record = LotRecord(index, "ab" * 32, lot.lot, index, "shipping", moment, moment, data, (), "cd" * 32, {})
        yield Exported(record, lot, owner)


@pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
def test_csv_streams_before_the_records_end(services, season) -> None:
    with services.sessions() as session:
        records = exported(session)
        taken = []

        def counted():
            for record in records:
                taken.append(record)
                yield record

        chunks = csv_chunks(counted())
        first = next(chunks)
        assert first.startswith(b"\xef\xbb\xbf" + COLUMNS[0].encode())
        assert taken == []  # the header goes out before a single record is read
        assert b"".join(chunks).count(b"\r\n") == 6

    shipped: list[int] = []
    endless = csv_chunks(_endless_shipments(shipped))
    next(endless)
    body = next(endless)
    assert len(body) >= 64 * 1024
    assert len(shipped) < 1000  # rows go out in chunks while records still come
    rows = list(itertools.islice(fsma_rows(_endless_shipments([])), 3))
    assert [r[COLUMNS.index("Event Date")] for r in rows] == [date(2026, 9, 20).isoformat()] * 3
