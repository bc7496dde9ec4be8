"""Growers, regulators and cooperatives: their keys in the log, their bearer tokens."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from signing.keys import generate_private_key, keyid, raw_public_key

from .actors import Actor, issue_token, revoke_tokens
from .clock import rfc3339_utc
from .context import Context
from .errors import ApiError
from .ids import new_id
from .log import Appender
from .models import Identity
from .writes import IdempotencyKey, Outcome

ID_PREFIX = {"grower": "g", "regulator": "r", "cooperative": "c"}


def register(
    context: Context,
    actor: Actor,
    role: str,
    subject: dict,
    phone: str | None,
    idempotency: IdempotencyKey | None,
) -> Outcome:
    """Create an identity with a new custodial key, registered by a `key` entry."""
    private_key = generate_private_key()
    public_key = raw_public_key(private_key)
    kid = keyid(public_key)
    identity_id = new_id(ID_PREFIX[role])

    def work(session: Session, log: Appender) -> dict:
        now = log.now
        full_subject = {"id": identity_id, **subject, "registered_by": actor.id}
        payload = {
            "v": 1,
            "kind": "key",
            "time": rfc3339_utc(now),
            "keyid": kid,
            "public_key": base64.b64encode(public_key).decode(),
            "role": role,
            "subject": full_subject,
        }
        appended = log.append(payload, context.log.signer.private_key)
        session.add(
            Identity(
                id=identity_id,
                role=role,
                name=subject["name"],
                region=subject.get("region"),
                agency=subject.get("agency"),
                phone=phone,
                keyid=kid,
                public_key=public_key,
                private_key_sealed=context.sealer.seal(private_key, kid),
                key_index=appended.index,
                registered_by=actor.id,
                created_at=now,
            )
        )
        session.flush()
        return {f"{role}_id": identity_id, "token": _issue_token(session, context, identity_id), "keyid": kid, "index": appended.index}

    def reissue(session: Session, body: dict) -> dict:
        # Tokens are stored only as hashes, so a retry cannot be shown the first one:
        # it gets a fresh token and the unseen one stops working.
        return {**body, "token": _issue_token(session, context, body[f"{role}_id"], replace=True)}

    return context.sequencer.run(actor, idempotency, work, reissue=reissue)


def revoke(session: Session, context: Context, actor: Actor, identity_id: str, reason: str) -> Outcome:
    identity = session.get(Identity, identity_id)
    if identity is None:
        raise ApiError(404, "not_found", f"there is no grower, regulator or cooperative {identity_id}")

    def work(session: Session, log: Appender) -> dict:
        current = session.get(Identity, identity_id, populate_existing=True)
        if current.revoked_index is not None:
            raise ApiError(409, "already_revoked", f"{identity_id}'s key was revoked at log index {current.revoked_index}")
        now = log.now
        payload = {"v": 1, "kind": "key_revoke", "time": rfc3339_utc(now), "keyid": current.keyid, "reason": reason}
        appended = log.append(payload, context.log.signer.private_key)
        current.revoked_index = appended.index
        revoke_tokens(session, identity_id, now)
        return {"id": identity_id, "keyid": current.keyid, "index": appended.index}

    return context.sequencer.run(actor, None, work, status=200)


def signing_key(context: Context, actor: Actor) -> Ed25519PrivateKey:
    if actor.sealed_key is None or actor.keyid is None:
        raise ApiError(403, "forbidden", "the admin token has no signing key; use a grower's or regulator's token")
    return context.sealer.unseal(actor.sealed_key, actor.keyid)


def _issue_token(session: Session, context: Context, identity_id: str, *, replace: bool = False) -> str:
    now = context.clock.now()
    if replace:
        revoke_tokens(session, identity_id, now)
    return issue_token(session, identity_id, now)

