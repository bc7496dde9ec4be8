"""Growers, regulators and cooperatives: their keys in the log, their bearer tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from signing.keys import keyid
from signing.ledger import LOT_OWNER_ROLES
from signing.payloads import CLIENT, PHONE

from ..clock import Clock
from ..errors import Conflict, Forbidden, NotFound
from ..ids import new_id
from ..ledger.log import Appender
from ..ledger.sequencer import IdempotencyKey, Outcome, Sequencer
from ..storage.models import Identity
from . import keys as member_keys
from .actors import Actor, issue_token, require_role, revoke_tokens
from .keys import Keys

ID_PREFIX = {"grower": "g", "regulator": "r", "cooperative": "c"}


class AccountService:
    def __init__(self, sessions: sessionmaker[Session], sequencer: Sequencer[Actor], keys: Keys, clock: Clock) -> None:
        self._sessions = sessions
        self._sequencer = sequencer
        self._keys = keys
        self._clock = clock

    def register(
        self,
        actor: Actor,
        role: str,
        subject: Mapping[str, Any],
        phone: str | None,
        idempotency: IdempotencyKey | None,
        public_key: bytes | None = None,
    ) -> Outcome:
        """Create an identity with its first key, registered by a `key` entry: a new custodial
        key, or `public_key`, which the member holds (then the server can never sign for them)."""
        identity_id = new_id(ID_PREFIX[role])

        def work(session: Session, log: Appender) -> dict[str, Any]:
            identity = Identity(
                id=identity_id,
                role=role,
                name=subject["name"],
                region=subject.get("region"),
                agency=subject.get("agency"),
                phone=phone,
                registered_by=actor.id,
                created_at=log.now,
            )
            session.add(identity)
            if public_key is None:
                key = self._keys.custodial(session, log, identity)
            else:
                key = self._keys.device(session, log, identity, public_key, CLIENT)
            session.flush()
            token = self._issue_token(session, identity_id)
            return {f"{role}_id": identity_id, "token": token, "keyid": key.keyid, "index": key.key_index}

        def reissue(session: Session, body: dict[str, Any]) -> dict[str, Any]:
            # Tokens are stored only as hashes, so a retry cannot be shown the first one:
            # it gets a fresh token and the unseen one stops working.
            return {**body, "token": self._issue_token(session, body[f"{role}_id"], replace=True)}

        return self._sequencer.run(actor, idempotency, work, reissue=reissue)

    def revoke(self, actor: Actor, identity_id: str, reason: str) -> Outcome:
        """Revoke every key of an identity (one `key_revoke` each) and its tokens."""

        def work(session: Session, log: Appender) -> dict[str, Any]:
            current = session.get(Identity, identity_id, populate_existing=True)
            if current is None:
                raise NotFound("not_found", f"there is no grower, regulator or cooperative {identity_id}")
            if current.revoked_index is not None:
                raise Conflict(
                    "already_revoked", f"{identity_id}'s keys were revoked at log index {current.revoked_index}"
                )
            revoked = [
                (key.keyid, self._keys.revoke(log, key, reason)) for key in member_keys.active(session, identity_id)
            ]
            if not revoked:
                raise Conflict("already_revoked", f"{identity_id} has no key left to revoke")
            current.revoked_index = revoked[0][1]
            revoke_tokens(session, identity_id, log.now)
            return {
                "id": identity_id,
                "keyid": revoked[0][0],
                "index": revoked[0][1],
                "keys": [{"keyid": kid, "index": index} for kid, index in revoked],
            }

        return self._sequencer.run(actor, None, work, status=200)

    def register_phone_key(self, actor: Actor, public_key: bytes) -> Outcome:
        """The grower app's key on a phone just signed in (protocol §9). Sent again (each new
        session checks), it answers 200 while the key stands; a revoked key gets 409, and the
        phone makes a new one."""
        require_role(actor, LOT_OWNER_ROLES, "register a phone's key")
        kid = keyid(public_key)

        def registered(session: Session) -> dict[str, Any] | None:
            found = member_keys.owner(session, kid)
            if found is None:
                return None
            if found.identity.id != actor.id:
                raise Conflict("key_taken", f"key {kid} is registered to someone else; make a new key pair")
            if found.key.revoked_index is not None:
                raise Conflict(
                    "key_revoked",
                    f"this phone's key was revoked at log index {found.key.revoked_index} "
                    "(a new sign-in card ends the keys of the phones the old one signed in); make a new one",
                )
            return {"keyid": kid, "index": found.key.key_index, "custody": found.key.custody}

        def work(session: Session, log: Appender) -> dict[str, Any]:
            if (known := registered(session)) is not None:
                return known  # registered by a request that overtook this one
            identity = session.get_one(Identity, actor.id)
            key = self._keys.device(session, log, identity, public_key, PHONE)
            return {"keyid": key.keyid, "index": key.key_index, "custody": key.custody}

        with self._sessions() as session:
            if (known := registered(session)) is not None:
                return Outcome(200, known)
        return self._sequencer.run(actor, None, work)

    def signing_key(self, actor: Actor) -> Ed25519PrivateKey:
        """The custodial key that signs for `actor`."""
        if actor.sealed_key is None or actor.keyid is None:
            if actor.role == "admin":
                raise Forbidden("forbidden", "the admin token has no signing key; use a grower's or regulator's token")
            raise Forbidden(
                "own_key",
                "the server holds no key for you: sign your records with your own key "
                "and send them to POST /api/v1/records",
            )
        return self._keys.unseal(actor.sealed_key, actor.keyid)

    def _issue_token(self, session: Session, identity_id: str, *, replace: bool = False) -> str:
        now = self._clock.now()
        if replace:
            revoke_tokens(session, identity_id, now)
        return issue_token(session, identity_id, now)
