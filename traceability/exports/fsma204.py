"""The FDA FSMA 204 "electronic sortable spreadsheet" (21 CFR 1.1455(c)(3)(ii)): one row per
critical tracking event (CTE), the key data elements (KDEs) of 21 CFR 1.1325 to 1.1350 as
columns, written as CSV or XLSX while the records stream past.

Sources. The KDEs and their wording are those of the codified rule, 21 CFR Part 1 Subpart S
(eCFR): harvesting 1.1325(a), initial packing 1.1330(a), shipping 1.1340(a), receiving
1.1345(a), transformation 1.1350(a), and "location description" as defined in 1.1310
(business name, phone, physical address or geographic coordinates). FDA's own template
("FSMAFoodTraceability-ElectronicSortableSpreadsheet-June2024.xlsx", fda.gov/media/179617)
could not be read from here; the column names follow the rule's KDE names as the Produce
Traceability Initiative's FSMA 204 implementation guidance (2024) labels them (Traceability
Lot Code, Product Description, Quantity, Unit of Measure, TLC Source or TLC Source Reference,
Reference Document Type and Number). A transformation with several inputs takes one row per
input lot, the output's KDEs repeated, as TrackVision's worked example of the spreadsheet
recommends, so that filtering on an input lot code finds every lot made from it; the rows of
one event share its Reference Document Number.

What a row says, for Suyuan:
- The reference document is the signed Suyuan record: type "Suyuan signed record", number
  "<log index>:<leaf hash hex>" (RFC 9162 leaf hash), which anyone can check against the log.
  A shipment's carrier and tracking number (its waybill) are two more columns.
- Harvesting rows carry the field lot's code in the TLC column: under 1.1320 the TLC is
  assigned only at initial packing or transformation, so their TLC source columns are empty.
- Initial Packing rows carry the harvest date, farm and field of the lot's own harvests or,
  for a lot made from others, of its inputs' harvests (at any depth).
- Transformation rows leave Quantity empty: a new lot's record names its inputs but not its
  yield; the Initial Packing row of the same TLC has the packed quantity.
- Not CTEs, and so not rows: lot creation without inputs (the harvest is the CTE), planting,
  input, irrigation and observation (farm practice, which Subpart S does not ask for),
  inspection and recall (a regulator's acts about the food, not steps of its supply chain),
  and the grower's certificate (承诺达标合格证: a commitment about the food's quality, not a
  step of its supply chain; the EPCIS export carries it).
  No Suyuan record is a cooling (1.1325(b)) or first land-based receiving (1.1335) event.
- Only a lot's owner signs its events, so the ship-from and receiving locations are the
  owner's (the farm with its plot's coordinates when the lot is on a plot); the recipient
  and the previous source are the grower's own words ("to", "from").
- Units are the grower's, named so that FDA can read them: "jin (0.5 kg)", "t (1000 kg)".
- Rows read the corrected records (protocol §11). A corrected record's row carries its
  replacement's values, and its Correction cell names the correction: "Corrected by log
  entry N (received <time>): <reason>". A voided record's row stays with the values as
  logged, its Correction cell starting "Voided": a shipment the grower says never happened
  is still a lead for an investigator, and filtering on the column sets it aside. The
  harvest dates later rows carry are the corrected ones, without voided harvests. The
  Reference Document Number stays the corrected record's; a correction is no row of its own.

Memory stays flat: rows are made as records arrive; what a later row needs from earlier
records is kept per lot (its LotInfo, already held by the record reader, and its harvest
dates), never the records themselves; only the few corrected records and their corrections
are read before the first row (`source`). An export cut by date starts without the harvests
before the window, so rows after it may lack them; an export by lot includes every ancestor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from signing.payloads import LotRecord, utc_time
from signing.units import UNITS

from ..accounts.parties import Party
from ..lots.urls import lot_url
from .source import Exported, LotInfo, PlotInfo

COLUMNS = [
    "Critical Tracking Event (CTE)",
    "21 CFR Section",
    "Traceability Lot Code (TLC)",
    "Product Description",
    "Commodity",
    "Variety",
    "Quantity",
    "Unit of Measure",
    "Package Count",
    "Event Date",
    "Event Time",
    "Location Description",
    "Immediate Previous Source Location Description",
    "Immediate Subsequent Recipient Location Description",
    "Traceability Lot Code Source Location Description",
    "Traceability Lot Code Source Reference",
    "Harvest Date",
    "Harvest Farm Location Description",
    "Harvest Field or Growing Area",
    "Input Traceability Lot Code",
    "Input Product Description",
    "Input Quantity",
    "Input Unit of Measure",
    "Carrier",
    "Carrier Tracking Number",
    "Reference Document Type",
    "Reference Document Number",
    "Correction",
]

REFERENCE_DOCUMENT_TYPE = "Suyuan signed record"
# Typed as numbers and dates in the XLSX so that sorting a column sorts by value, not by text.
NUMBER_COLUMNS = {"Quantity", "Package Count", "Input Quantity"}
DATE_COLUMNS = {"Event Date"}
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK = 64 * 1024


def fsma_rows(items: Iterable[Exported], *, public_url: str | None = None) -> Iterator[list[str]]:
    """One list of strings in COLUMNS order per CTE, as the records arrive. With `public_url`,
    a lot's public page is given as its TLC source reference (a web address FDA can open)."""
    lots = _Lots()
    for item in items:
        effective = item.effective
        lots.see(item.lot, effective)
        if effective is not None:
            item = replace(item, record=effective)
        if item.record.type == "batch":
            yield from _transformation(item, lots, public_url)
        elif item.record.type in _ROWS:
            yield _ROWS[item.record.type](item, lots, public_url)


