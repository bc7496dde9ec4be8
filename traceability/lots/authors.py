"""Who signs the records the lot service writes, and how (protocol §9).

The server signs with the member's custodial key (`Custodial`). Or the member signed the
record elsewhere, on a phone or in an API client (`Presigned`): then the server runs the very
steps it runs for its own records, with the record's own `time` and lot code, and appends the
record byte for byte only if its payload is exactly the one those steps write. So a record
signed on a phone obeys every rule the API applies, and the server adds nothing to it.
`Drafting` stops before the signature: it is how a phone learns what to sign.

Checking a signed record, in order (each step refuses with the reason):

1. The body is one record: a payload object and one signature, its author's (`SignedRecord`).
2. The signing key is registered, and the server does not hold its private half.
3. The signature verifies over `suyuan/record/v1\\n` and the RFC 8785 canonical payload.
4. Under the append lock: `time` is within 5 minutes of the server's clock; the record links
   to the lot's newest record (else 409 with the current tip) or names a new lot code (else
   409); the key is still not revoked.
5. The payload is the one the server writes for the same action (`LotService`'s steps).
6. The entry passes the record rules an auditor replays (`signing.ledger.LedgerChecker`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from signing.canonical import canonical_json
from signing.errors import VerificationError
from signing.ledger import LOT_PATTERN, UTC_TIME, LedgerChecker, LotTip, RegisteredKey, is_time
from signing.payloads import DEVICE, utc_time
from signing.records import MAX_ENTRY_BYTES, decode_entry, verify_record_signatures

from ..errors import Conflict, Forbidden, Invalid, TooLarge
from ..ids import new_lot_code
from ..ledger.log import Appended, Appender
from ..storage.models import Batch, MemberKey

# Protocol §9: a record is signed when it is sent; an outbox that waited signs it again.
MAX_SKEW = timedelta(minutes=5)


class Author(Protocol):
    def time(self, now: datetime) -> datetime:
        """The payload's `time`, for a record the server receives at `now`."""
        ...

    def new_lot(self, session: Session) -> str:
        """The code of the lot a batch record creates."""
        ...

    def follows(self, lot: str, seq: int, prev: bytes) -> None:
        """The record is the lot's `seq`, after the record whose leaf hash is `prev`."""
        ...

    def append(self, session: Session, log: Appender, payload: dict[str, Any], tip: LotTip | None) -> Appended:
        """Add the signed record of `payload` to the log; `tip`: its lot's chain before it."""
        ...


class Drafting:
    """The server's own choices for a record: its clock, a fresh lot code, the lot's tip."""

    def time(self, now: datetime) -> datetime:
        return now

    def new_lot(self, session: Session) -> str:
        lot = new_lot_code()
        while session.get(Batch, lot) is not None:
            lot = new_lot_code()
        return lot

    def follows(self, lot: str, seq: int, prev: bytes) -> None:
        pass  # read under the lock: nothing can come between

    def append(self, session: Session, log: Appender, payload: dict[str, Any], tip: LotTip | None) -> Appended:
        raise AssertionError("a draft is shown to its signer, never appended")


@dataclass(frozen=True)
class Custodial(Drafting):
    """The server signs with the key it holds for the member."""

    key: Ed25519PrivateKey

    def append(self, session: Session, log: Appender, payload: dict[str, Any], tip: LotTip | None) -> Appended:
        return log.append(payload, self.key)


@dataclass(frozen=True)
class SignedRecord:
    """Step 1: a record as its author sent it, and its log entry (its canonical JSON)."""

    record: dict[str, Any]
    entry: bytes
    keyid: str

    @classmethod
    def parse(cls, body: bytes) -> SignedRecord:
        if len(body) > MAX_ENTRY_BYTES:
            raise TooLarge("record_too_large", f"a record is at most {MAX_ENTRY_BYTES} bytes; cite photos by hash")
        try:
            # Strict JSON (no duplicate keys, no NaN), and the shape of a record.
            record = decode_entry(body)
            entry = canonical_json(record)
        except (VerificationError, ValueError) as exc:
            raise Invalid(
                "bad_record", f'{exc}; send {{"payload": {{...}}, "signatures": [{{"keyid", "sig"}}]}}'
            ) from None
        if len(record["signatures"]) != 1:
            raise Invalid("bad_record", "a record sent here carries one signature: its author's")
        if len(entry) > MAX_ENTRY_BYTES:
            raise TooLarge("record_too_large", f"a record is at most {MAX_ENTRY_BYTES} bytes; cite photos by hash")
        return cls(record, entry, record["signatures"][0]["keyid"])

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.record["payload"]
        return payload

    def verify(self, key: MemberKey) -> None:
        """Steps 2 and 3, for the key registered under the signature's keyid."""
        if key.custody != DEVICE:
            raise Forbidden(
                "custodial_key",
                f"the server holds key {self.keyid}: records only the member holds the key of are sent here",
            )
        if key.revoked_index is not None:
            raise Forbidden("key_revoked", f"key {self.keyid} was revoked at log index {key.revoked_index}")
        try:
            verify_record_signatures(self.record, {self.keyid: key.public_key})
        except VerificationError as exc:
            raise Invalid(
                "bad_signature",
                f"{exc}: sign 'suyuan/record/v1\\n' followed by the RFC 8785 canonical payload, "
                "with the key keyid names",
            ) from None


