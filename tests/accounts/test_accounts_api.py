"""Accounts through the API: tokens and roles, registration, revocation (protocol §4)."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_TOKEN, BOTH_DATABASES

pytestmark = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


def test_tokens_and_roles(farm, client):
    grower, other = farm.grower(), farm.grower()
    regulator = farm.regulator()
    lot = farm.batch(grower)["lot"]
    harvest = {"type": "harvest", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"quantity": 1, "unit": "kg"}}
    recall = {"type": "recall", "occurred_at": "2026-09-19T09:00:00+08:00", "data": {"reason": "农残超标"}}
    inspection = {
        "type": "inspection",
        "occurred_at": "2026-09-19T09:00:00+08:00",
        "data": {"test": "快检", "result": "pass"},
    }
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
    assert (
        client.post("/api/v1/regulators", json={"name": "x", "agency": "y"}, headers=regulator.headers).status_code
        == 403
    )
    assert client.post("/api/v1/batches/NOSUCHLOT/events", json=harvest, headers=grower.headers).status_code == 404
    assert client.post("/api/v1/batches/bad-lot!/events", json=harvest, headers=grower.headers).status_code == 422


def test_a_retried_registration_gets_a_fresh_token_and_the_unseen_one_stops_working(client):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Idempotency-Key": "card-42"}
    response = client.post("/api/v1/growers", json={"name": "张三", "region": "洛川县"}, headers=admin)
    assert response.headers["cache-control"] == "no-store"
    first = response.json()
    again = client.post("/api/v1/growers", json={"name": "张三", "region": "洛川县"}, headers=admin).json()
    assert again["grower_id"] == first["grower_id"] and again["index"] == first["index"]
    assert again["token"] != first["token"]
    assert (
        client.post(
            "/api/v1/plots",
            json={"name": "a", "lat": 1, "lon": 1},
            headers={"Authorization": f"Bearer {first['token']}"},
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/api/v1/plots",
            json={"name": "a", "lat": 1, "lon": 1},
            headers={"Authorization": f"Bearer {again['token']}"},
        ).status_code
        == 201
    )


def test_revoked_key_can_no_longer_sign(farm, client):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    revoked = client.post(
        f"/api/v1/identities/{grower.id}/revoke", json={"reason": "手机丢失 phone lost"}, headers=farm.admin
    )
    assert revoked.status_code == 200
    assert (
        client.post(f"/api/v1/identities/{grower.id}/revoke", json={"reason": "again"}, headers=farm.admin).status_code
        == 409
    )
    response = client.post(
        f"/api/v1/batches/{lot}/events",
        json={"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "x"}},
        headers=grower.headers,
    )
    assert response.status_code == 401


def test_a_key_revoked_after_the_request_was_authenticated_signs_nothing(farm, client, services):
    """Revocation and an append racing: the append, checked again under the lock, loses."""

    from signing.note import Verifier
    from traceability.cli.monitor import audit_log
    from traceability.errors import NotSignedIn
    from traceability.lots import inputs

    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    authenticated = services.authenticator.authenticate(grower.token)  # the request got this far ...
    assert (
        client.post(
            f"/api/v1/identities/{grower.id}/revoke", json={"reason": "手机丢失"}, headers=farm.admin
        ).status_code
        == 200
    )
    event = inputs.event({"type": "observation", "occurred_at": "2026-09-18T09:00:00+08:00", "data": {"note": "迟到"}})
    with pytest.raises(NotSignedIn) as refused:  # ... and then the key was revoked
        services.lots.append_event(authenticated, lot, event, None)
    assert refused.value.code == "revoked"
    assert len(client.get(f"/api/v1/batches/{lot}").json()["records"]) == 1
    assert audit_log(client, Verifier.from_key_string(client.get("/log/key").text)).entries == 3
