"""The grower app's routes for a key on the phone (protocol §9), driven as the app's script
drives them: register the key, have the server prepare each record, sign it, send it."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.canonical import canonical_json
from signing.keys import keyid, raw_public_key
from signing.records import RECORD_DOMAIN
from tests.pages import hidden
from traceability.storage.models import MemberKey

from .test_app import card_for, redeem, signed_in


class Phone:
    """What grower.js does, in Python: the key stays here, the server gets its public half."""

    def __init__(self, client) -> None:
        self.client = client
        self.key = Ed25519PrivateKey.generate()
        self.keyid = keyid(self.key)

    @property
    def csrf(self) -> dict[str, str]:
        return {"X-CSRF-Token": hidden(self.client.get("/grower/lots/new").text, "csrf")}

    def register(self, key: Ed25519PrivateKey | None = None):
        public = base64.b64encode(raw_public_key(key or self.key)).decode()
        return self.client.post("/grower/device-key", json={"public_key": public}, headers=self.csrf)

    def prepare(self, path: str, fields: dict) -> dict:
        response = self.client.post(path, data=fields, headers=self.csrf)
        assert response.status_code == 200, response.text
        prepared = response.json()
        assert prepared["canonical"].encode() == canonical_json(prepared["payload"])
        return prepared

    def send(self, prepared: dict, key: Ed25519PrivateKey | None = None, headers: dict | None = None):
        key = key or self.key
        sig = key.sign(RECORD_DOMAIN + prepared["canonical"].encode())
        record = {
            "payload": prepared["payload"],
            "signatures": [{"keyid": keyid(key), "sig": base64.b64encode(sig).decode()}],
        }
        return self.client.post("/grower/records", content=json.dumps(record), headers={**self.csrf, **(headers or {})})


def size(client) -> int:
    return int(client.get("/log/checkpoint").text.split("\n")[1])


def test_a_phone_registers_its_key_once_per_session_and_a_new_card_revokes_it(farm, client, services):
    grower = signed_in(client, farm)
    phone = Phone(client)
    first = phone.register()
    assert first.status_code == 201 and first.json()["keyid"] == phone.keyid
    assert phone.register().status_code == 200  # the next session's check: it stands
    with services.sessions() as session:
        key = session.get_one(MemberKey, phone.keyid)
        assert (key.identity_id, key.custody, key.holder, key.private_key_sealed) == (
            grower.id,
            "device",
            "phone",
            None,
        )
    assert client.post("/grower/device-key", json={"public_key": "AAAA"}, headers=phone.csrf).status_code == 422
    no_csrf = client.post("/grower/device-key", json={"public_key": base64.b64encode(b"k" * 32).decode()})
    assert no_csrf.status_code == 403

    redeem(client, card_for(client, grower.id)["url"].removeprefix("http://testserver"))  # a new card
    with services.sessions() as session:
        assert session.get_one(MemberKey, phone.keyid, populate_existing=True).revoked_index is not None
        assert session.get_one(MemberKey, grower.keyid).revoked_index is None  # the custodial key stays
    again = phone.register()
    assert again.status_code == 409 and again.json()["error"]["code"] == "key_revoked"
    assert Phone(client).register().status_code == 201


def test_the_phone_signs_what_the_server_prepared_and_the_server_appends_it(farm, client):
    signed_in(client, farm)
    phone = Phone(client)
    phone.register()
    form = client.get("/grower/lots/new").text
    before = size(client)
    lot_fields = {"product": "苹果", "variety": "红富士", "idempotency_key": hidden(form, "idempotency_key")}
    prepared = phone.prepare("/grower/lots/prepare", lot_fields)
    assert size(client) == before  # preparing writes nothing
    made = phone.send(prepared, headers={"Idempotency-Key": lot_fields["idempotency_key"]})
    assert made.status_code == 201, made.text
    lot = made.json()["lot"]
    assert lot == prepared["payload"]["lot"] and prepared["payload"]["variety"] == "红富士"

    harvest = {
        "type": "harvest",
        "quantity": "300",
        "unit": "jin",
        "occurred_at": "2026-09-19T09:00",
        "tz_offset": "480",
    }
    first, second = (
        phone.prepare(f"/grower/lots/{lot}/prepare", harvest),
        phone.prepare(f"/grower/lots/{lot}/prepare", {**harvest, "quantity": "200"}),
    )
    assert first["payload"]["data"] == {"quantity": 300, "unit": "jin"}
    assert first["payload"]["occurred_at"] == "2026-09-19T09:00:00+08:00"
    assert phone.send(first).status_code == 201
    stale = phone.send(second)  # prepared before the first went in
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale"
    assert stale.json()["error"]["tip"]["seq"] == 1
    resent = phone.send(phone.prepare(f"/grower/lots/{lot}/prepare", {**harvest, "quantity": "200"}))
    assert resent.status_code == 201 and resent.json()["seq"] == 2
    # The same harvest again is asked about, as the form is.
    repeated = client.post(f"/grower/lots/{lot}/prepare", data=harvest, headers=phone.csrf)
    assert repeated.status_code == 409 and repeated.json()["error"]["code"] == "repeated"
    records = client.get(f"/api/v1/batches/{lot}").json()["records"]
    assert [r["record"]["signatures"][0]["keyid"] for r in records] == [phone.keyid] * 3
    assert "在自己的手机上签名" in client.get(f"/grower/lots/{lot}").text


def test_a_signed_in_grower_sends_only_records_of_their_own_key(farm, client):
    signed_in(client, farm)
    phone = Phone(client)
    phone.register()
    lot = phone.send(phone.prepare("/grower/lots/prepare", {"product": "梨"})).json()["lot"]
    observed = {"type": "observation", "note": "花开了", "occurred_at": "2026-09-19T09:00"}
    prepared = phone.prepare(f"/grower/lots/{lot}/prepare", observed)
    stranger = phone.send(prepared, Ed25519PrivateKey.generate())
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "unknown_key"
    # Another member's own key (registered through the API) cannot sign through this grower's session.
    other = Ed25519PrivateKey.generate()
    public = base64.b64encode(raw_public_key(other)).decode()
    registered = client.post(
        "/api/v1/growers", json={"name": "外人", "region": "洛川", "public_key": public}, headers=farm.admin
    )
    assert registered.status_code == 201
    theirs = phone.send(prepared, other)
    assert theirs.status_code == 403 and theirs.json()["error"]["code"] == "not_your_key"
    assert client.post("/grower/records", content=b"{}").status_code == 403  # no CSRF token
    assert phone.send(prepared).status_code == 201


def test_without_a_phone_key_the_form_still_logs_with_the_custodial_key(farm, client):
    """The app without the script (or without Ed25519) never registers a key: the server signs."""
    grower = signed_in(client, farm)
    form = client.get("/grower/lots/new").text
    made = client.post(
        "/grower/lots",
        data={"csrf": hidden(form, "csrf"), "idempotency_key": hidden(form, "idempotency_key"), "product": "苹果"},
        follow_redirects=False,
    )
    lot = made.headers["location"].split("/")[3].split("?")[0]
    records = client.get(f"/api/v1/batches/{lot}").json()["records"]
    assert records[0]["record"]["signatures"][0]["keyid"] == grower.keyid
    assert "平台代签" in client.get(f"/grower/lots/{lot}").text
