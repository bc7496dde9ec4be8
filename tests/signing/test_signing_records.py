"""Keys, canonical JSON, and signed records as log entries (protocol §1)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signing.canonical import canonical_json
from signing.errors import VerificationError
from signing.keys import (
    generate_private_key,
    keyid,
    private_key_from_seed,
    raw_public_key,
    raw_seed,
)
from signing.records import (
    MAX_ENTRY_BYTES,
    RECORD_DOMAIN,
    entry_bytes,
    parse_entry,
    sign_record,
    signed_message,
    verify_record_signatures,
)
from tests.signing.signing_testkit import DETERMINISTIC, THOROUGH

GROWER = private_key_from_seed(bytes([7]) * 32)
REGULATOR = private_key_from_seed(bytes([9]) * 32)
KEYS = {keyid(k): raw_public_key(k) for k in (GROWER, REGULATOR)}
PAYLOAD = {"v": 1, "kind": "event", "time": "2026-09-20T02:00:00Z", "lot": "A1", "seq": 1, "note": "西红柿"}


def test_keys() -> None:
    key = private_key_from_seed(bytes(32))
    assert raw_public_key(key).hex() == "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
    assert raw_public_key(key.public_key()) == raw_public_key(key)
    assert raw_seed(key) == bytes(32)
    expected = hashlib.sha256(raw_public_key(key)).hexdigest()
    assert keyid(key) == keyid(key.public_key()) == keyid(raw_public_key(key)) == expected
    assert len(raw_seed(generate_private_key())) == 32
    with pytest.raises(ValueError, match="seed is 31 bytes"):
        private_key_from_seed(bytes(31))
    with pytest.raises(ValueError, match="public key is 33 bytes"):
        keyid(bytes(33))


def test_canonical_json() -> None:
    assert canonical_json({"b": [1, 2.5, None], "a": "é", "c": {"z": True, "y": 1.0}}) == (
        '{"a":"é","b":[1,2.5,null],"c":{"y":1,"z":true}}'.encode()
    )
    assert canonical_json(2**53 - 1) == b"9007199254740991"


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), 2**53, -(2**53), {1: "a"}, {"a": {None: 1}}, b"bytes", "\ud800"]
)
def test_canonical_json_refuses_what_jcs_cannot_express(value: Any) -> None:
    with pytest.raises(ValueError, match="no RFC 8785 canonical form"):
        canonical_json(value)


def test_signed_message_and_record_shape() -> None:
    assert signed_message(PAYLOAD) == b"suyuan/record/v1\n" + canonical_json(PAYLOAD)
    assert RECORD_DOMAIN == b"suyuan/record/v1\n"
    record = sign_record(PAYLOAD, GROWER, REGULATOR)
    assert record["payload"] is PAYLOAD
    assert [s["keyid"] for s in record["signatures"]] == [keyid(GROWER), keyid(REGULATOR)]
    sig = base64.b64decode(record["signatures"][0]["sig"], validate=True)
    GROWER.public_key().verify(sig, signed_message(PAYLOAD))
    entry = entry_bytes(record)
    assert entry == canonical_json(record)
    assert parse_entry(entry) == record
    assert verify_record_signatures(parse_entry(entry), KEYS) == [keyid(GROWER), keyid(REGULATOR)]


def test_sign_record_refusals() -> None:
    with pytest.raises(ValueError, match="at least one"):
        sign_record(PAYLOAD)
    with pytest.raises(ValueError, match="twice"):
        sign_record(PAYLOAD, GROWER, GROWER)


def test_entry_size_limit() -> None:
    record = sign_record({"pad": ""}, GROWER)
    room = MAX_ENTRY_BYTES - len(entry_bytes(record))
    at_limit = sign_record({"pad": "x" * room}, GROWER)
    assert len(entry_bytes(at_limit)) == MAX_ENTRY_BYTES
    parse_entry(entry_bytes(at_limit))
    over = sign_record({"pad": "x" * (room + 1)}, GROWER)
    with pytest.raises(ValueError, match="65536 bytes, over the 65535-byte limit"):
        entry_bytes(over)
    with pytest.raises(VerificationError, match="65536 bytes, over the 65535-byte limit"):
        parse_entry(canonical_json(over))


def _entry(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), sort_keys=True).encode()


GOOD = sign_record(PAYLOAD, GROWER)
SIG = GOOD["signatures"][0]


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (b"\xff", "not valid UTF-8"),
        (b"{", "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "not valid JSON"),
        (b'{"payload":{"a":NaN},"signatures":[]}', "not valid JSON"),
        (b'{"payload":{"a":1,"a":2},"signatures":[]}', "duplicate object key 'a'"),
        (b'{"payload":{"a":1' + b"0" * 400 + b'},"signatures":[]}', "beyond the range"),
        (b"[]", "exactly the keys payload and signatures"),
        (_entry({"payload": {}}), "exactly the keys payload and signatures"),
        (_entry({**GOOD, "extra": 1}), "exactly the keys payload and signatures"),
        (_entry({"payload": [], "signatures": [SIG]}), "payload must be an object"),
        (_entry({"payload": {}, "signatures": []}), "non-empty list"),
        (_entry({"payload": {}, "signatures": SIG}), "non-empty list"),
        (_entry({"payload": {}, "signatures": [[]]}), "signature 0 must be an object"),
        (_entry({"payload": {}, "signatures": [{**SIG, "x": 1}]}), "signature 0 must be an object"),
        (_entry({"payload": {}, "signatures": [{**SIG, "keyid": SIG["keyid"].upper()}]}), "64 lowercase hex"),
        (_entry({"payload": {}, "signatures": [{**SIG, "keyid": SIG["keyid"][:63]}]}), "64 lowercase hex"),
        (_entry({"payload": {}, "signatures": [{**SIG, "sig": 1}]}), "sig must be a base64 string"),
        (_entry({"payload": {}, "signatures": [{**SIG, "sig": "!!!!"}]}), "sig is not valid base64"),
        (_entry({"payload": {}, "signatures": [{**SIG, "sig": SIG["sig"][:-2] + "B="}]}), "base64"),
        (_entry({"payload": {}, "signatures": [{**SIG, "sig": "AAAA"}]}), "sig is 3 bytes, want 64"),
        (json.dumps(GOOD).encode(), "not in RFC 8785 canonical form"),
        (_entry({**GOOD, "payload": {"x": 1.0}}), "not in RFC 8785 canonical form"),
        (_entry(GOOD).replace(b"\xe8\xa5\xbf", b"\\u897f"), "not in RFC 8785 canonical form"),
        (_entry({**GOOD, "payload": {"x": 1}}).replace(b'"x":1', b'"x":1e400'), "no canonical JSON form"),
    ],
)
def test_parse_entry_is_strict(entry: bytes, reason: str) -> None:
    with pytest.raises(VerificationError, match=reason):
        parse_entry(entry)


def test_verify_record_signatures_failures() -> None:
    record = sign_record(PAYLOAD, GROWER, REGULATOR)
    grower = keyid(GROWER)
    with pytest.raises(VerificationError, match=f"signature by unknown key {keyid(REGULATOR)}"):
        verify_record_signatures(record, {grower: KEYS[grower]})
    with pytest.raises(VerificationError, match=f"key {grower} signed the record more than once"):
        verify_record_signatures({**record, "signatures": [SIG, SIG]}, KEYS)
    with pytest.raises(VerificationError, match=f"invalid signature by key {grower}"):
        verify_record_signatures({**record, "payload": {**PAYLOAD, "seq": 2}}, KEYS)
    with pytest.raises(VerificationError, match=f"the public key given for key {grower} does not have that keyid"):
        verify_record_signatures(record, {**KEYS, grower: KEYS[keyid(REGULATOR)]})
    with pytest.raises(VerificationError, match="record has no signatures"):
        verify_record_signatures({"payload": PAYLOAD, "signatures": []}, KEYS)
    with pytest.raises(VerificationError, match="record has no payload object"):
        verify_record_signatures({"signatures": record["signatures"]}, KEYS)
    with pytest.raises(VerificationError, match="no canonical JSON form"):
        verify_record_signatures({**record, "payload": {"x": float("nan")}}, KEYS)


def test_large_integral_doubles_read_back_canonically() -> None:
    # JCS numbers are doubles, written as ECMAScript does: 2.0**60 is a 19-digit integer.
    record = sign_record({"x": 2.0**60}, GROWER)
    entry = entry_bytes(record)
    assert b'"x":1152921504606847000' in entry
    assert verify_record_signatures(parse_entry(entry), KEYS) == [keyid(GROWER)]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=6), json_values, max_size=5)


@DETERMINISTIC
@given(payloads, st.integers(1, 2))
def test_record_round_trip(payload: dict[str, Any], signers: int) -> None:
    keys = (GROWER, REGULATOR)[:signers]
    entry = entry_bytes(sign_record(payload, *keys))
    record = parse_entry(entry)
    assert entry_bytes(record) == entry
    assert verify_record_signatures(record, KEYS) == [keyid(k) for k in keys]


@THOROUGH
@given(payloads, st.data())
def test_any_byte_change_breaks_an_entry(payload: dict[str, Any], data: st.DataObject) -> None:
    entry = entry_bytes(sign_record(payload, GROWER))
    position = data.draw(st.integers(0, len(entry) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != entry[position]))
    mutated = entry[:position] + bytes([value]) + entry[position + 1 :]
    with pytest.raises(VerificationError):
        verify_record_signatures(parse_entry(mutated), KEYS)
