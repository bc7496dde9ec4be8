"""The write API as growers, regulators and admins use it (protocol §4)."""

from __future__ import annotations

import pytest

from ..conftest import ADMIN_TOKEN, BOTH_DATABASES

pytestmark = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


def test_grower_creates_a_lot_and_logs_its_season(farm, client):
    grower = farm.grower("王秀英")
    plot = farm.plot(grower)
    batch = farm.batch(grower, product="苹果", variety="红富士", plot_id=plot)
    lot = batch["lot"]
    assert len(lot) == 10 and lot.isalnum() and lot.upper() == lot

    farm.event(grower, lot, "planting", {"method": "嫁接苗"}, "2026-03-20T08:00:00+08:00")
    farm.event(grower, lot, "input", {"product": "阿维菌素", "kind": "pesticide", "phi_days": 14}, "2026-08-20T08:00:00+08:00")
    harvest = farm.harvest(grower, lot, 1200, "jin")
    assert harvest["seq"] == 3 and harvest["warnings"] == []

    shown = client.get(f"/api/v1/batches/{lot}").json()
    assert shown["grower"]["name"] == "王秀英"
    assert shown["plot"]["location"] == {"lat": 35.7621, "lon": 109.4251}
    payloads = [r["record"]["payload"] for r in shown["records"]]
    assert [p["seq"] for p in payloads] == [0, 1, 2, 3]
    assert payloads[3]["data"] == {"quantity": 1200, "unit": "jin"}
    # Each record links to the leaf hash of the one before it.
    for before, after in zip(shown["records"], shown["records"][1:]):
        assert after["record"]["payload"]["prev"] == before["leaf_hash"]


