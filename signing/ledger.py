"""The rules every record must satisfy (protocol §1), checked by replaying log entries.

The server writes only records that satisfy these rules; an auditor replays the log (or a
lot's proof bundle) through `LedgerChecker` to confirm it without trusting the server.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from .b64 import decode_strict
from .errors import VerificationError
from .keys import keyid as keyid_of
from .merkle import leaf_hash
from .records import canonical_message, decode_entry, verify_record_signatures

T = TypeVar("T")
KINDS = ("key", "key_revoke", "batch", "event")
ROLES = ("grower", "regulator", "cooperative")
LOT_OWNER_ROLES = frozenset({"grower", "cooperative"})
EVENT_TYPES = (
    "planting",
    "input",
    "irrigation",
    "observation",
    "harvest",
    "packing",
    "shipping",
    "receiving",
    "inspection",
    "recall",
)
REGULATOR_EVENT_TYPES = frozenset({"inspection", "recall"})
LOT_PATTERN = re.compile(r"[0-9A-Z]{1,20}")
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
OFFSET_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

_COMMON = {"v", "kind", "time"}
_FIELDS = {
    "key": _COMMON | {"keyid", "public_key", "role", "subject"},
    "key_revoke": _COMMON | {"keyid", "reason"},
    "batch": _COMMON | {"lot", "seq", "prev", "product", "variety", "plot", "grower", "inputs", "gtin"},
    "event": _COMMON | {"lot", "seq", "prev", "type", "occurred_at", "data", "evidence"},
}
_REQUIRED = {
    "key": _FIELDS["key"],
    "key_revoke": _FIELDS["key_revoke"],
    "batch": _COMMON | {"lot", "seq", "prev", "product", "grower", "inputs"},
    "event": _FIELDS["event"],
}


@dataclass
class RegisteredKey:
    keyid: str
    public_key: bytes
    role: str
    subject_id: str
    index: int
    revoked_index: int | None = None


@dataclass
class LotTip:
    owner: str
    seq: int
    leaf_hash: bytes


@dataclass(frozen=True)
class SignatureCheck:
    """The stateless part of checking an entry: canonical form and signatures by `keys`."""

    index: int
    entry: bytes
    record: dict
    keys: dict[str, bytes]

    def __call__(self) -> None:
        try:
            message = canonical_message(self.entry, self.record)
            verify_record_signatures(self.record, self.keys, message=message)
        except VerificationError as exc:
            raise VerificationError(f"entry {self.index}: {exc}") from None


class LedgerChecker:
    """Replays entries in log order; `check` raises VerificationError naming the entry.

    `partial=True` is for a proof bundle, which holds one lot's records and the key
    entries of their signers but not the lots a packed lot was made from.
    """

    def __init__(self, operator_public_key: bytes, *, partial: bool = False) -> None:
        self.operator_public_key = operator_public_key
        self.operator_keyid = keyid_of(operator_public_key)
        self.partial = partial
        self.keys: dict[str, RegisteredKey] = {}
        self.lots: dict[str, LotTip] = {}

    def state(self) -> dict:
        """What the checker knows, as JSON: a monitor keeps it to check only new entries next time."""
        return {
            "keys": {
                k.keyid: [base64.b64encode(k.public_key).decode(), k.role, k.subject_id, k.index, k.revoked_index]
                for k in self.keys.values()
            },
            "lots": {lot: [tip.owner, tip.seq, tip.leaf_hash.hex()] for lot, tip in self.lots.items()},
        }

    @classmethod
    def from_state(cls, operator_public_key: bytes, state: dict) -> LedgerChecker:
        checker = cls(operator_public_key)
        try:
            for keyid, (public_key, role, subject_id, index, revoked) in state["keys"].items():
                key = decode_strict(public_key, f"key {keyid}")
                _require(keyid_of(key) == keyid and role in ROLES, f"key {keyid} is not a registered key")
                _require(isinstance(subject_id, str) and isinstance(index, int), f"key {keyid} is malformed")
                _require(revoked is None or isinstance(revoked, int), f"key {keyid} is malformed")
                checker.keys[keyid] = RegisteredKey(keyid, key, role, subject_id, index, revoked)
            for lot, (owner, seq, leaf) in state["lots"].items():
                _require(isinstance(owner, str) and isinstance(seq, int), f"lot {lot} is malformed")
                checker.lots[lot] = LotTip(owner, seq, bytes.fromhex(leaf))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise VerificationError(f"not a ledger checker state ({exc!r})") from None
        return checker

    def check(self, index: int, entry: bytes) -> dict:
        record, check_signatures = self.check_rules(index, entry)
        check_signatures()
        return record

    def check_rules(self, index: int, entry: bytes) -> tuple[dict, SignatureCheck]:
        """Every rule but the canonical form and the signatures, which the returned
        check covers.

        An auditor may run those checks later, or in other processes: they need no
        ledger state. The state moves on as if they held; if one does not, its entry
        comes before any that depended on it.
        """
        try:
            return self._check(index, entry)
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: {exc}") from None
        except (TypeError, AttributeError, KeyError) as exc:
            # A field of the wrong type (a list where a lot code belongs, say) breaks a rule too.
            raise VerificationError(f"entry {index}: a field has the wrong type ({exc!r})") from None

    def _check(self, index: int, entry: bytes) -> tuple[dict, SignatureCheck]:
        # 1. The entry is one record (its canonical form is left to the SignatureCheck).
        record = decode_entry(entry)
        payload = record["payload"]
        # 2. The fields every payload has, and only the fields its kind allows.
        kind = payload.get("kind")
        if kind not in KINDS:
            raise VerificationError(f"unknown record kind {kind!r}")
        if payload.get("v") != 1:
            raise VerificationError(f"unsupported record version {payload.get('v')!r}")
        fields = set(payload)
        if missing := _REQUIRED[kind] - fields:
            raise VerificationError(f"{kind} record lacks {', '.join(sorted(missing))}")
        if extra := fields - _FIELDS[kind]:
            raise VerificationError(f"{kind} record has unknown fields {', '.join(sorted(extra))}")
        _require(_is_time(payload["time"], UTC_TIME), "time is not an RFC 3339 UTC date and time")
        # 3. Signed by a key allowed to sign this kind, registered earlier and not revoked.
        if kind in ("key", "key_revoke"):
            _require(
                [s["keyid"] for s in record["signatures"]] == [self.operator_keyid],
                f"{kind} records must be signed by the log operator key alone",
            )
            keys = {self.operator_keyid: self.operator_public_key}
            author = None
        else:
            keys = {}
            for signature in record["signatures"]:
                registered = self.keys.get(signature["keyid"])
                if registered is None:
                    raise VerificationError(f"signed by {signature['keyid']}, which no earlier key entry registered")
                if registered.revoked_index is not None:
                    raise VerificationError(
                        f"signed by {signature['keyid']}, revoked at entry {registered.revoked_index}"
                    )
                keys[registered.keyid] = registered.public_key
            author = self.keys[record["signatures"][0]["keyid"]]
        # 4. The kind's own rules, including the lot's hash chain.
        getattr(self, f"_check_{kind}")(index, payload, author)
        if kind in ("batch", "event"):
            self.lots[payload["lot"]].leaf_hash = leaf_hash(entry)
        # 5. The canonical form, and the signatures over the canonical payload.
        return record, SignatureCheck(index, entry, record, keys)

    def _check_key(self, index: int, payload: dict, _author: None) -> None:
        public_key = decode_strict(payload["public_key"], "public_key")
        _require(len(public_key) == 32, "public_key is not 32 bytes")
        _require(payload["keyid"] == keyid_of(public_key), "keyid is not the SHA-256 of public_key")
        _require(payload["role"] in ROLES, f"unknown role {payload['role']!r}")
        subject = payload["subject"]
        _require(isinstance(subject, dict) and isinstance(subject.get("id"), str), "subject has no id")
        _require(payload["keyid"] not in self.keys, f"key {payload['keyid']} is registered twice")
        _require(payload["keyid"] != self.operator_keyid, "the operator key cannot be registered as a member key")
        self.keys[payload["keyid"]] = RegisteredKey(payload["keyid"], public_key, payload["role"], subject["id"], index)

    def _check_key_revoke(self, index: int, payload: dict, _author: None) -> None:
        registered = _found(self.keys.get(payload["keyid"]), f"revokes {payload['keyid']}, which is not registered")
        _require(registered.revoked_index is None, f"revokes {payload['keyid']} a second time")
        registered.revoked_index = index

    def _check_batch(self, _index: int, payload: dict, author: RegisteredKey) -> None:
        lot = payload["lot"]
        _require(isinstance(lot, str) and LOT_PATTERN.fullmatch(lot), f"lot code {lot!r} is not 1-20 of 0-9A-Z")
        _require(lot not in self.lots, f"lot {lot} is created twice")
        _require(payload["seq"] == 0 and payload["prev"] is None, "a batch record starts its chain: seq 0, prev null")
        _require(author.role in LOT_OWNER_ROLES, f"a {author.role} key cannot create lots")
        grower = payload["grower"]
        _require(
            isinstance(grower, dict) and grower.get("id") == author.subject_id,
            f"lot {lot} names grower {grower!r} but is signed by {author.subject_id}",
        )
        inputs = payload["inputs"]
        _require(isinstance(inputs, list), "inputs is not a list")
        for item in inputs:
            _require(
                isinstance(item, dict) and {"lot", "quantity", "unit"} <= set(item),
                "an input lacks lot, quantity or unit",
            )
            if not self.partial:
                _require(item["lot"] in self.lots, f"input lot {item['lot']!r} does not exist earlier in the log")
        self.lots[lot] = LotTip(owner=author.subject_id, seq=0, leaf_hash=b"")

    def _check_event(self, _index: int, payload: dict, author: RegisteredKey) -> None:
        lot = payload["lot"]
        tip = _found(self.lots.get(lot), f"event for lot {lot!r}, which no earlier batch record created")
        _require(payload["seq"] == tip.seq + 1, f"lot {lot} seq {payload['seq']!r} does not follow seq {tip.seq}")
        _require(
            payload["prev"] == tip.leaf_hash.hex(),
            f"lot {lot} seq {payload['seq']} prev does not match the leaf hash of seq {tip.seq}",
        )
        event_type = payload["type"]
        _require(event_type in EVENT_TYPES, f"unknown event type {event_type!r}")
        if event_type in REGULATOR_EVENT_TYPES:
            _require(author.role == "regulator", f"a {event_type} must be signed by a regulator, not a {author.role}")
        else:
            _require(
                author.subject_id == tip.owner,
                f"{author.subject_id} signed a {event_type} on lot {lot}, which belongs to {tip.owner}",
            )
        _require(
            _is_time(payload["occurred_at"], OFFSET_TIME),
            "occurred_at is not an RFC 3339 date and time with an offset",
        )
        _require(isinstance(payload["data"], dict), "data is not an object")
        evidence = payload["evidence"]
        _require(isinstance(evidence, list), "evidence is not a list")
        for item in evidence:
            _require(
                isinstance(item, dict) and isinstance(item.get("sha256"), str) and SHA256_HEX.fullmatch(item["sha256"]),
                "evidence items need a lowercase hex sha256",
            )
        tip.seq = payload["seq"]


def _is_time(value: object, form: re.Pattern[str]) -> bool:
    """Written in `form`, and a day and time that exist (not February 30th, not 25:00)."""
    if not isinstance(value, str) or not form.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _require(condition: object, message: str) -> None:
    if not condition:
        raise VerificationError(message)


def _found(value: T | None, message: str) -> T:
    if value is None:
        raise VerificationError(message)
    return value
