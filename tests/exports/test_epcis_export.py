"""The EPCIS 2.0 export of a farm seeded through the API: GS1's schema accepts it, every value
of bizStep and disposition is CBV's or ours, every eventID is the event's hash, each kind of
record maps as the table in traceability/exports/epcis.py says, and the document streams."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jsonschema import Draft7Validator

from tests.conftest import BOTH_DATABASES
from tests.corpus import DATA
from tests.orchard import GTIN, grow, recall
from traceability.exports.epcis import CONTEXT, epcis_document
from traceability.exports.epcis_hash import CBV, EPCIS_CONTEXT, event_hash_id
from traceability.exports.source import exported

EPCIS = DATA / "epcis"
SCHEMA = json.loads((EPCIS / "EPCIS-JSON-Schema.json").read_text())
STANDARD_CONTEXT = json.loads((EPCIS / "epcis-context-2.0.0.jsonld").read_text())["@context"]
# CBV 2.0's standard vocabularies, as the EPCIS 2.0 JSON-LD context lists them.
BIZ_STEPS = set(STANDARD_CONTEXT["bizStep"]["@context"])
DISPOSITIONS = set(STANDARD_CONTEXT["disposition"]["@context"])
CREATED = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
BASE = "http://testserver"

# record type → (eventType, action, bizStep, disposition)
MAPPING = {
    "batch": ("ObjectEvent", "OBSERVE", "urn:suyuan:bizstep:lot-registration", None),
    "derived batch": ("TransformationEvent", None, "creating_class_instance", "active"),
    "planting": ("ObjectEvent", "OBSERVE", "urn:suyuan:bizstep:planting", None),
    "pesticide": ("ObjectEvent", "OBSERVE", "urn:suyuan:bizstep:pesticide-application", None),
    "fertiliser": ("ObjectEvent", "OBSERVE", "urn:suyuan:bizstep:fertilising", None),
    "irrigation": ("ObjectEvent", "OBSERVE", "urn:suyuan:bizstep:irrigation", None),
    "observation": ("ObjectEvent", "OBSERVE", "urn:suyuan:bizstep:observation", None),
    "harvest": ("ObjectEvent", "ADD", "commissioning", "active"),
    "packing": ("TransformationEvent", None, "packing", "active"),
    "shipping": ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    "receiving": ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    "inspection pass": ("ObjectEvent", "OBSERVE", "inspecting", "conformant"),
    "inspection fail": ("ObjectEvent", "OBSERVE", "inspecting", "non_conformant"),
    "recall": ("ObjectEvent", "OBSERVE", "holding", "recalled"),
    "certificate": ("ObjectEvent", "OBSERVE", "urn:suyuan:bizstep:certifying", None),
}


@pytest.fixture
def season(farm):
    """The orchard's season and one of every other kind of record: fertiliser, irrigation, an
    observation, a receipt, a failed inspection and a recall."""
    orchard = grow(farm)
    grower, field, packed = orchard.grower, orchard.field_lot, orchard.packed_lot
    farm.event(
        grower,
        field,
        "input",
        {"product": "腐熟羊粪", "kind": "fertiliser", "dose": "2 t/亩"},
        "2008-04-02T08:00:00+08:00",
    )
    farm.event(grower, field, "irrigation", {"method": "滴灌", "amount": 30, "unit": "m3"}, "2008-07-10T06:00:00+08:00")
    farm.event(grower, field, "observation", {"note": "果面光洁 <b>no markup</b>"}, "2008-10-21T08:00:00+08:00")
    farm.event(
        grower,
        packed,
        "receiving",
        {"from": "洛川县果品合作社", "quantity": 20, "unit": "box"},
        "2008-10-25T18:00:00+08:00",
    )
    farm.event(
        orchard.regulator, packed, "inspection",
        {"test": "农药残留快速检测", "result": "fail", "lab": "西安市农产品检测中心", "report": "XA-2008-117"},
        "2008-10-26T10:00:00+08:00",
    )  # fmt: skip
    recall(farm, orchard, field)
    return orchard


def _document(records) -> dict:
    return json.loads(b"".join(epcis_document(records, created=CREATED, base_url=BASE + "/")))


def _kind(item) -> str:
    record = item.record
    if record.type == "batch":
        return "derived batch" if item.lot.inputs else "batch"
    if record.type == "inspection":
        return f"inspection {record.data['result']}"
    return record.work


@pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
def test_the_document_validates_against_gs1_schema_and_cbv(services, season):
    with services.sessions() as session:
        document = _document(exported(session))

    checker = Draft7Validator.FORMAT_CHECKER
    assert not checker.conforms("no uri", "uri")  # the uri format is really checked
    Draft7Validator(SCHEMA, format_checker=checker).validate(document)

    assert document["@context"] == CONTEXT and CONTEXT[0] == EPCIS_CONTEXT
    assert (document["type"], document["schemaVersion"]) == ("EPCISDocument", "2.0")
    assert datetime.fromisoformat(document["creationDate"]) == CREATED
    events = document["epcisBody"]["eventList"]
    for event in events:
        step = event["bizStep"]
        assert (
            step in BIZ_STEPS
            or step.removeprefix(CBV + "BizStep-") in BIZ_STEPS
            or step.startswith("urn:suyuan:bizstep:")
        )
        if "disposition" in event:
            assert (
                event["disposition"] in DISPOSITIONS or event["disposition"].removeprefix(CBV + "Disp-") in DISPOSITIONS
            )


def test_every_event_id_is_the_event_hash(services, season):
    with services.sessions() as session:
        document = _document(exported(session))
    events = document["epcisBody"]["eventList"]
    for event in events:
        without_id = {key: value for key, value in event.items() if key != "eventID"}
        assert event["eventID"] == event_hash_id(without_id, document["@context"])
        assert event["eventID"].startswith("ni:///sha-256;") and event["eventID"].endswith("?ver=CBV2.0")
    assert len({e["eventID"] for e in events}) == len(events)


def test_each_kind_of_record_maps_to_its_event(services, season):
    orchard = season
    with services.sessions() as session:
        records = list(exported(session))
    events = _document(records)["epcisBody"]["eventList"]
    assert len(events) == len(records)
    assert {_kind(r) for r in records} == set(MAPPING)  # every kind of record is in the export

    field_class, packed_class = f"{BASE}/b/{orchard.field_lot}", f"https://id.gs1.org/01/{GTIN}/10/{orchard.packed_lot}"
    by_kind: dict[str, list[dict]] = {}
    for record, event in zip(records, events, strict=True):
        assert (event["suyuan:logIndex"], event["suyuan:leafHash"], event["suyuan:lot"]) == (
            record.record.index,
            record.record.leaf_hash,
            record.lot.lot,
        )
        assert record.signer is not None and event["suyuan:signer"]["suyuan:name"] == record.signer.name
        assert (event["type"], event.get("action"), event["bizStep"], event.get("disposition")) == MAPPING[
            _kind(record)
        ]
        assert event["eventTime"] == record.record.occurred_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert event["eventTimeZoneOffset"] == record.record.occurred_at.isoformat()[-6:]
        assert datetime.fromisoformat(event["recordTime"]) == record.record.recorded_at
        by_kind.setdefault(_kind(record), []).append(event)

    (harvest,) = by_kind["harvest"]
    assert harvest["quantityList"] == [{"epcClass": field_class, "quantity": 600, "uom": "KGM"}]  # 1200 jin
    harvest_day = datetime.fromisoformat(orchard.harvested_at).date().isoformat()
    assert harvest["ilmd"]["cbvmda:harvestStartDate"] == harvest["ilmd"]["cbvmda:harvestEndDate"] == harvest_day
    assert (harvest["ilmd"]["suyuan:product"], harvest["ilmd"]["suyuan:variety"]) == ("苹果", "红富士")
    assert harvest["readPoint"]["id"].startswith("geo:") and harvest["bizLocation"] == harvest["readPoint"]
    assert harvest["suyuan:photoSha256"] == [orchard.photo]

    (derived,) = by_kind["derived batch"]
    assert derived["inputQuantityList"] == [{"epcClass": field_class, "quantity": 100, "uom": "KGM"}]
    assert derived["outputQuantityList"] == [{"epcClass": packed_class}]
    assert derived["ilmd"]["cbvmda:lotNumber"] == orchard.packed_lot

    (packing,) = by_kind["packing"]
    assert packing["inputQuantityList"] == [{"epcClass": packed_class, "quantity": 100, "uom": "KGM"}]
    assert packing["outputQuantityList"] == [{"epcClass": packed_class, "quantity": 20}]  # 20 boxes, a count

    (recalled,) = by_kind["recall"]
    assert recalled["quantityList"] == [{"epcClass": field_class}]
    assert recalled["suyuan:reason"].startswith("农药残留超标")
    assert recalled["suyuan:signer"]["suyuan:role"] == "regulator"
    (failed,) = by_kind["inspection fail"]
    assert (failed["suyuan:lab"], failed["suyuan:report"]) == ("西安市农产品检测中心", "XA-2008-117")
    (shipping,) = by_kind["shipping"]
    assert shipping["quantityList"] == [{"epcClass": packed_class, "quantity": 20}]
    assert (shipping["suyuan:to"], shipping["suyuan:carrier"]) == ("西安", "顺丰")
    assert "readPoint" not in shipping  # a packed lot has no plot of its own
    (receiving,) = by_kind["receiving"]
    assert receiving["suyuan:from"] == "洛川县果品合作社"
    (pesticide,) = by_kind["pesticide"]
    assert (pesticide["suyuan:product"], pesticide["suyuan:phiDays"]) == ("阿维菌素乳油", 14)
    (certificate,) = by_kind["certificate"]
    assert certificate["quantityList"] == [{"epcClass": packed_class, "quantity": 100, "uom": "KGM"}]  # 200 jin
    assert (certificate["suyuan:basis"], certificate["suyuan:contact"]) == (["自控自检", "委托检测"], "0911-7654321")
    assert "disposition" not in certificate  # the grower's commitment, not an inspection's finding


def test_a_lot_export_holds_its_whole_backward_trace(services, season):
    orchard = season
    with services.sessions() as session:
        expected = [r.record.index for r in exported(session) if r.lot.lot in (orchard.field_lot, orchard.packed_lot)]
        document = _document(exported(session, lot=orchard.packed_lot))
    Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).validate(document)
    assert [e["suyuan:logIndex"] for e in document["epcisBody"]["eventList"]] == expected


def test_the_document_streams_one_event_per_chunk(services, season):
    consumed = 0

    def counted(records):
        nonlocal consumed
        for record in records:
            consumed += 1
            yield record

    with services.sessions() as session:
        records = list(exported(session))
    chunks = epcis_document(counted(records), created=CREATED, base_url=BASE)
    received = [next(chunks)]
    assert consumed == 0 and received[0].startswith(b'{"@context": ')
    for n in range(1, 4):
        received.append(next(chunks))
        assert consumed == n  # each event goes out as soon as its record comes in
    received.extend(chunks)
    assert len(received) == len(records) + 2 and received[-1] == b"]}}"
    assert len(json.loads(b"".join(received))["epcisBody"]["eventList"]) == len(records)


def test_an_empty_range_is_an_empty_document(services, season):
    with services.sessions() as session:
        document = _document(exported(session, since=datetime(2100, 1, 1, tzinfo=UTC)))
    Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).validate(document)
    assert document["epcisBody"]["eventList"] == []
