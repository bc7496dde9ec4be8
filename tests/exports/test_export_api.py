"""The export endpoints (protocol §5): who may export, what to say, and the files themselves."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from jsonschema import Draft7Validator

from tests.orchard import grow

from .test_epcis_export import SCHEMA

RANGE = {"from": "2026-01-01T00:00:00+08:00", "to": "2027-01-01T00:00:00+08:00"}


@pytest.mark.parametrize("path", ["/api/v1/export/epcis", "/api/v1/export/fsma204.csv", "/api/v1/export/fsma204.xlsx"])
def test_only_regulators_export_and_must_say_what(farm, client, path):
    orchard = grow(farm)
    assert client.get(path, params={"lot": orchard.packed_lot}).status_code == 401
    assert client.get(path, params={"lot": orchard.packed_lot}, headers=orchard.grower.headers).status_code == 403
    headers = orchard.regulator.headers
    for params, status, words in (
        ({}, 422, "say what to export"),
        ({"from": "2026-09-01T00:00:00"}, 422, "time zone"),
        ({"from": RANGE["to"], "to": RANGE["from"]}, 422, "before"),
        ({"lot": "lowercase"}, 422, "lot"),
        ({"lot": "NOSUCHLOT"}, 404, "no lot NOSUCHLOT"),
    ):
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == status and words in response.json()["error"]["message"], (params, response.text)


def test_the_fsma_spreadsheet_streams_as_csv_and_downloads_as_xlsx(farm, client, services):
    orchard = grow(farm)
    headers = orchard.regulator.headers
    response = client.get("/api/v1/export/fsma204.csv", params=RANGE, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    ctes = [row[0] for row in rows[1:]]
    assert ctes == ["Harvesting", "Transformation", "Initial Packing", "Shipping"]
    by_lot = client.get("/api/v1/export/fsma204.csv", params={"lot": orchard.packed_lot}, headers=headers)
    assert by_lot.content == response.content  # the packed lot's trace is the whole farm here

    xlsx = client.get("/api/v1/export/fsma204.xlsx", params=RANGE, headers=headers)
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == [rows[0][0], *ctes]
    assert not list(services.settings.data_dir.glob("*.xlsx"))  # the temporary file is gone


def test_the_epcis_export_of_a_lot_validates_and_names_every_record(farm, client):
    orchard = grow(farm)
    response = client.get("/api/v1/export/epcis", params={"lot": orchard.packed_lot}, headers=orchard.regulator.headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/ld+json"
    assert f"suyuan-epcis-{orchard.packed_lot}.jsonld" in response.headers["content-disposition"]
    document = json.loads(response.content)
    Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).validate(document)
    events = document["epcisBody"]["eventList"]
    records = (
        client.get(f"/api/v1/batches/{orchard.field_lot}").json()["records"]
        + client.get(f"/api/v1/batches/{orchard.packed_lot}").json()["records"]
    )
    assert sorted(e["suyuan:logIndex"] for e in events) == sorted(r["index"] for r in records)
    assert all(e["eventID"].startswith("ni:///sha-256;") and e["eventID"].endswith("?ver=CBV2.0") for e in events)


def test_where_the_grower_was_is_the_events_read_point(farm, client):
    orchard = grow(farm)
    farm.event(
        orchard.grower,
        orchard.field_lot,
        "observation",
        {"note": "长势良好", "place": {"lat": 35.1234567, "lon": 109.2}},
    )
    response = client.get("/api/v1/export/epcis", params={"lot": orchard.field_lot}, headers=orchard.regulator.headers)
    document = json.loads(response.content)
    Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).validate(document)
    observed = document["epcisBody"]["eventList"][-1]
    assert observed["readPoint"] == {"id": "geo:35.123457,109.200000"} and "suyuan:place" not in observed


def test_a_time_window_in_any_offset_exports_the_same_records(farm, client):
    orchard = grow(farm)  # recorded at 2026-09-20T02:00Z and the seconds after
    headers = orchard.regulator.headers
    windows = [
        {"from": "2026-09-20T00:00:00Z", "to": "2026-09-21T00:00:00Z"},
        {"from": "2026-09-20T08:00:00+08:00", "to": "2026-09-21T08:00:00+08:00"},
    ]
    exports = [json.loads(client.get("/api/v1/export/epcis", params=w, headers=headers).content) for w in windows]
    assert len(exports[0]["epcisBody"]["eventList"]) == len(exports[1]["epcisBody"]["eventList"]) > 0
    late = {"from": "2026-09-20T11:00:00+08:00", "to": "2026-09-21T11:00:00+08:00"}
    assert (
        json.loads(client.get("/api/v1/export/epcis", params=late, headers=headers).content)["epcisBody"]["eventList"]
        == []
    )


def test_a_shipped_quantity_needs_its_unit_and_odd_offsets_are_refused(farm, client):
    orchard = grow(farm)
    for data, occurred in (
        ({"to": "西安", "quantity": 5}, "2026-09-19T08:00:00+08:00"),
        ({"to": "西安"}, "2026-09-19T08:00:00+14:30"),
    ):
        response = client.post(
            f"/api/v1/batches/{orchard.packed_lot}/events",
            json={"type": "shipping", "occurred_at": occurred, "data": data},
            headers=orchard.grower.headers,
        )
        assert response.status_code == 422, response.text
    csv_export = client.get(
        "/api/v1/export/fsma204.csv", params={"lot": orchard.packed_lot}, headers=orchard.regulator.headers
    )
    assert csv_export.status_code == 200 and csv_export.content.count(b"\n") == 5
