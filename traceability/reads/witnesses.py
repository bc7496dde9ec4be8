"""What regulators read of the log's witnesses (protocol §8): each witness, what it last
answered the log, and whether the checkpoint served reached their quorum."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from signing.errors import VerificationError
from signing.note import Verifier

from ..ledger import cosigned
from ..ledger.log import TransparencyLog
from ..settings import WitnessConfig


def witnesses(session: Session, log: TransparencyLog, config: WitnessConfig | None) -> dict[str, Any]:
    if config is None:
        return {"configured": False, "quorum": 0, "witnesses": [], "served": None}
    policy = config.policy
    vkeys = [w.key_string() for w in policy.witnesses]
    heard = cosigned.heard(session, vkeys)
    listed = []
    for verifier, vkey, url in zip(policy.witnesses, vkeys, config.urls, strict=True):
        h = heard.get(vkey)
        listed.append(
            {
                "name": verifier.name,
                "vkey": vkey,
                "url": url,
                "cosigned_size": h.cosigned_size if h else None,
                "cosigned_at": _iso(h.cosigned_at if h else None),
                "error": h.error if h else None,
                "error_at": _iso(h.error_at if h else None),
                "failing": bool(h and h.failing),
            }
        )
    return {"configured": True, "quorum": policy.quorum, "witnesses": listed, "served": _served(session, log)}


def _served(session: Session, log: TransparencyLog) -> dict[str, Any] | None:
    """The checkpoint `GET /log/checkpoint` serves, checked as a verifier asking for the quorum would."""
    kept = cosigned.newest(session)
    if kept is None or log.witnesses is None:
        return None
    log_key = Verifier.from_key_string(log.signer.verifier_key())
    try:
        cosigned_by, problem = log.witnesses.verify(kept.note, log_key).witnesses, None
    except VerificationError as exc:
        cosigned_by, problem = [], str(exc)
    return {
        "size": kept.size,
        "log_size": log.head(session).size,
        "stored_at": _iso(kept.stored_at),
        "cosigned_by": cosigned_by,
        "quorum_reached": problem is None,
        "problem": problem,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