@dataclass(frozen=True)
class Presigned:
    """Steps 4 to 6: a record its author signed, appended as it is or not at all."""

    signed: SignedRecord
    key: MemberKey
    role: str
    operator_public_key: bytes

    def time(self, now: datetime) -> datetime:
        text = self.signed.payload.get("time")
        if not is_time(text, UTC_TIME) or utc_time(moment := datetime.fromisoformat(str(text))) != text:
            raise Invalid("bad_time", f"time must be the signing time in UTC, like {utc_time(now)}")
        if abs(moment - now) > MAX_SKEW:
            raise Invalid(
                "clock_skew",
                f"time {text} is more than {MAX_SKEW.seconds // 60} minutes from the server's clock ({utc_time(now)}): "
                "sign the record again as it is sent (and check the device's clock)",
            )
        return moment

    def new_lot(self, session: Session) -> str:
        lot = self.signed.payload.get("lot")
        if not isinstance(lot, str) or not LOT_PATTERN.fullmatch(lot):
            raise Invalid("bad_lot", "a batch record names its new lot's code: 1 to 20 characters from 0-9 and A-Z")
        if session.get(Batch, lot) is not None:
            raise Conflict(
                "lot_exists", f"lot {lot} already exists: choose another code for the new lot and sign again"
            )
        return lot

    def follows(self, lot: str, seq: int, prev: bytes) -> None:
        payload = self.signed.payload
        if (payload.get("seq"), payload.get("prev")) != (seq, prev.hex()):
            raise Conflict(
                "stale",
                f"lot {lot} has a newer record than this one follows: sign it again as seq {seq} "
                f"with prev {prev.hex()}",
                tip=tip_json(seq - 1, prev),
            )

    def append(self, session: Session, log: Appender, payload: dict[str, Any], tip: LotTip | None) -> Appended:
        current = session.get(MemberKey, self.signed.keyid, populate_existing=True)
        if current is None or current.revoked_index is not None:
            raise Forbidden("key_revoked", f"key {self.signed.keyid} was revoked a moment ago; nothing was stored")
        if differences := _differences(payload, self.signed.payload, "payload"):
            raise Invalid(
                "not_as_written",
                "the payload is not the one the server writes for this action: " + "; ".join(differences[:5]),
            )
        checker = LedgerChecker(self.operator_public_key, partial=True)
        checker.keys[current.keyid] = RegisteredKey(
            current.keyid,
            current.public_key,
            self.role,
            current.identity_id,
            current.key_index,
            custody=current.custody,
            holder=current.holder,
        )
        if tip is not None:
            checker.lots[payload["lot"]] = tip
        try:
            checker.check(log.size, self.signed.entry)
        except VerificationError as exc:
            raise Invalid("breaks_rules", str(exc)) from None
        return log.add(self.signed.entry, self.signed.payload, current.keyid)


def tip_json(seq: int, leaf_hash: bytes) -> dict[str, Any]:
    """A lot's newest record, as a signer links the next one to it: `prev` is its leaf hash."""
    return {"seq": seq, "prev": leaf_hash.hex()}


def _differences(expected: Any, given: Any, path: str) -> list[str]:
    """Where `given` is not `expected`, field by field, as canonical JSON compares them."""
    if isinstance(expected, dict) and isinstance(given, dict):
        found = []
        for name in sorted(expected.keys() | given.keys()):
            where = f"{path}.{name}"
            if name not in given:
                found.append(f"{where} is missing (the server writes {_shown(expected[name])})")
            elif name not in expected:
                found.append(f"{where} is not a field of this record")
            else:
                found += _differences(expected[name], given[name], where)
        return found
    if canonical_json(expected) != canonical_json(given):
        return [f"{path} is {_shown(given)}, the server writes {_shown(expected)}"]
    return []


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."
