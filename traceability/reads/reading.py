"""A lot read the way an offline verifier reads it: its proof bundle built, verified, and what
its records say read from the verified records (`signing.lot_state`). The public page, the
labels, the grower app and the regulators' lot page all start here, so none of them shows a
fact that no signature covers.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from public_pages.views import Verification
from signing.bundle import verify_bundle
from signing.canonical import canonical_json
from signing.cosignature import WitnessPolicy
from signing.encoding import b64encode
from signing.errors import VerificationError
from signing.lot_state import LotState, read_lots
from signing.note import Verifier
from signing.payloads import LotRecord, signed_how, subject_name

from ..ledger.bundles import bundle
from ..ledger.log import TransparencyLog
from ..ledger.lot_index import LotIndex


@dataclass(frozen=True)
class LotReading:
    lot: str
    state: LotState
    chains: Mapping[str, list[LotRecord]]  # the lot's and its sources' records, as logged
    subjects: Mapping[str, Mapping[str, Any]]  # keyid -> who its signed key entry names
    how: Mapping[str, str]  # keyid -> how its records were signed, as its key entry says (protocol §9)
    verification: Verification

    @property
    def made(self) -> LotRecord | None:
        """The record that made the lot (None only when the bundle is too broken to hold it)."""
        chain = self.chains.get(self.lot)
        return chain[0] if chain else None

    def name(self, keyid: str) -> str:
        """Who signed with `keyid`, as the page shows them: a regulator with its agency."""
        return subject_name(self.subjects.get(keyid))

    def subject_named(self, subject_id: str) -> Mapping[str, Any] | None:
        return next((s for s in self.subjects.values() if s.get("id") == subject_id), None)

    def record(self, lot: str, seq: int) -> LotRecord | None:
        return next((r for r in self.chains.get(lot, ()) if r.seq == seq), None)


def read_lot(session: Session, log: TransparencyLog, index: LotIndex, lot: str) -> LotReading:
    """Raises NotFound for a lot the log does not hold."""
    served = bundle(session, log, index, lot)
    log_key = log.signer.verifier_key()
    checkpoint = served["checkpoint"]
    witnessed = log.witnesses is not None
    unverified = Verification(False, None, 0, 0, log.origin, 0, "", checkpoint, log_key, witnessed)
    if log.witnesses is not None:
        keys = tuple(w.key_string() for w in log.witnesses.witnesses)
        unverified = replace(unverified, witness_keys=keys, quorum=log.witnesses.quorum)
    document, verifier = canonical_json(served), Verifier.from_key_string(log_key)
    try:
        verified = verify_bundle(document, verifier)
    except VerificationError as exc:
        # The page says it failed and shows what the entries claim, which no one should rely on.
        chains, derived, subjects, how = _decoded(served)
        state = _state(lot, chains, derived)
        return LotReading(lot, state, chains, subjects, how, replace(unverified, problem=str(exc)))
    verification = replace(
        unverified,
        ok=True,
        records=len(verified.records),
        keys=verified.keys_checked,
        checkpoint_size=verified.checkpoint.size,
        root_hash=b64encode(verified.checkpoint.root_hash),
        cosigned_by=_cosigned_by(checkpoint, verifier, log.witnesses),
    )
    return LotReading(lot, verified.state, verified.chains, verified.subjects, verified.how, verification)


def _cosigned_by(checkpoint: str, log_key: Verifier, witnesses: WitnessPolicy | None) -> tuple[str, ...]:
    """The witnesses whose quorum cosigned the bundle's checkpoint, as a verifier asking for
    that quorum finds them; none when the lot's newest record is not cosigned yet."""
    if witnesses is None:
        return ()
    try:
        return tuple(witnesses.verify(checkpoint, log_key).witnesses)
    except VerificationError:
        return ()


def _decoded(
    served: dict[str, Any],
) -> tuple[dict[str, list[LotRecord]], list[LotRecord], dict[str, dict], dict[str, str]]:
    chains: dict[str, list[LotRecord]] = {}
    subjects: dict[str, dict] = {}
    how: dict[str, str] = {}
    for item in served["entries"]:
        try:
            entry = base64.b64decode(item["entry"])
            payload = json.loads(entry)["payload"]
            if payload["kind"] == "key":
                subjects[payload["keyid"]] = dict(payload["subject"])
                how[payload["keyid"]] = signed_how(payload)
            elif payload["kind"] in ("batch", "event"):
                chains.setdefault(payload["lot"], []).append(LotRecord.from_entry(item["index"], entry))
        except (binascii.Error, ValueError, KeyError, TypeError):
            continue
    lot = served["lot"]
    derived = [
        chain[0]
        for code, chain in chains.items()
        if code != lot and any(item.get("lot") == lot for item in chain[0].data.get("inputs") or ())
    ]
    return chains, derived, subjects, how


def _state(lot: str, chains: dict[str, list[LotRecord]], derived: list[LotRecord]) -> LotState:
    try:
        return read_lots(lot, chains, derived)
    except (ValueError, KeyError, TypeError, IndexError):
        return LotState(lot, (), (), {}, (), (), None)
