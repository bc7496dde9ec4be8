"""Signed records and the log entries that hold them (protocol §1)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from signing.canonical import canonical_json
from signing.encoding import b64decode, b64encode
from signing.errors import VerificationError
from signing.keys import KEY_SIZE, keyid

RECORD_DOMAIN = b"suyuan/record/v1\n"
MAX_ENTRY_BYTES = 65535

_SIGNATURE_SIZE = 64
_KEYID = re.compile(r"[0-9a-f]{64}")
# JCS numbers are IEEE doubles: canonical output may spell an integral double
# beyond 2**53 as a long integer, which must read back as that double.
_MAX_SAFE_INTEGER = 2**53 - 1


def signed_message(payload: dict[str, Any]) -> bytes:
    """The bytes a record signature covers: the domain line, then the canonical payload."""
    return RECORD_DOMAIN + canonical_json(payload)


def sign_record(payload: dict[str, Any], *keys: Ed25519PrivateKey) -> dict[str, Any]:
    """A record: the payload and one signature per key, in the order given.

    Raises ValueError without keys, with the same key twice, or for a payload
    that has no canonical JSON form.
    """
    return {"payload": payload, "signatures": _sign(canonical_json(payload), keys)}


def sign_entry(payload: dict[str, Any], *keys: Ed25519PrivateKey) -> bytes:
    """The log entry of `sign_record(payload, *keys)`, canonicalising the payload once.

    Raises ValueError as `sign_record` and `entry_bytes` do.
    """
    canonical_payload = canonical_json(payload)
    return _checked_size(_record_json(canonical_payload, _sign(canonical_payload, keys)))


def _record_json(canonical_payload: bytes, signatures: list) -> bytes:
    # RFC 8785 writes an object as its members in key order: a record is assembled from its
    # two values, so the payload is canonicalised once, by the signer and by the verifier.
    return b'{"payload":' + canonical_payload + b',"signatures":' + canonical_json(signatures) + b"}"


def _sign(canonical_payload: bytes, keys: tuple[Ed25519PrivateKey, ...]) -> list[dict[str, str]]:
    if not keys:
        raise ValueError("a record needs at least one signing key")
    keyids = [keyid(key) for key in keys]
    if len(set(keyids)) != len(keyids):
        raise ValueError("the same key cannot sign a record twice")
    message = RECORD_DOMAIN + canonical_payload
    return [{"keyid": kid, "sig": b64encode(key.sign(message))} for kid, key in zip(keyids, keys, strict=True)]


def entry_bytes(record: dict[str, Any]) -> bytes:
    """The log entry for a record: its canonical JSON.

    Raises ValueError if the entry would exceed MAX_ENTRY_BYTES, so that an
    oversized record is refused before it reaches the log.
    """
    return _checked_size(canonical_json(record))


def _checked_size(entry: bytes) -> bytes:
    if len(entry) > MAX_ENTRY_BYTES:
        raise ValueError(f"entry is {len(entry)} bytes, over the {MAX_ENTRY_BYTES}-byte limit")
    return entry


def parse_entry(entry: bytes) -> dict[str, Any]:
    """Decode a log entry into its record, strictly: its shape and canonical form.
    Signatures are checked by `verify_record_signatures`."""
    record = decode_entry(entry)
    canonical_message(entry, record)
    return record


def canonical_message(entry: bytes, record: dict[str, Any]) -> bytes:
    """Step 4 of `parse_entry`, for a record `decode_entry` made from `entry`: refuse an entry
    that is not canonical, and return the message the record's signatures cover."""
    # Canonical bytes only: the leaf hash commits to these exact bytes, and one record
    # must have exactly one entry.
    try:
        payload = canonical_json(record["payload"])
        canonical = _record_json(payload, record["signatures"])
    except (ValueError, RecursionError) as e:
        raise VerificationError(f"entry has no canonical JSON form: {e}") from e
    if canonical != entry:
        raise VerificationError("entry is not in RFC 8785 canonical form")
    return RECORD_DOMAIN + payload


