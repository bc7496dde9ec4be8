"""The rules every record must satisfy (protocol §1), checked by replaying log entries.

The server writes only records that satisfy these rules; an auditor replays the log (or a
lot's proof bundle) through `LedgerChecker` to confirm it without trusting the server.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from .b64 import decode_strict
from .errors import VerificationError
from .keys import keyid as keyid_of
from .merkle import leaf_hash
from .payloads import CUSTODIAL, CUSTODIES, DEVICE, HOLDERS
from .photos import PHOTO_COPIES
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
    "correction",
    "certificate",
)
REGULATOR_EVENT_TYPES = frozenset({"inspection", "recall"})
# Signed by the lot's owner, or by a regulator correcting its own record (protocol §11).
EITHER_EVENT_TYPES = frozenset({"correction"})
# What a correction may replace in the record it corrects.
REPLACEABLE = frozenset({"occurred_at", "data"})
LOT_PATTERN = re.compile(r"[0-9A-Z]{1,20}")
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
OFFSET_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

_COMMON = {"v", "kind", "time"}
_FIELDS = {
    "key": _COMMON | {"keyid", "public_key", "role", "subject", "custody", "holder"},
    "key_revoke": _COMMON | {"keyid", "reason"},
    "batch": _COMMON | {"lot", "seq", "prev", "product", "variety", "plot", "grower", "inputs", "gtin"},
    "event": _COMMON | {"lot", "seq", "prev", "type", "occurred_at", "data", "evidence"},
}
_REQUIRED = {
    # A key entry written before custody was recorded (protocol §9) is custodial.
    "key": _COMMON | {"keyid", "public_key", "role", "subject"},
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
    custody: str = CUSTODIAL
    holder: str | None = None


@dataclass
class LotTip:
    owner: str
    seq: int
    leaf_hash: bytes
    # seq -> keyid of the lot's records a regulator signed: only that regulator may correct them.
    by_regulators: dict[int, str] = field(default_factory=dict)


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
        # subject id -> its first key, whose custody the subject keeps (see `_check_key`)
        self.first_keys: dict[str, RegisteredKey] = {}

    def state(self) -> dict:
        """What the checker knows, as JSON: a monitor keeps it to check only new entries next time."""
        return {
            "keys": {
                k.keyid: [
                    base64.b64encode(k.public_key).decode(),
                    k.role,
                    k.subject_id,
                    k.index,
                    k.revoked_index,
                    k.custody,
                    k.holder,
                ]
                for k in self.keys.values()
            },
            "lots": {
                lot: [tip.owner, tip.seq, tip.leaf_hash.hex(), {str(s): k for s, k in tip.by_regulators.items()}]
                for lot, tip in self.lots.items()
            },
        }

    @classmethod
    def from_state(cls, operator_public_key: bytes, state: dict) -> LedgerChecker:
        checker = cls(operator_public_key)
        try:
            for keyid, (public_key, role, subject_id, index, revoked, *held) in state["keys"].items():
                key = decode_strict(public_key, f"key {keyid}")
                _require(keyid_of(key) == keyid and role in ROLES, f"key {keyid} is not a registered key")
                _require(isinstance(subject_id, str) and isinstance(index, int), f"key {keyid} is malformed")
                _require(revoked is None or isinstance(revoked, int), f"key {keyid} is malformed")
                # A state saved before custody was recorded knew only custodial keys.
                custody, holder = held or (CUSTODIAL, None)
                _require(custody in CUSTODIES and holder in (None, *HOLDERS), f"key {keyid} is malformed")
                checker._register(RegisteredKey(keyid, key, role, subject_id, index, revoked, custody, holder))
            for lot, (owner, seq, leaf, *rest) in state["lots"].items():
                _require(isinstance(owner, str) and isinstance(seq, int), f"lot {lot} is malformed")
                # A state saved before corrections existed has no regulators' records to name.
                by_regulators = {int(s): str(k) for s, k in (rest[0] if rest else {}).items()}
                checker.lots[lot] = LotTip(owner, seq, bytes.fromhex(leaf), by_regulators)
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
        _require(is_time(payload["time"], UTC_TIME), "time is not an RFC 3339 UTC date and time")
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
        custody, holder = payload.get("custody", CUSTODIAL), payload.get("holder")
        _require(custody in CUSTODIES, f"unknown custody {custody!r}: a key is custodial or held on a device")
        _require(
            holder is None or (custody == DEVICE and holder in HOLDERS),
            f"holder {holder!r}: only a device key names what holds it ({' or '.join(HOLDERS)})",
        )
        # Protocol §9: the operator must not be able to sign in the name of a member who holds
        # their own keys, so a subject registered with a device key never gets a custodial one.
        first = self.first_keys.get(subject["id"])
        _require(
            first is None or first.custody == CUSTODIAL or custody == DEVICE,
            f"{subject['id']} holds its own keys (since entry {first.index if first else 0}): "
            "the operator cannot register a key it holds for them",
        )
        self._register(
            RegisteredKey(payload["keyid"], public_key, payload["role"], subject["id"], index, None, custody, holder)
        )

    def _register(self, key: RegisteredKey) -> None:
        self.keys[key.keyid] = key
        first = self.first_keys.get(key.subject_id)
        if first is None or key.index < first.index:
            self.first_keys[key.subject_id] = key

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
        elif event_type in EITHER_EVENT_TYPES and author.role == "regulator":
            pass
        else:
            _require(
                author.subject_id == tip.owner,
                f"{author.subject_id} signed a {event_type} on lot {lot}, which belongs to {tip.owner}",
            )
        _require(
            is_time(payload["occurred_at"], OFFSET_TIME),
            "occurred_at is not an RFC 3339 date and time with an offset",
        )
        _require(isinstance(payload["data"], dict), "data is not an object")
        if event_type == "correction":
            _check_correction(payload["data"], payload["seq"])
            corrected_by = tip.by_regulators.get(payload["data"]["corrects"])
            if author.role == "regulator":
                _require(corrected_by == author.keyid, "a regulator may correct only its own records")
            else:
                _require(corrected_by is None, "a grower cannot correct a regulator's record")
        elif event_type == "certificate":
            _check_certificate(payload["data"])
        evidence = payload["evidence"]
        _require(isinstance(evidence, list), "evidence is not a list")
        for item in evidence:
            _require(isinstance(item, dict), "evidence items must be objects")
            for name in ("sha256", *(PHOTO_COPIES & set(item))):
                _require(
                    isinstance(item.get(name), str) and SHA256_HEX.fullmatch(item[name]),
                    f"evidence items need a lowercase hex {name}",
                )
        if author.role == "regulator":
            tip.by_regulators[payload["seq"]] = author.keyid
        tip.seq = payload["seq"]


def _check_correction(data: dict, seq: int) -> None:
    corrects = data.get("corrects")
    _require(
        isinstance(corrects, int) and not isinstance(corrects, bool) and 0 < corrects < seq,
        "a correction's corrects must be the seq of an earlier event of the same lot",
    )
    _require(isinstance(data.get("reason"), str) and data["reason"].strip(), "a correction needs a reason")
    _require(set(data) <= {"corrects", "reason", "replacement"}, "a correction has only corrects, reason, replacement")
    if "replacement" in data:
        replacement = data["replacement"]
        _require(
            isinstance(replacement, dict) and replacement and set(replacement) <= REPLACEABLE,
            "a correction's replacement holds occurred_at, data or both",
        )
        if "occurred_at" in replacement:
            _require(is_time(replacement["occurred_at"], OFFSET_TIME), "the replacement occurred_at is not a time")
        if "data" in replacement:
            _require(isinstance(replacement["data"], dict), "the replacement data is not an object")


def _check_certificate(data: dict) -> None:
    basis = data.get("basis")
    _require(
        isinstance(basis, list) and basis and all(isinstance(b, str) and b for b in basis),
        "a certificate needs its basis: a list of what the commitment rests on",
    )
    quantity = data.get("quantity")
    _require(
        isinstance(quantity, int | float) and not isinstance(quantity, bool) and quantity > 0,
        "a certificate needs the quantity it covers",
    )
    _require(isinstance(data.get("unit"), str), "a certificate needs the unit of its quantity")
    _require(data.get("contact") is None or isinstance(data["contact"], str), "a certificate's contact is text")


def is_time(value: object, form: re.Pattern[str]) -> bool:
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
