"""Writes made once: an Idempotency-Key makes a retry answer as the first request did."""

from __future__ import annotations

import pytest

from tests.conftest import BOTH_DATABASES

pytestmark = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


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
    changed = client.post(
        f"/api/v1/batches/{lot}/events", json={**body, "data": {"quantity": 4, "unit": "box"}}, headers=headers
    )
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"


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