def decode_entry(entry: bytes) -> dict[str, Any]:
    """Steps 1-3 of `parse_entry`: the record's JSON and shape, not yet its canonical form."""
    # 1. Entries are bounded, so an oversized one cannot have come from an honest log.
    if len(entry) > MAX_ENTRY_BYTES:
        raise VerificationError(f"entry is {len(entry)} bytes, over the {MAX_ENTRY_BYTES}-byte limit")

    # 2. UTF-8 JSON without duplicate keys or non-standard constants.
    try:
        text = entry.decode("utf-8")
    except UnicodeDecodeError as e:
        raise VerificationError(f"entry is not valid UTF-8: {e}") from e
    try:
        record = json.loads(
            text,
            object_pairs_hook=_object_without_duplicate_keys,
            parse_constant=_reject_constant,
            parse_int=_parse_json_integer,
        )
    except (ValueError, RecursionError) as e:
        raise VerificationError(f"entry is not valid JSON: {e}") from e

    # 3. The record's shape: a payload object and a non-empty list of signatures.
    if not isinstance(record, dict) or set(record) != {"payload", "signatures"}:
        raise VerificationError("entry must be an object with exactly the keys payload and signatures")
    if not isinstance(record["payload"], dict):
        raise VerificationError("entry payload must be an object")
    signatures = record["signatures"]
    if not isinstance(signatures, list) or not signatures:
        raise VerificationError("entry signatures must be a non-empty list")
    for position, signature in enumerate(signatures):
        _decode_signature(signature, position)
    return record


def verify_record_signatures(
    record: dict[str, Any], public_keys: Mapping[str, bytes], *, message: bytes | None = None
) -> list[str]:
    """Verify every signature on a record; return the signing keyids in order.

    `public_keys` maps keyid to raw 32-byte Ed25519 public key. Every signature
    must verify: one bad or unknown signature fails the record, because an
    entry's bytes include all of them. `message` is `canonical_message`'s, when at hand.
    """
    # 1. The record has a payload object and at least one signature.
    payload = record.get("payload")
    signatures = record.get("signatures")
    if not isinstance(payload, dict):
        raise VerificationError("record has no payload object")
    if not isinstance(signatures, list) or not signatures:
        raise VerificationError("record has no signatures")
    if message is None:
        try:
            message = signed_message(payload)
        except ValueError as e:
            raise VerificationError(f"record payload has no canonical JSON form: {e}") from e

    signed_by: list[str] = []
    for position, signature in enumerate(signatures):
        # 2. The signature is well formed.
        kid, sig = _decode_signature(signature, position)
        # 3. No key signs twice, so that one key cannot pose as several signers.
        if kid in signed_by:
            raise VerificationError(f"key {kid} signed the record more than once")
        # 4. The key is known, and really is the key with that keyid.
        raw = public_keys.get(kid)
        if raw is None:
            raise VerificationError(f"signature by unknown key {kid}")
        if len(raw) != KEY_SIZE or keyid(raw) != kid:
            raise VerificationError(f"the public key given for key {kid} does not have that keyid")
        # 5. The signature verifies over the domain-separated canonical payload.
        try:
            _public_key(raw).verify(sig, message)
        except InvalidSignature:
            raise VerificationError(f"invalid signature by key {kid}") from None
        signed_by.append(kid)
    return signed_by


@lru_cache(maxsize=4096)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    # A log has few signers and many records: load each key once.
    return Ed25519PublicKey.from_public_bytes(raw)


def _decode_signature(signature: object, position: int) -> tuple[str, bytes]:
    if not isinstance(signature, dict) or set(signature) != {"keyid", "sig"}:
        raise VerificationError(f"signature {position} must be an object with exactly the keys keyid and sig")
    kid = signature["keyid"]
    if not isinstance(kid, str) or not _KEYID.fullmatch(kid):
        raise VerificationError(f"signature {position}: keyid must be 64 lowercase hex digits")
    encoded = signature["sig"]
    if not isinstance(encoded, str):
        raise VerificationError(f"signature {position} by key {kid}: sig must be a base64 string")
    try:
        sig = b64decode(encoded)
    except ValueError as e:
        raise VerificationError(f"signature {position} by key {kid}: sig is {e}") from e
    if len(sig) != _SIGNATURE_SIZE:
        raise VerificationError(f"signature {position} by key {kid}: sig is {len(sig)} bytes, want {_SIGNATURE_SIZE}")
    return kid, sig


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate object key {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_json_integer(digits: str) -> int | float:
    value = int(digits)
    if abs(value) <= _MAX_SAFE_INTEGER:
        return value
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"number {digits} is beyond the range of an IEEE double") from None
