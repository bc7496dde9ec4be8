"""Proof bundles (protocol §3): one lot's records with everything needed to verify them offline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.canonical import canonical_json
from signing.encoding import b64encode

from ..storage.models import Identity, LogEntry
from .log import TransparencyLog
from .records import unknown_lot


def bundle_bytes(session: Session, log: TransparencyLog, lot: str) -> bytes:
    """Canonical JSON, so that the verifier can refuse any byte changed after serving."""
    return canonical_json(bundle(session, log, lot))


def bundle(session: Session, log: TransparencyLog, lot: str) -> dict[str, Any]:
    """The lot's records and the `key` (and `key_revoke`) entries of their signers, each with
    its inclusion proof against the current checkpoint."""
    head = log.head(session)
    checkpoint = log.signed_checkpoint(head)
    size = head.size
    records = session.execute(
        select(LogEntry.idx, LogEntry.signer_keyid).where(LogEntry.lot == lot, LogEntry.idx < size)
    ).all()
    if not records:
        raise unknown_lot(lot)
    indexes = {idx for idx, _ in records}
    signers = {keyid for _, keyid in records}
    for identity in session.execute(select(Identity).where(Identity.keyid.in_(signers))).scalars():
        indexes.add(identity.key_index)
        if identity.revoked_index is not None and identity.revoked_index < size:
            indexes.add(identity.revoked_index)
    entries = dict(session.execute(select(LogEntry.idx, LogEntry.entry).where(LogEntry.idx.in_(indexes))).all())
    proofs = log.inclusion_proofs(session, sorted(indexes), size)
    return {
        "lot": lot,
        "log_key": log.signer.verifier_key(),
        "checkpoint": checkpoint,
        "entries": [
            {
                "index": index,
                "entry": b64encode(entries[index]),
                "inclusion_proof": [b64encode(h) for h in proofs[index]],
            }
            for index in sorted(indexes)
        ],
    }
