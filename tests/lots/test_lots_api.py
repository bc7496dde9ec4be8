"""Plots, lots and events through the API, as growers and regulators use it (protocol §4)."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import BOTH_DATABASES

pytestmark = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


def test_grower_creates_a_lot_and_logs_its_season(farm, client):
    grower = farm.grower("王秀英")
    plot = farm.plot(grower)
    batch = farm.batch(grower, product="苹果", variety="红富士", plot_id=plot)
    lot = batch["lot"]
    assert len(lot) == 10 and lot.isalnum() and lot.upper() == lot

    farm.event(grower, lot, "planting", {"method": "嫁接苗"}, "2026-03-20T08:00:00+08:00")
    farm.event(
        grower, lot, "input", {"product": "阿维菌素", "kind": "pesticide", "phi_days": 14}, "2026-08-20T08:00:00+08:00"
    )
    harvest = farm.harvest(grower, lot, 1200, "jin")
    assert harvest["seq"] == 3 and harvest["warnings"] == []

    shown = client.get(f"/api/v1/batches/{lot}").json()
    assert shown["grower"]["name"] == "王秀英"
    assert shown["plot"]["location"] == {"lat": 35.7621, "lon": 109.4251}
    payloads = [r["record"]["payload"] for r in shown["records"]]
    assert [p["seq"] for p in payloads] == [0, 1, 2, 3]
    assert payloads[3]["data"] == {"quantity": 1200, "unit": "jin"}
    # Each record links to the leaf hash of the one before it.
    for before, after in itertools.pairwise(shown["records"]):
        assert after["record"]["payload"]["prev"] == before["leaf_hash"]


def test_packed_lot_names_the_lots_it_came_from(farm, client):
    grower = farm.grower()
    field = farm.batch(grower)["lot"]
    packed = farm.batch(
        grower, product="苹果礼盒", gtin="6901234567892", inputs=[{"lot": field, "quantity": 200, "unit": "jin"}]
    )
    shown = client.get(f"/api/v1/batches/{packed['lot']}").json()
    assert shown["inputs"] == [{"lot": field, "quantity": 200, "unit": "jin"}]
    assert shown["gtin"] == "06901234567892"
    assert client.get(f"/api/v1/batches/{field}").json()["made_into"] == [packed["lot"]]


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"unit": "kg"}, "data.quantity: Field required"),
        ({"quantity": 0, "unit": "kg"}, "data.quantity: Input should be greater than 0"),
        ({"quantity": 5, "unit": "bushel"}, "data.unit"),
        ({"quantity": 5, "unit": "kg", "colour": "red"}, "data.colour: Extra inputs are not permitted"),
    ],
)
def test_a_harvest_needs_a_quantity_and_a_unit(farm, client, data, complaint):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    response = client.post(
        f"/api/v1/batches/{lot}/events",
        json={"type": "harvest", "occurred_at": "2026-09-18T09:00:00+08:00", "data": data},
        headers=grower.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert complaint in response.json()["error"]["message"]
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == 1


def test_a_pesticide_needs_its_pre_harvest_interval(farm, client):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    response = client.post(
        f"/api/v1/batches/{lot}/events",
        json={
            "type": "input",
            "occurred_at": "2026-09-18T09:00:00+08:00",
            "data": {"product": "吡虫啉", "kind": "pesticide"},
        },
        headers=grower.headers,
    )
    assert response.status_code == 422
    assert "phi_days" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "pruning", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {}}, 422, "invalid"),
        ({"type": "harvest", "occurred_at": "2026-09-18 09:00", "data": {"quantity": 1, "unit": "kg"}}, 422, "invalid"),
        (
            {"type": "harvest", "occurred_at": "2026-09-18T09:00:00", "data": {"quantity": 1, "unit": "kg"}},
            422,
            "invalid",
        ),
        (
            {"type": "harvest", "occurred_at": "2026-02-30T09:00:00+08:00", "data": {"quantity": 1, "unit": "kg"}},
            422,
            "invalid",
        ),
        (
            {"type": "harvest", "occurred_at": "2027-09-18T09:00:00+08:00", "data": {"quantity": 1, "unit": "kg"}},
            422,
            "future_time",
        ),
        (
            {"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "a\u0000b"}},
            422,
            "invalid",
        ),
        (
            {"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "x" * 2001}},
            422,
            "invalid",
        ),
        (
            {
                "type": "observation",
                "occurred_at": "2026-09-18T09:00:00+08:00",
                "data": {"note": "ok"},
                "evidence": ["a" * 64],
            },
            422,
            "unknown_photo",
        ),
        ([1, 2], 422, "invalid"),
    ],
)
def test_bad_events_are_refused_and_store_nothing(farm, client, body, status, code):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    size = client.get("/log/checkpoint").text.split("\n")[1]
    response = client.post(f"/api/v1/batches/{lot}/events", json=body, headers=grower.headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert client.get("/log/checkpoint").text.split("\n")[1] == size


def test_another_growers_plot_cannot_be_used(farm):
    grower, other = farm.grower(), farm.grower()
    plot = farm.plot(other)
    response = farm.client.post("/api/v1/batches", json={"product": "苹果", "plot_id": plot}, headers=grower.headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_plot"


def test_wrong_gtin_check_digit_is_explained(farm):
    grower = farm.grower()
    response = farm.client.post(
        "/api/v1/batches", json={"product": "苹果", "gtin": "6901234567891"}, headers=grower.headers
    )
    assert response.status_code == 422
    assert "check digit" in response.json()["error"]["message"]
