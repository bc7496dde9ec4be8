"""What records say (protocol §1): one builder per kind of payload, and `LotRecord`, the one
reading of a lot's record that every page, export and verifier report uses.

The builders are the only place a payload is assembled; `ledger.LedgerChecker` holds the
rules a payload must obey. A `LotRecord` is decoded once from its entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .encoding import b64encode
from .merkle import leaf_hash as leaf_hash_of

VERSION = 1


def utc_time(moment: datetime) -> str:
    """A receive time as the protocol writes it: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# Who holds a member key's private half (protocol §9): the server, sealed, or the member.
CUSTODIAL, DEVICE = "custodial", "device"
CUSTODIES = (CUSTODIAL, DEVICE)
# What holds a device key: the grower app on a phone (WebCrypto, not extractable), or the
# member's own software (an API client).
PHONE, CLIENT = "phone", "client"
HOLDERS = (PHONE, CLIENT)
# How a record was signed, as pages say it, from its signer's key entry.
ON_PHONE, OWN_KEY, BY_PLATFORM = "phone", "own_key", "platform"


def key_payload(
    now: datetime,
    keyid: str,
    public_key: bytes,
    role: str,
    subject: Mapping[str, Any],
    custody: str = CUSTODIAL,
    holder: str | None = None,
) -> dict[str, Any]:
    """The operator registers a member's key: `subject` holds its id, display name, region;
    `custody` says whether the server holds the private half, `holder` what holds a device key."""
    payload = _common("key", now) | {
        "keyid": keyid,
        "public_key": b64encode(public_key),
        "role": role,
        "subject": dict(subject),
        "custody": custody,
    }
    if holder is not None:
        payload["holder"] = holder
    return payload


def signed_how(key: Mapping[str, Any]) -> str:
    """How the records of a key were signed, from its `key` entry's payload: on the member's
    phone, with a key of the member's own, or by the platform. A key entry written before
    custody was recorded is custodial: the server held every key then."""
    if key.get("custody", CUSTODIAL) == CUSTODIAL:
        return BY_PLATFORM
    return ON_PHONE if key.get("holder") == PHONE else OWN_KEY


def display_name(name: str, agency: str | None) -> str:
    """A signer as pages and reports name them: a regulator with the agency they act for."""
    return f"{name} ({agency})" if agency else name


def subject_name(subject: Mapping[str, Any] | None) -> str:
    """`display_name` of a `key` entry's subject."""
    subject = subject or {}
    return display_name(str(subject.get("name", "")), subject.get("agency"))


def key_revoke_payload(now: datetime, keyid: str, reason: str) -> dict[str, Any]:
    return _common("key_revoke", now) | {"keyid": keyid, "reason": reason}


def batch_payload(
    now: datetime,
    lot: str,
    *,
    product: str,
    variety: str | None,
    plot: Mapping[str, Any] | None,
    grower_id: str,
    inputs: Sequence[Mapping[str, Any]],
    gtin: str | None = None,
) -> dict[str, Any]:
    """A new lot, the first record of its chain. `plot` is {id, name, location: {lat, lon}}."""
    payload = _common("batch", now) | {
        "lot": lot,
        "seq": 0,
        "prev": None,
        "product": product,
        "variety": variety,
        "plot": dict(plot) if plot is not None else None,
        "grower": {"id": grower_id},
        "inputs": [dict(item) for item in inputs],
    }
    if gtin:
        payload["gtin"] = gtin
    return payload


def event_payload(
    now: datetime,
    lot: str,
    *,
    seq: int,
    prev: bytes,
    type: str,
    occurred_at: str,
    data: Mapping[str, Any],
    evidence: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """The next record of a lot's chain: `prev` is the leaf hash of the record before it."""
    return _common("event", now) | {
        "lot": lot,
        "seq": seq,
        "prev": prev.hex(),
        "type": type,
        "occurred_at": occurred_at,
        "data": dict(data),
        "evidence": [dict(item) for item in evidence],
    }


def _common(kind: str, now: datetime) -> dict[str, Any]:
    return {"v": VERSION, "kind": kind, "time": utc_time(now)}


# What a batch record says about its lot, beyond its place in the chain.
_LOT_FACTS = ("product", "variety", "plot", "grower", "inputs", "gtin")


@dataclass(frozen=True)
class LotRecord:
    """One record of a lot (a `batch` or an `event`), as logged at `index`."""

    index: int
    leaf_hash: str  # lowercase hex, RFC 9162
    lot: str
    seq: int
    type: str  # "batch" for the record that made the lot, else the event type
    occurred_at: datetime  # what the signer claims, in their own offset (a batch: when it was logged)
    recorded_at: datetime  # when the log received it (UTC)
    data: Mapping[str, Any]  # an event's data; a batch's facts about its lot (product, plot, inputs ...)
    evidence: tuple[str, ...]  # SHA-256 of the photos it cites
    signer: str  # keyid of its (first) signature: its author
    record: Mapping[str, Any] = field(repr=False)  # as logged: payload and signatures

    @classmethod
    def from_entry(cls, index: int, entry: bytes, leaf_hash: bytes | None = None) -> LotRecord:
        """From a stored entry (the log checked it when it was appended)."""
        return cls.from_record(index, json.loads(entry), leaf_hash or leaf_hash_of(entry))

    @classmethod
    def from_record(cls, index: int, record: Mapping[str, Any], leaf_hash: bytes) -> LotRecord:
        payload = record["payload"]
        recorded = datetime.fromisoformat(payload["time"])
        if payload["kind"] == "batch":
            kind, occurred = "batch", recorded
            data = {name: payload[name] for name in _LOT_FACTS if name in payload}
        else:
            kind, occurred, data = payload["type"], datetime.fromisoformat(payload["occurred_at"]), payload["data"]
        return cls(
            index=index,
            leaf_hash=leaf_hash.hex(),
            lot=payload["lot"],
            seq=payload["seq"],
            type=kind,
            occurred_at=occurred,
            recorded_at=recorded,
            data=data,
            evidence=tuple(item["sha256"] for item in payload.get("evidence", ())),
            signer=record["signatures"][0]["keyid"],
            record=record,
        )

    @property
    def work(self) -> str:
        """The kind of work done: the event type, or for an input, fertiliser or pesticide."""
        return self.data.get("kind", "fertiliser") if self.type == "input" else self.type

    def as_json(self) -> dict[str, Any]:
        """As the API answers it: where it is in the log, and the record itself."""
        return {"index": self.index, "seq": self.seq, "leaf_hash": self.leaf_hash, "record": self.record}
