"""Proof bundles (protocol §3): one lot's records with everything needed to verify them and
to read what they say offline.

Which entries go in is chosen from the signed payloads (`LotIndex`): the lot's chain, the
chains of the lots it was made from, the batch records of lots made from it, and the `key`
(and `key_revoke`) entries of everyone who signed one of them or registered its grower.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from signing.canonical import canonical_json
from signing.encoding import b64encode

from . import cosigned
from .log import TransparencyLog
from .lot_index import LotIndex, entries
from .records import unknown_lot


def bundle_bytes(session: Session, log: TransparencyLog, index: LotIndex, lot: str) -> bytes:
    """Canonical JSON, as served; a verifier accepts it re-serialised too."""
    return canonical_json(bundle(session, log, index, lot))


def bundle(session: Session, log: TransparencyLog, index: LotIndex, lot: str) -> dict[str, Any]:
    """Each entry with its inclusion proof against the current checkpoint, or, with witnesses,
    against the newest cosigned checkpoint when that holds every entry of the bundle."""
    # Read before the head: a checkpoint is cosigned only once its entries are committed, so
    # the cosigned size never passes the head read after it.
    kept = cosigned.newest(session) if log.witnesses is not None else None
    head = log.head(session)
    checkpoint = log.signed_checkpoint(head)
    size = head.size
    index.catch_up(session, size)
    if not index.exists(lot):
        raise unknown_lot(lot)
    chosen = {i for code in (lot, *index.ancestors(lot)) for i in index.chain(code)}
    chosen.update(index.taken_by(lot))
    chosen = {i for i in chosen if i < size}
    found = entries(session, chosen)
    signers = {keyid for entry in found.values() for keyid in _signers(entry)}
    parties = [party for keyid in signers if (party := index.party(keyid)) is not None]
    # Who registered a grower is shown on the page, so their key entry, which names them, goes in too.
    registrars = [p for party in parties if party.registered_by and (p := index.party_of(party.registered_by))]
    keyids = signers | {party.keyid for party in registrars}
    keys = {i for i in index.key_entries(keyids) if i < size}
    found.update(entries(session, keys - set(found)))
    if kept is not None and kept.size > max(found, default=-1):
        # Everything is in the cosigned tree: prove it there, for verifiers that ask for a quorum.
        checkpoint, size = kept.note, kept.size
    proofs = log.inclusion_proofs(session, sorted(found), size)
    return {
        "lot": lot,
        "log_key": log.signer.verifier_key(),
        "checkpoint": checkpoint,
        "entries": [
            {"index": i, "entry": b64encode(found[i]), "inclusion_proof": [b64encode(h) for h in proofs[i]]}
            for i in sorted(found)
        ],
    }


def _signers(entry: bytes) -> list[str]:
    try:
        return [signature["keyid"] for signature in json.loads(entry)["signatures"]]
    except (ValueError, KeyError, TypeError):
        return []  # not a record: verifying the bundle says so
