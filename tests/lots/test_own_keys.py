"""Keys held by the grower (protocol §9, issue #12 item 3): a grower registered with a public key
signs their own records and sends them to `POST /api/v1/records`; the server appends them byte
for byte once they are exactly what it would write, and cannot sign in that grower's name."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.bundle import verify_bundle
from signing.canonical import canonical_json
from signing.errors import VerificationError
from signing.keys import keyid, raw_public_key
from signing.ledger import LedgerChecker
from signing.note import Verifier
from signing.payloads import CUSTODIAL, batch_payload, event_payload, key_payload, utc_time
from signing.records import sign_entry, sign_record
from tests.conftest import BOTH_DATABASES
from tests.factories import Account, Farm
from tests.orchard import HARVEST_PHOTO
from traceability.storage.models import MemberKey


class OwnKey:
    """A grower who holds their key, and an API client signing as them."""

    def __init__(self, farm: Farm, clock, name: str = "张自持") -> None:
        self.farm, self.client, self.clock = farm, farm.client, clock
        self.key = Ed25519PrivateKey.generate()
        public_key = base64.b64encode(raw_public_key(self.key)).decode()
        body = farm._post(
            "/api/v1/growers", {"name": name, "region": "陕西省延安市", "public_key": public_key}, farm.admin
        )
        self.account = Account(body["grower_id"], body["token"], body["keyid"])
        self.registered_at = body["index"]

    def now(self):
        return self.clock.now()

    def tip(self, lot: str) -> tuple[int, bytes]:
        answer = self.client.get(f"/api/v1/batches/{lot}/tip")
        assert answer.status_code == 200, answer.text
        return answer.json()["seq"], bytes.fromhex(answer.json()["prev"])

    def batch_payload(self, lot: str = "OWNKEY0001", **facts) -> dict:
        return batch_payload(
            self.now(), lot, product="苹果", variety=None, plot=None, grower_id=self.account.id, inputs=[], **facts
        )

    def harvest_payload(self, lot: str, quantity: float = 300, **changes) -> dict:
        seq, prev = self.tip(lot)
        payload = event_payload(
            self.now(),
            lot,
            seq=seq + 1,
            prev=prev,
            type="harvest",
            occurred_at="2026-09-19T09:00:00+08:00",
            data={"quantity": quantity, "unit": "kg"},
            evidence=[],
        )
        return payload | changes

    def send(self, payload: dict, *keys: Ed25519PrivateKey, query: str = "", headers: dict | None = None):
        record = sign_record(payload, *(keys or (self.key,)))
        return self.client.post(f"/api/v1/records{query}", content=json.dumps(record), headers=headers or {})


def appended(response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


def log_size(client) -> int:
    return int(client.get("/log/checkpoint").text.split("\n")[1])


@pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
def test_a_grower_with_their_own_key_signs_records_that_verify(farm, client, services, clock):
    own = OwnKey(farm, clock)
    assert own.account.keyid == keyid(own.key)
    with services.sessions() as session:
        key = session.get_one(MemberKey, own.account.keyid)
        assert (key.custody, key.holder, key.private_key_sealed) == ("device", "client", None)
        assert session.query(MemberKey).filter_by(identity_id=own.account.id).count() == 1  # no key of the server's

    made = appended(own.send(own.batch_payload()))
    assert made["lot"] == "OWNKEY0001"
    assert own.tip("OWNKEY0001") == (0, bytes.fromhex(made["leaf_hash"]))
    payload = own.harvest_payload("OWNKEY0001")
    harvest = appended(own.send(payload))
    assert harvest["seq"] == 1 and harvest["warnings"] == []

    # Byte for byte: the log holds the canonical record the grower signed, nothing added.
    entry = base64.b64decode(
        client.get(f"/log/entries?start={harvest['index']}&end={harvest['index'] + 1}").json()["entries"][0]
    )
    assert entry == canonical_json(sign_record(payload, own.key))

    verified = verify_bundle(
        client.get("/b/OWNKEY0001/proof.json").content, Verifier.from_key_string(client.get("/log/key").text)
    )
    assert [r.signer for r in verified.records] == [own.account.keyid] * 2
    assert verified.how[own.account.keyid] == "own_key"
    # The server has no key to sign for them with: its own write API says so.
    refused(client.post("/api/v1/batches", json={"product": "梨"}, headers=own.account.headers), 403, "own_key")
    # Their token still serves what is not a record.
    assert (
        client.post(
            "/api/v1/plots", json={"name": "坡地", "lat": 35.7, "lon": 109.4}, headers=own.account.headers
        ).status_code
        == 201
    )


def test_the_operator_cannot_sign_for_a_grower_who_holds_their_own_key(farm, client, services, clock):
    """Forged with every key the operator holds: the log key, a custodial key, or a custodial key
    registered for the grower. The API refuses each, and so do the rules an auditor replays."""
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload()))
    other = farm.grower()
    operator = services.log.signer.private_key
    custodial = services.accounts.signing_key(services.authenticator.authenticate(other.token))
    with services.sessions() as session:
        size = services.log.head(session).size
        logged = services.log.entries(session, 0, size)

    def replayed(*extra: bytes) -> None:
        checker = LedgerChecker(raw_public_key(operator))
        for index, entry in enumerate([*logged, *extra]):
            checker.check(index, entry)

    replayed()  # the log as it is holds
    forged = own.harvest_payload("OWNKEY0001", 999)
    refused(own.send(forged, operator), 403, "unknown_key")
    with pytest.raises(VerificationError, match="no earlier key entry registered"):
        replayed(sign_entry(forged, operator))
    refused(own.send(forged, custodial), 403, "custodial_key")
    with pytest.raises(VerificationError, match="belongs to"):
        replayed(sign_entry(forged, custodial))
    # A key the operator would hold, registered in the grower's name: the rules refuse the entry itself.
    planted = Ed25519PrivateKey.generate()
    subject = {"id": own.account.id, "name": "张自持", "region": "陕西省延安市", "registered_by": "admin"}
    entry = key_payload(clock.now(), keyid(planted), raw_public_key(planted), "grower", subject, CUSTODIAL)
    with pytest.raises(VerificationError, match="holds its own keys"):
        replayed(sign_entry(entry, operator), sign_entry(forged, planted))
    assert log_size(client) == size  # nothing of it was stored


def test_a_stale_record_gets_409_with_the_tip_then_signed_again_goes_in(farm, client, clock):
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload()))
    first, second = own.harvest_payload("OWNKEY0001", 100), own.harvest_payload("OWNKEY0001", 200)
    landed = appended(own.send(first))
    error = refused(own.send(second), 409, "stale")
    assert error["tip"] == {"seq": 1, "prev": landed["leaf_hash"]}
    assert "seq 2" in error["message"]
    again = appended(own.send(own.harvest_payload("OWNKEY0001", 200)))
    assert again["seq"] == 2


def test_a_retry_with_its_idempotency_key_appends_once(farm, client, clock):
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload()))
    payload = own.harvest_payload("OWNKEY0001")
    first = appended(own.send(payload, headers={"Idempotency-Key": "k1"}))
    retry = own.send(payload, headers={"Idempotency-Key": "k1"})
    assert appended(retry) == first and retry.headers["Idempotent-Replayed"] == "true"
    refused(own.send(payload), 409, "stale")  # without it, the same record is already in


@pytest.mark.parametrize(("skew", "status"), [(timedelta(minutes=4), 201), (timedelta(minutes=6), 422)])
@pytest.mark.parametrize("direction", [1, -1])
def test_a_record_signed_more_than_five_minutes_from_the_server_clock_is_refused(
    farm, client, clock, skew, status, direction
):
    own = OwnKey(farm, clock)
    payload = own.batch_payload()
    payload["time"] = utc_time(clock.now() + direction * skew)
    response = own.send(payload)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["error"]["code"] == "clock_skew"


def test_a_time_not_in_whole_utc_seconds_is_refused(farm, client, clock):
    own = OwnKey(farm, clock)
    payload = own.batch_payload()
    payload["time"] = payload["time"].replace("Z", ".5Z")
    refused(own.send(payload), 422, "bad_time")


def test_bad_signatures_and_unknown_keys_are_refused_and_nothing_is_stored(farm, client, clock):
    own = OwnKey(farm, clock)
    size = log_size(client)
    record = sign_record(own.batch_payload(), own.key)
    signature = base64.b64decode(record["signatures"][0]["sig"])
    record["signatures"][0]["sig"] = base64.b64encode(bytes([signature[0] ^ 1]) + signature[1:]).decode()
    refused(client.post("/api/v1/records", content=json.dumps(record)), 422, "bad_signature")
    stranger = Ed25519PrivateKey.generate()
    refused(own.send(own.batch_payload(), stranger), 403, "unknown_key")
    refused(own.send(own.batch_payload(), own.key, stranger), 422, "bad_record")
    refused(client.post("/api/v1/records", content=b"{not json"), 422, "bad_record")
    refused(client.post("/api/v1/records", content=b'{"payload": {}, "signatures": []}'), 422, "bad_record")
    assert log_size(client) == size


def test_a_batch_naming_an_existing_lot_code_gets_409(farm, client, clock):
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload("TAKEN1")))
    refused(own.send(own.batch_payload("TAKEN1")), 409, "lot_exists")
    custodial_lot = farm.batch(farm.grower())["lot"]
    refused(own.send(own.batch_payload(custodial_lot)), 409, "lot_exists")


@pytest.mark.parametrize(
    ("change", "code", "says"),
    [
        ({"data": {"quantity": 0, "unit": "kg"}}, "invalid", "greater than 0"),
        ({"data": {"quantity": 5, "unit": "kg", "colour": "red"}}, "invalid", "colour"),
        ({"data": {"quantity": 5, "unit": "kg", "note": "  trimmed  "}}, "not_as_written", "payload.data.note"),
        ({"occurred_at": "2026-09-19T01:00:00Z"}, "not_as_written", "+00:00"),
        ({"type": "teleport"}, "invalid", "teleport"),
        ({"signed_by": "someone"}, "not_as_written", "payload.signed_by is not a field"),
        ({"evidence": [{"sha256": "ab" * 32, "media_type": "image/jpeg"}]}, "unknown_photo", "not one of your uploads"),
    ],
)
def test_a_record_carries_nothing_the_api_would_refuse(farm, client, clock, change, code, says):
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload()))
    size = log_size(client)
    error = refused(own.send(own.harvest_payload("OWNKEY0001", **change)), 422, code)
    assert says in error["message"]
    assert log_size(client) == size


def test_a_record_for_another_growers_lot_or_by_a_revoked_key_is_refused(farm, client, clock):
    own = OwnKey(farm, clock)
    theirs = farm.batch(farm.grower())["lot"]
    refused(own.send(own.harvest_payload(theirs)), 403, "not_your_lot")
    appended(own.send(own.batch_payload()))
    payload = own.harvest_payload("OWNKEY0001")
    revoked = client.post(f"/api/v1/identities/{own.account.id}/revoke", json={"reason": "lost"}, headers=farm.admin)
    assert revoked.status_code == 200 and revoked.json()["keys"] == [
        {"keyid": own.account.keyid, "index": revoked.json()["index"]}
    ]
    refused(own.send(payload), 403, "key_revoked")


def test_key_entries_record_who_holds_the_key(farm, client, clock):
    own = OwnKey(farm, clock)
    custodial = farm.grower()
    entries = client.get("/log/entries?start=0&end=100").json()["entries"]
    keys = {p["keyid"]: p for p in (json.loads(base64.b64decode(e))["payload"] for e in entries) if p["kind"] == "key"}
    assert (keys[own.account.keyid]["custody"], keys[own.account.keyid]["holder"]) == ("device", "client")
    assert keys[custodial.keyid]["custody"] == "custodial" and "holder" not in keys[custodial.keyid]
    bad = client.post("/api/v1/growers", json={"name": "x", "region": "y", "public_key": "AAAA"}, headers=farm.admin)
    assert bad.status_code == 422 and "public_key" in bad.json()["error"]["message"]


def test_a_grower_with_their_own_key_cites_a_photo_as_the_upload_answer_says(farm, client, clock):
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload()))
    uploaded = client.post(
        "/api/v1/photos",
        files={"file": ("h.jpg", HARVEST_PHOTO.read_bytes(), "image/jpeg")},
        headers=own.account.headers,
    ).json()
    assert set(uploaded["evidence"]) == {"sha256", "media_type", "display", "thumb"}
    payload = own.harvest_payload("OWNKEY0001", evidence=[uploaded["evidence"]])
    payload["occurred_at"] = "2008-10-22T16:28:39+08:00"  # when the photo was taken
    cited = appended(own.send(payload))
    assert {w["code"] for w in cited["warnings"]} <= {"gps_far_from_plot", "backdated"}


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "key"},
        {"kind": 7},
        {"v": 2},
        {"time": 12},
        {"time": "2026-02-30T00:00:00Z"},
        {"lot": 5},
        {"lot": "lower"},
        {"seq": "1"},
        {"prev": "ab" * 32},
        {"product": ["苹果"]},
        {"plot": "后山"},
        {"plot": {"id": "p-nope", "name": "x", "location": {"lat": 1, "lon": 2}}},
        {"inputs": "none"},
        {"inputs": [{"lot": "NOPE", "quantity": 1, "unit": "kg"}]},
        {"grower": {"id": "g-someone-else"}},
        {"gtin": "123"},
    ],
)
def test_a_malformed_batch_gets_a_4xx_never_a_500(farm, client, clock, change):
    own = OwnKey(farm, clock)
    size = log_size(client)
    response = own.send(own.batch_payload() | change)
    assert 400 <= response.status_code < 500, response.text
    assert log_size(client) == size


@pytest.mark.parametrize(
    "change",
    [
        {"type": 3},
        {"data": "quantity"},
        {"data": None},
        {"evidence": "none"},
        {"evidence": [{"media_type": "image/jpeg"}]},
        {"evidence": ["ab" * 32]},
        {"occurred_at": "yesterday"},
        {"occurred_at": "2099-01-01T00:00:00+08:00"},
        {"type": "recall", "data": {"reason": "我自己召回"}},
        {"type": "correction", "data": {"corrects": 0, "reason": "x"}},
        {"type": "certificate", "data": {"basis": ["随便说说"], "quantity": 1, "unit": "kg"}},
    ],
)
def test_a_malformed_event_gets_a_4xx_never_a_500(farm, client, clock, change):
    own = OwnKey(farm, clock)
    appended(own.send(own.batch_payload()))
    size = log_size(client)
    response = own.send(own.harvest_payload("OWNKEY0001") | change)
    assert 400 <= response.status_code < 500, response.text
    assert log_size(client) == size
