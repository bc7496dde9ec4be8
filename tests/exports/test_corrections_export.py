"""Corrections in the exports (protocol §11), made through the API as a grower makes them: EPCIS
declares the event as logged in error and adds its corrective event, in a document GS1's
schema accepts; the FSMA 204 spreadsheet carries the corrected values and says which log entry
corrected them, and marks a voided record's row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft7Validator

from tests.conftest import BOTH_DATABASES
from tests.orchard import Orchard, grow
from traceability.exports.epcis import CONTEXT, epcis_document
from traceability.exports.epcis_hash import event_hash_id
from traceability.exports.fsma204 import COLUMNS, csv_chunks, fsma_rows
from traceability.exports.source import exported

from .test_epcis_export import SCHEMA

CREATED = datetime(2026, 9, 21, 8, 0, tzinfo=UTC)
BASE = "http://testserver"
PICKED = "2008-10-21T08:00:00+08:00"  # the day before the day the grower first logged
PICKED_REASON = "采收日期记错了，是21号摘的"
NOT_SHIPPED = "这批货没有发出，记录有误"


@dataclass
class Season:
    orchard: Orchard
    harvest: dict  # the records as the API lists them: index, seq, leaf_hash, record
    shipping: dict
    fixed: dict  # the corrections as the API answered them: index, seq, leaf_hash
    voided: dict
    before: dict  # the EPCIS document of the season before any correction


def _record(client, lot: str, event_type: str) -> dict:
    (record,) = [
        r
        for r in client.get(f"/api/v1/batches/{lot}").json()["records"]
        if r["record"]["payload"].get("type") == event_type
    ]
    return record


def _received(client, lot: str, index: int) -> datetime:
    (record,) = [r for r in client.get(f"/api/v1/batches/{lot}").json()["records"] if r["index"] == index]
    return datetime.fromisoformat(record["record"]["payload"]["time"])


def _document(session, **filters) -> dict:
    return json.loads(b"".join(epcis_document(exported(session, **filters), created=CREATED, base_url=BASE)))


def _events_of(document: dict, index: int) -> list[dict]:
    return [e for e in document["epcisBody"]["eventList"] if e["suyuan:logIndex"] == index]


def _rows(session, **filters) -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in fsma_rows(exported(session, **filters), public_url=BASE)]


def _valid(document: dict) -> None:
    Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).validate(document)


def _time(moment: datetime) -> str:
    """As EPCIS times are written: to the millisecond, in the signer's own offset."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def season(farm, client, services, clock) -> Season:
    """The orchard's season; a day later the grower moves the harvest to the day before and
    voids the shipment."""
    orchard = grow(farm)
    with services.sessions() as session:
        before = _document(session)
    clock.advance(timedelta(days=1))
    harvest = _record(client, orchard.field_lot, "harvest")
    shipping = _record(client, orchard.packed_lot, "shipping")
    fixed = farm.event(
        orchard.grower,
        orchard.field_lot,
        "correction",
        {"corrects": harvest["seq"], "reason": PICKED_REASON, "replacement": {"occurred_at": PICKED}},
    )
    voided = farm.event(
        orchard.grower, orchard.packed_lot, "correction", {"corrects": shipping["seq"], "reason": NOT_SHIPPED}
    )
    return Season(orchard, harvest, shipping, fixed, voided, before)


@pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
def test_epcis_declares_the_logged_event_in_error_and_adds_its_corrective_event(services, client, season) -> None:
    orchard = season.orchard
    with services.sessions() as session:
        document = _document(session)
    _valid(document)
    events = document["epcisBody"]["eventList"]

    logged, corrective = _events_of(document, season.harvest["index"])
    # The event as logged keeps its time and its ID: a repository that holds it finds it by that ID.
    assert logged["eventTime"] == _time(datetime.fromisoformat(orchard.harvested_at))
    (before,) = _events_of(season.before, season.harvest["index"])
    assert logged["eventID"] == before["eventID"]
    assert {k: v for k, v in logged.items() if k != "errorDeclaration"} == before
    assert logged["errorDeclaration"] == {
        "declarationTime": _time(_received(client, orchard.field_lot, season.fixed["index"])),
        "reason": "incorrect_data",
        "correctiveEventIDs": [corrective["eventID"]],
        "suyuan:logIndex": season.fixed["index"],
        "suyuan:leafHash": season.fixed["leaf_hash"],
        "suyuan:reason": PICKED_REASON,
    }

    # The corrective event: the same harvest on the day the correction gives, received with it.
    assert "errorDeclaration" not in corrective
    assert (corrective["type"], corrective["action"], corrective["bizStep"]) == ("ObjectEvent", "ADD", "commissioning")
    assert (corrective["eventTime"], corrective["eventTimeZoneOffset"]) == ("2008-10-21T08:00:00.000+08:00", "+08:00")
    assert corrective["ilmd"]["cbvmda:harvestStartDate"] == corrective["ilmd"]["cbvmda:harvestEndDate"] == "2008-10-21"
    assert logged["ilmd"]["cbvmda:harvestStartDate"] == "2008-10-22"
    assert corrective["quantityList"] == logged["quantityList"]  # only the date was corrected
    assert corrective["recordTime"] == logged["errorDeclaration"]["declarationTime"]
    assert corrective["suyuan:correction"] == {
        "suyuan:logIndex": season.fixed["index"],
        "suyuan:leafHash": season.fixed["leaf_hash"],
        "suyuan:reason": PICKED_REASON,
    }
    assert (corrective["suyuan:seq"], corrective["suyuan:leafHash"]) == (
        season.harvest["seq"],
        logged["suyuan:leafHash"],
    )

    # The voided shipment: declared as never having happened, with nothing in its place.
    (shipped,) = _events_of(document, season.shipping["index"])
    assert shipped["errorDeclaration"]["reason"] == "did_not_occur"
    assert "correctiveEventIDs" not in shipped["errorDeclaration"]
    assert (shipped["errorDeclaration"]["suyuan:logIndex"], shipped["errorDeclaration"]["suyuan:reason"]) == (
        season.voided["index"],
        NOT_SHIPPED,
    )

    # A correction is no business event of its own, and every ID is its event's hash.
    assert not _events_of(document, season.fixed["index"]) and not _events_of(document, season.voided["index"])
    assert len(events) == len(season.before["epcisBody"]["eventList"]) + 1  # one corrective event
    for event in events:
        assert event["eventID"] == event_hash_id({k: v for k, v in event.items() if k != "eventID"}, CONTEXT)
    assert len({e["eventID"] for e in events}) == len(events)

    # The corrected view, as a reader of EPCIS takes it: the events no declaration withdraws.
    current = [e for e in events if "errorDeclaration" not in e]
    assert [e["eventTime"] for e in current if e["bizStep"] == "commissioning"] == [
        _time(datetime.fromisoformat(PICKED))
    ]
    assert not [e for e in current if e["bizStep"] == "shipping"]


@pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
def test_fsma_rows_carry_the_corrected_values_and_name_the_correction(services, client, season) -> None:
    orchard = season.orchard
    with services.sessions() as session:
        rows = _rows(session)
        data = b"".join(csv_chunks(exported(session), public_url=BASE)).decode("utf-8-sig")

    assert [r["Critical Tracking Event (CTE)"] for r in rows] == [
        "Harvesting",
        "Transformation",
        "Initial Packing",
        "Shipping",
    ]
    harvest, transformation, packing, shipping = rows
    fixed_at = _received(client, orchard.field_lot, season.fixed["index"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    voided_at = _received(client, orchard.packed_lot, season.voided["index"]).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert (harvest["Event Date"], harvest["Harvest Date"], harvest["Event Time"]) == (
        "2008-10-21",
        "2008-10-21",
        PICKED,
    )
    assert harvest["Quantity"] == "1200"
    assert (
        harvest["Correction"]
        == f"Corrected by log entry {season.fixed['index']} (received {fixed_at}): {PICKED_REASON}"
    )
    # The reference document is still the record that was corrected.
    assert harvest["Reference Document Number"] == f"{season.harvest['index']}:{season.harvest['leaf_hash']}"
    # Rows that carry the harvest's KDEs carry the corrected date.
    assert transformation["Harvest Date"] == packing["Harvest Date"] == "2008-10-21"
    assert transformation["Correction"] == packing["Correction"] == ""

    # The voided shipment's row stays, as logged, marked.
    assert (shipping["Event Date"], shipping["Immediate Subsequent Recipient Location Description"]) == (
        "2008-10-25",
        "西安",
    )
    assert (
        shipping["Correction"] == f"Voided by log entry {season.voided['index']} (received {voided_at}): {NOT_SHIPPED}"
    )
    assert "Correction" in data.splitlines()[0] and PICKED_REASON in data


def test_the_latest_correction_holds(services, farm, season) -> None:
    orchard = season.orchard
    again = farm.event(
        orchard.grower,
        orchard.field_lot,
        "correction",
        {
            "corrects": season.harvest["seq"],
            "reason": "过秤后重新记数量",
            "replacement": {"occurred_at": PICKED, "data": {"quantity": 1100, "unit": "jin"}},
        },
    )
    with services.sessions() as session:
        document = _document(session)
        (harvest, *_) = _rows(session)
    _valid(document)

    logged, corrective = _events_of(document, season.harvest["index"])
    assert logged["errorDeclaration"]["suyuan:logIndex"] == again["index"]
    assert logged["errorDeclaration"]["correctiveEventIDs"] == [corrective["eventID"]]
    assert corrective["quantityList"][0]["quantity"] == 550  # 1100 jin
    assert "suyuan:note" not in corrective  # the replacement's data is the whole of the data
    assert (harvest["Quantity"], harvest["Event Date"]) == ("1100", "2008-10-21")
    assert harvest["Correction"].startswith(f"Corrected by log entry {again['index']} ")


def test_a_window_that_holds_only_the_corrections_brings_the_records_they_correct(services, season, clock) -> None:
    # The season was logged on the first day; the corrections a day later.
    first_day, second_day = datetime(2026, 9, 20, tzinfo=UTC), datetime(2026, 9, 21, tzinfo=UTC)
    with services.sessions() as session:
        later = _document(session, since=second_day)
        later_rows = _rows(session, since=second_day)
        earlier = _document(session, since=first_day, until=second_day)
        whole = _document(session)
    _valid(later)

    # The corrected records come with the corrections, though they were logged before the window.
    assert [(e["suyuan:logIndex"], "errorDeclaration" in e) for e in later["epcisBody"]["eventList"]] == [
        (season.harvest["index"], True),
        (season.harvest["index"], False),
        (season.shipping["index"], True),
    ]
    assert [(r["Critical Tracking Event (CTE)"], r["Correction"][:9]) for r in later_rows] == [
        ("Harvesting", "Corrected"),
        ("Shipping", "Voided by"),
    ]
    # An export made now of the window the records were logged in reads them corrected too,
    # and the whole log gives each record once.
    assert earlier["epcisBody"]["eventList"] == whole["epcisBody"]["eventList"]
    indexes = [e["suyuan:logIndex"] for e in whole["epcisBody"]["eventList"] if "suyuan:correction" not in e]
    assert len(indexes) == len(set(indexes))


def test_a_lot_export_reads_the_corrections_of_the_lots_it_came_from(services, season) -> None:
    orchard = season.orchard
    with services.sessions() as session:
        document = _document(session, lot=orchard.packed_lot)
        rows = _rows(session, lot=orchard.packed_lot)
    _valid(document)
    assert len(_events_of(document, season.harvest["index"])) == 2
    assert [r["Harvest Date"] for r in rows if r["Traceability Lot Code (TLC)"] == orchard.packed_lot][:2] == [
        "2008-10-21",
        "2008-10-21",
    ]