def csv_chunks(items: Iterable[Exported], *, public_url: str | None = None) -> Iterator[bytes]:
    """The spreadsheet as UTF-8 CSV with a byte order mark (so Excel reads the Chinese right),
    the header first (before any record is read), then chunks of at least 64 KiB yielded
    while the records are still being read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    yield buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for row in fsma_rows(items, public_url=public_url):
        writer.writerow([_neutralise(cell) for cell in row])
        if buffer.tell() >= CSV_CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def write_xlsx(items: Iterable[Exported], path: str | Path, *, public_url: str | None = None) -> None:
    """The spreadsheet as XLSX, streamed row by row to `path` (openpyxl's write-only mode): a
    bold, frozen header with filters, quantities as numbers, event dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("FSMA 204")
    sheet.freeze_panes = "A2"
    for index, name in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(name) + 2))
    bold = Font(bold=True)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in fsma_rows(items, public_url=public_url):
        values: list[object] = []
        for name, text in zip(COLUMNS, row, strict=True):
            if not text:
                values.append(None)
            elif name in NUMBER_COLUMNS:
                values.append(_parse_number(text))
            elif name in DATE_COLUMNS:
                values.append(date.fromisoformat(text))
            else:
                # openpyxl refuses control characters outright; a grower's text must not abort the export.
                values.append(_neutralise(ILLEGAL_CHARACTERS_RE.sub("", text)))
        sheet.append(values)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    workbook.save(path)


# -- the CTEs ---------------------------------------------------------------------------------


def _harvest(item: Exported, lots: _Lots, public_url: str | None) -> list[str]:
    lot = item.lot
    row = _row(item, "Harvesting", "21 CFR 1.1325(a)")
    row.update(_quantity(item.record.data))
    row["Location Description"] = _farm(lot)
    row["Harvest Date"] = row["Event Date"]
    row["Harvest Farm Location Description"] = _farm(lot)
    row["Harvest Field or Growing Area"] = _plot(lot.plot)
    return _ordered(row)


def _packing(item: Exported, lots: _Lots, public_url: str | None) -> list[str]:
    row = _row(item, "Initial Packing", "21 CFR 1.1330(a)")
    row.update(_quantity(item.record.data))
    row["Package Count"] = _number(item.record.data["package_count"])
    row["Location Description"] = _where(item.lot)
    row.update(_tlc_source(item.lot, public_url))
    row.update(lots.harvest_kdes(item.lot.lot))
    return _ordered(row)


def _shipping(item: Exported, lots: _Lots, public_url: str | None) -> list[str]:
    row = _row(item, "Shipping", "21 CFR 1.1340(a)")
    row.update(_quantity(item.record.data))
    row["Location Description"] = _where(item.lot)
    row["Immediate Subsequent Recipient Location Description"] = item.record.data["to"]
    row.update(_tlc_source(item.lot, public_url))
    row["Carrier"] = item.record.data.get("carrier") or ""
    row["Carrier Tracking Number"] = item.record.data.get("tracking") or ""
    return _ordered(row)


def _receiving(item: Exported, lots: _Lots, public_url: str | None) -> list[str]:
    row = _row(item, "Receiving", "21 CFR 1.1345(a)")
    row.update(_quantity(item.record.data))
    row["Location Description"] = _where(item.lot)
    row["Immediate Previous Source Location Description"] = item.record.data["from"]
    row.update(_tlc_source(item.lot, public_url))
    return _ordered(row)


def _transformation(item: Exported, lots: _Lots, public_url: str | None) -> Iterator[list[str]]:
    for input_lot, quantity, unit in item.lot.inputs:
        row = _row(item, "Transformation", "21 CFR 1.1350(a)")
        row["Location Description"] = _where(item.lot)
        row.update(_tlc_source(item.lot, public_url))
        source = lots.info.get(input_lot)
        row["Input Traceability Lot Code"] = input_lot
        row["Input Product Description"] = _product(source) if source else ""
        row["Input Quantity"] = _number(quantity)
        row["Input Unit of Measure"] = _unit(unit)
        # 1.1350(b): a raw commodity transformed before initial packing carries its harvest KDEs.
        row.update(lots.harvest_kdes(input_lot))
        yield _ordered(row)


