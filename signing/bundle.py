"""Offline verification of one lot's proof bundle (protocol §3).

    {"lot", "log_key", "checkpoint", "entries": [{"index", "entry", "inclusion_proof"}]}

The only trust material is the log's verifier key, passed in by the caller; the
bundle's own `log_key` field is a hint and must name that same key. A bundle is
served as canonical JSON (RFC 8785) with canonical base64, so that changing any
byte of it makes verification fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .b64 import decode_strict
from .canonical import canonical_json
from .checkpoint import Checkpoint, verify_checkpoint
from .errors import VerificationError
from .ledger import LedgerChecker
from .merkle import leaf_hash, verify_inclusion
from .note import Verifier
from .payloads import LotRecord


@dataclass(frozen=True)
class VerifiedBundle:
    lot: str
    checkpoint: Checkpoint
    records: list[LotRecord]  # the lot's records, in chain order
    keys_checked: int


def verify_bundle(document: bytes, log_key: Verifier) -> VerifiedBundle:
    # 1. The document is one JSON object in canonical form, with the four fields.
    bundle = _load(document)
    if not isinstance(bundle, dict) or set(bundle) != {"lot", "log_key", "checkpoint", "entries"}:
        raise VerificationError("not a proof bundle: expected exactly lot, log_key, checkpoint and entries")
    lot = bundle["lot"]
    if not isinstance(lot, str) or not isinstance(bundle["entries"], list):
        raise VerificationError("not a proof bundle: lot must be a string and entries a list")
    # 2. It is for the log the caller trusts.
    if bundle["log_key"] != log_key.key_string():
        raise VerificationError(
            f"the bundle is for log key {bundle['log_key']!r}, not the trusted {log_key.key_string()!r}"
        )
    # 3. The checkpoint is signed by that log.
    if not isinstance(bundle["checkpoint"], str):
        raise VerificationError("checkpoint must be the signed checkpoint text")
    checkpoint = verify_checkpoint(bundle["checkpoint"], log_key)
    checker = LedgerChecker(log_key.public_key, partial=True)
    records: list[LotRecord] = []
    previous = -1
    for position, item in enumerate(bundle["entries"]):
        index, entry, proof = _entry_fields(position, item)
        # 4. Entries are in log order and inside the checkpoint's tree ...
        if index <= previous:
            raise VerificationError(f"entry {index}: entries are not in increasing log order")
        if index >= checkpoint.size:
            raise VerificationError(f"entry {index}: beyond the checkpoint's tree of size {checkpoint.size}")
        previous = index
        # 5. ... each proved included in it ...
        leaf = leaf_hash(entry)
        try:
            verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root_hash)
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: not included in the checkpoint's tree: {exc}") from None
        # 6. ... and each obeying the record rules: registered signers, an unbroken chain.
        record = checker.check(index, entry)
        if record["payload"].get("lot") == lot:
            records.append(LotRecord.from_record(index, record, leaf))
        elif record["payload"]["kind"] not in ("key", "key_revoke"):
            raise VerificationError(f"entry {index}: a record of another lot in the bundle of {lot}")
    # 7. The lot's chain starts at its batch record.
    if not records or records[0].type != "batch":
        raise VerificationError(f"the bundle holds no batch record for lot {lot}")
    return VerifiedBundle(lot, checkpoint, records, len(checker.keys))


def _load(document: bytes) -> object:
    try:
        bundle = json.loads(document)
        canonical = canonical_json(bundle)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerificationError(f"the bundle is not JSON: {exc}") from None
    if canonical != document:
        raise VerificationError(
            "the bundle is not in canonical JSON form (RFC 8785): it was altered after it was served"
        )
    return bundle


def _entry_fields(position: int, item: object) -> tuple[int, bytes, list[bytes]]:
    if not isinstance(item, dict) or set(item) != {"index", "entry", "inclusion_proof"}:
        raise VerificationError(f"entries[{position}] must have exactly index, entry and inclusion_proof")
    index, entry, proof = item["index"], item["entry"], item["inclusion_proof"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise VerificationError(f"entries[{position}].index is not a log index")
    if not isinstance(proof, list):
        raise VerificationError(f"entry {index}: inclusion_proof must be a list")
    return (
        index,
        decode_strict(entry, f"entry {index}"),
        [decode_strict(p, f"entry {index} inclusion_proof") for p in proof],
    )
