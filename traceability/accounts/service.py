"""Growers, regulators and cooperatives: their keys in the log, their bearer tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from signing.keys import generate_private_key, keyid, raw_public_key
from signing.payloads import key_payload, key_revoke_payload

from ..clock import Clock
from ..errors import Conflict, Forbidden, NotFound
from ..ids import new_id
from ..ledger.log import Appender
from ..ledger.sequencer import IdempotencyKey, Outcome, Sequencer
from ..storage.models import Identity
from ..storage.secrets import Sealer
from .actors import Actor, issue_token, revoke_tokens

ID_PREFIX = {"grower": "g", "regulator": "r", "cooperative": "c"}


class AccountService:
    def __init__(
        self, sequencer: Sequencer[Actor], sealer: Sealer, operator_key: Ed25519PrivateKey, clock: Clock
    ) -> None:
        self._sequencer = sequencer
        self._sealer = sealer
        self._operator_key = operator_key
        self._clock = clock

    def register(
        self,
        actor: Actor,
        role: str,
        subject: Mapping[str, Any],
        phone: str | None,
        idempotency: IdempotencyKey | None,
    ) -> Outcome:
        """Create an identity with a new custodial key, registered by a `key` entry."""
        private_key = generate_private_key()
        public_key = raw_public_key(private_key)
        kid = keyid(public_key)
        identity_id = new_id(ID_PREFIX[role])

        def work(session: Session, log: Appender) -> dict[str, Any]:
            now = log.now
            payload = key_payload(now, kid, public_key, role, {"id": identity_id, **subject, "registered_by": actor.id})
            appended = log.append(payload, self._operator_key)
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
                    private_key_sealed=self._sealer.seal(private_key, kid),
                    key_index=appended.index,
                    registered_by=actor.id,
                    created_at=now,
                )
            )
            session.flush()
            token = self._issue_token(session, identity_id)
            return {f"{role}_id": identity_id, "token": token, "keyid": kid, "index": appended.index}

        def reissue(session: Session, body: dict[str, Any]) -> dict[str, Any]:
            # Tokens are stored only as hashes, so a retry cannot be shown the first one:
            # it gets a fresh token and the unseen one stops working.
            return {**body, "token": self._issue_token(session, body[f"{role}_id"], replace=True)}

        return self._sequencer.run(actor, idempotency, work, reissue=reissue)

    def revoke(self, actor: Actor, identity_id: str, reason: str) -> Outcome:
        def work(session: Session, log: Appender) -> dict[str, Any]:
            current = session.get(Identity, identity_id, populate_existing=True)
            if current is None:
                raise NotFound("not_found", f"there is no grower, regulator or cooperative {identity_id}")
            if current.revoked_index is not None:
                raise Conflict(
                    "already_revoked", f"{identity_id}'s key was revoked at log index {current.revoked_index}"
                )
            appended = log.append(key_revoke_payload(log.now, current.keyid, reason), self._operator_key)
            current.revoked_index = appended.index
            revoke_tokens(session, identity_id, log.now)
            return {"id": identity_id, "keyid": current.keyid, "index": appended.index}

        return self._sequencer.run(actor, None, work, status=200)

    def signing_key(self, actor: Actor) -> Ed25519PrivateKey:
        """The custodial key that signs for `actor`."""
        if actor.sealed_key is None or actor.keyid is None:
            raise Forbidden("forbidden", "the admin token has no signing key; use a grower's or regulator's token")
        return self._sealer.unseal(actor.sealed_key, actor.keyid)

    def _issue_token(self, session: Session, identity_id: str, *, replace: bool = False) -> str:
        now = self._clock.now()
        if replace:
            revoke_tokens(session, identity_id, now)
        return issue_token(session, identity_id, now)