def test_packed_lot_names_the_lots_it_came_from(farm, client):
    grower = farm.grower()
    field = farm.batch(grower)["lot"]
    packed = farm.batch(grower, product="苹果礼盒", gtin="6901234567892", inputs=[{"lot": field, "quantity": 200, "unit": "jin"}])
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
        json={"type": "input", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"product": "吡虫啉", "kind": "pesticide"}},
        headers=grower.headers,
    )
    assert response.status_code == 422
    assert "phi_days" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "pruning", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {}}, 422, "invalid"),
        ({"type": "harvest", "occurred_at": "2026-09-18 09:00", "data": {"quantity": 1, "unit": "kg"}}, 422, "invalid"),
        ({"type": "harvest", "occurred_at": "2026-09-18T09:00:00", "data": {"quantity": 1, "unit": "kg"}}, 422, "invalid"),
        ({"type": "harvest", "occurred_at": "2026-02-30T09:00:00+08:00", "data": {"quantity": 1, "unit": "kg"}}, 422, "invalid"),
        ({"type": "harvest", "occurred_at": "2027-09-18T09:00:00+08:00", "data": {"quantity": 1, "unit": "kg"}}, 422, "future_time"),
        ({"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "a\u0000b"}}, 422, "invalid"),
        ({"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "x" * 2001}}, 422, "invalid"),
        ({"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "ok"}, "evidence": ["a" * 64]}, 422, "unknown_photo"),
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


def test_malformed_json_is_a_400_that_says_so(farm, client):
    grower = farm.grower()
    response = client.post("/api/v1/batches", content=b'{"product": "apples",', headers={**grower.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_json"


def test_a_huge_body_is_refused_with_413(farm, client):
    grower = farm.grower()
    response = client.post("/api/v1/batches", content=b'{"product": "' + b"x" * 400_000 + b'"}', headers={**grower.headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_tokens_and_roles(farm, client):
    grower, other = farm.grower(), farm.grower()
    regulator = farm.regulator()
    lot = farm.batch(grower)["lot"]
    harvest = {"type": "harvest", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"quantity": 1, "unit": "kg"}}
    recall = {"type": "recall", "occurred_at": "2026-09-19T09:00:00+08:00", "data": {"reason": "农残超标"}}
    inspection = {"type": "inspection", "occurred_at": "2026-09-19T09:00:00+08:00", "data": {"test": "快检", "result": "pass"}}
    url = f"/api/v1/batches/{lot}/events"

    assert client.post(url, json=harvest).status_code == 401
    assert client.post(url, json=harvest, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    # Another grower cannot append to this lot.
    refused = client.post(url, json=harvest, headers=other.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_lot"
    # A grower cannot issue a recall or an inspection, not even on their own lot.
    assert client.post(url, json=recall, headers=grower.headers).status_code == 403
    assert client.post(url, json=inspection, headers=grower.headers).status_code == 403
    # A regulator can, and cannot log a harvest.
    assert client.post(url, json=inspection, headers=regulator.headers).status_code == 201
    assert client.post(url, json=recall, headers=regulator.headers).status_code == 201
    assert client.post(url, json=harvest, headers=regulator.headers).status_code == 403
    # Only the admin registers accounts.
    assert client.post("/api/v1/growers", json={"name": "x", "region": "y"}, headers=grower.headers).status_code == 403
    assert client.post("/api/v1/regulators", json={"name": "x", "agency": "y"}, headers=regulator.headers).status_code == 403
    assert client.post("/api/v1/batches/NOSUCHLOT/events", json=harvest, headers=grower.headers).status_code == 404
    assert client.post("/api/v1/batches/bad-lot!/events", json=harvest, headers=grower.headers).status_code == 422


def test_another_growers_plot_cannot_be_used(farm):
    grower, other = farm.grower(), farm.grower()
    plot = farm.plot(other)
    response = farm.client.post("/api/v1/batches", json={"product": "苹果", "plot_id": plot}, headers=grower.headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_plot"


def test_wrong_gtin_check_digit_is_explained(farm):
    grower = farm.grower()
    response = farm.client.post("/api/v1/batches", json={"product": "苹果", "gtin": "6901234567891"}, headers=grower.headers)
    assert response.status_code == 422
    assert "check digit" in response.json()["error"]["message"]


def test_idempotency_key_makes_a_retry_return_the_first_answer(farm, client):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    body = {"type": "harvest", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"quantity": 3, "unit": "box"}}
    headers = {**grower.headers, "Idempotency-Key": "phone-7f3a-001"}
    first = client.post(f"/api/v1/batches/{lot}/events", json=body, headers=headers)
    again = client.post(f"/api/v1/batches/{lot}/events", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == 2
    # The same key for a different request is a mistake, not a replay.
    changed = client.post(f"/api/v1/batches/{lot}/events", json={**body, "data": {"quantity": 4, "unit": "box"}}, headers=headers)
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"


def test_a_retried_registration_gets_a_fresh_token_and_the_unseen_one_stops_working(client):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Idempotency-Key": "card-42"}
    response = client.post("/api/v1/growers", json={"name": "张三", "region": "洛川县"}, headers=admin)
    assert response.headers["cache-control"] == "no-store"
    first = response.json()
    again = client.post("/api/v1/growers", json={"name": "张三", "region": "洛川县"}, headers=admin).json()
    assert again["grower_id"] == first["grower_id"] and again["index"] == first["index"]
    assert again["token"] != first["token"]
    assert client.post("/api/v1/plots", json={"name": "a", "lat": 1, "lon": 1}, headers={"Authorization": f"Bearer {first['token']}"}).status_code == 401
    assert client.post("/api/v1/plots", json={"name": "a", "lat": 1, "lon": 1}, headers={"Authorization": f"Bearer {again['token']}"}).status_code == 201


def test_revoked_key_can_no_longer_sign(farm, client):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    revoked = client.post(f"/api/v1/identities/{grower.id}/revoke", json={"reason": "手机丢失 phone lost"}, headers=farm.admin)
    assert revoked.status_code == 200
    assert client.post(f"/api/v1/identities/{grower.id}/revoke", json={"reason": "again"}, headers=farm.admin).status_code == 409
    response = client.post(f"/api/v1/batches/{lot}/events", json={"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "x"}}, headers=grower.headers)
    assert response.status_code == 401


def test_unknown_paths_and_methods_answer_in_the_error_format(client):
    assert client.get("/api/v1/nothing").json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/batches/NOSUCH").status_code == 404
    assert client.delete("/log/checkpoint").json()["error"]["code"] == "method_not_allowed"


def test_openapi_documents_the_api(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/v1/batches/{lot}/events" in spec["paths"]


def test_a_key_revoked_after_the_request_was_authenticated_signs_nothing(farm, client, context):
    """Revocation and an append racing: the append, checked again under the lock, loses."""
    from pydantic import TypeAdapter

    from signing.note import Verifier
    from traceability.actors import authenticate
    from traceability.batches import append_event
    from traceability.errors import ApiError
    from traceability.monitor import audit_log
    from traceability.schemas import EventIn

    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    with context.sessions() as session:
        authenticated = authenticate(session, context, grower.token)  # the request got this far ...
    assert client.post(f"/api/v1/identities/{grower.id}/revoke", json={"reason": "手机丢失"}, headers=farm.admin).status_code == 200
    event = TypeAdapter(EventIn).validate_python({"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "迟到"}})
    with pytest.raises(ApiError) as refused:  # ... and then the key was revoked
        append_event(context, authenticated, lot, event, None)
    assert refused.value.status == 401
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == 1
    assert audit_log(client, Verifier.from_key_string(client.get("/log/key").text)).entries == 3


def test_idempotency_keys_are_remembered_for_a_month_then_forgotten(farm, client, clock):
    from datetime import timedelta

    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    body = {"type": "harvest", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"quantity": 3, "unit": "box"}}
    headers = {**grower.headers, "Idempotency-Key": "offline-queue-17"}
    first = client.post(f"/api/v1/batches/{lot}/events", json=body, headers=headers).json()
    clock.advance(timedelta(days=29))
    assert client.post(f"/api/v1/batches/{lot}/events", json=body, headers=headers).json() == first
    clock.advance(timedelta(days=2))
    farm.harvest(grower, lot)  # any write prunes what is past remembering
    later = client.post(f"/api/v1/batches/{lot}/events", json=body, headers=headers).json()
    assert later["index"] != first["index"]