_ROWS = {"harvest": _harvest, "packing": _packing, "shipping": _shipping, "receiving": _receiving}


class _Lots:
    """Per lot, what later rows need: its LotInfo (shared with the record reader's cache) and
    the dates it was harvested."""

    def __init__(self) -> None:
        self.info: dict[str, LotInfo] = {}
        self.harvested: dict[str, set[str]] = {}

    def see(self, lot: LotInfo, record: LotRecord | None) -> None:
        """`record`: as corrected, None if voided."""
        self.info.setdefault(lot.lot, lot)
        if record is not None and record.type == "harvest":
            self.harvested.setdefault(lot.lot, set()).add(record.occurred_at.date().isoformat())

    def harvest_kdes(self, lot: str) -> dict[str, str]:
        dates: set[str] = set()
        farms: dict[str, None] = {}
        fields: dict[str, None] = {}
        pending, seen = [lot], set()
        while pending:
            code = pending.pop()
            if code in seen or code not in self.info:
                continue
            seen.add(code)
            info = self.info[code]
            if code in self.harvested:
                dates |= self.harvested[code]
                farms[_farm(info)] = None
                if info.plot:
                    fields[_plot(info.plot)] = None
            else:
                pending.extend(i for i, _, _ in reversed(info.inputs))
        return {
            "Harvest Date": "; ".join(sorted(dates)),
            "Harvest Farm Location Description": "; ".join(farms),
            "Harvest Field or Growing Area": "; ".join(fields),
        }


# -- cells ------------------------------------------------------------------------------------


def _row(item: Exported, cte: str, section: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    lot = item.lot
    row.update(
        {
            "Critical Tracking Event (CTE)": cte,
            "21 CFR Section": section,
            "Traceability Lot Code (TLC)": lot.lot,
            "Product Description": _product(lot),
            "Commodity": lot.product,
            "Variety": lot.variety or "",
            # The date in the signer's own offset: the day it was on the farm, not in UTC.
            "Event Date": item.record.occurred_at.date().isoformat(),
            "Event Time": item.record.occurred_at.isoformat(),
            "Reference Document Type": REFERENCE_DOCUMENT_TYPE,
            "Reference Document Number": f"{item.record.index}:{item.record.leaf_hash}",
            "Correction": _correction(item.correction),
        }
    )
    return row


def _correction(correction: LotRecord | None) -> str:
    if correction is None:
        return ""
    done = "Voided" if correction.data.get("replacement") is None else "Corrected"
    received = utc_time(correction.recorded_at)
    return f"{done} by log entry {correction.index} (received {received}): {correction.data['reason']}"


def _ordered(row: dict[str, str]) -> list[str]:
    return [row[name] for name in COLUMNS]


def _quantity(data: Mapping[str, Any]) -> dict[str, str]:
    if data.get("quantity") is None:
        return {}
    # .get: a shipment logged before quantity and unit had to go together may lack its unit.
    unit = data.get("unit") or ""
    return {"Quantity": _number(data["quantity"]), "Unit of Measure": _unit(unit)}


def _tlc_source(lot: LotInfo, public_url: str | None) -> dict[str, str]:
    return {
        "Traceability Lot Code Source Location Description": _where(lot),
        "Traceability Lot Code Source Reference": lot_url(public_url, lot.lot) if public_url else "",
    }


def _product(lot: LotInfo) -> str:
    text = " ".join(part for part in (lot.product, lot.variety) if part)
    return f"{text}, GTIN {lot.gtin}" if lot.gtin else text


def _party(party: Party) -> str:
    parts = [party.name, party.agency, party.region, f"tel {party.phone}" if party.phone else None]
    return ", ".join(part for part in parts if part)


def _plot(plot: PlotInfo | None) -> str:
    return f"{plot.name} ({plot.lat:.6f}, {plot.lon:.6f})" if plot else ""


def _farm(lot: LotInfo) -> str:
    """The farm as 1.1310 describes a location: business name, place (region and the plot's
    coordinates), phone."""
    owner = lot.owner
    parts = [owner.name, owner.region, _plot(lot.plot), f"tel {owner.phone}" if owner.phone else None]
    return ", ".join(part for part in parts if part)


def _where(lot: LotInfo) -> str:
    """Where the lot's owner works the lot: the farm when the lot is on a plot, else the owner."""
    return _farm(lot) if lot.plot else _party(lot.owner)


def _unit(code: str) -> str:
    """Units as the grower gave them, named so that FDA can read them (a shipment logged before
    quantity and unit had to go together may have none)."""
    return UNITS[code].english if code in UNITS else code


def _number(value: float | int) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _parse_number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _neutralise(text: str) -> str:
    """Grower strings are hostile: a name like =HYPERLINK(...) must stay text in a spreadsheet."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
