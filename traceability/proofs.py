"""Proof bundles (protocol §3): one lot's records with everything needed to verify them offline."""

from __future__ import annotations

import base64

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.canonical import canonical_json

from .batches import batch_or_404
from .context import Context
from .models import Identity, LogEntry


def build_bundle(session: Session, context: Context, lot: str) -> bytes:
    """Canonical JSON, so that the verifier can refuse any byte changed after serving."""
    return canonical_json(bundle_of(session, context, lot))


def bundle_of(session: Session, context: Context, lot: str) -> dict:
    batch_or_404(session, lot)
    log = context.log
    head = log.head(session)
    checkpoint = log.signed_checkpoint(head)
    size = head.size
    records = session.execute(
        select(LogEntry.idx, LogEntry.signer_keyid).where(LogEntry.lot == lot, LogEntry.idx < size)
    ).all()
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
            {"index": index, "entry": _b64(entries[index]), "inclusion_proof": [_b64(h) for h in proofs[index]]}
            for index in sorted(indexes)
        ],
    }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
