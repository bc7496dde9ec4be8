"""Members' signing keys (protocol §9), each registered by an operator's `key` entry that says
who holds its private half, and revoked by a `key_revoke` entry.

A custodial key is made here and sealed with the master key. A device key arrives as a public
key only: a grower's phone makes one with WebCrypto after a card sign-in, an API client brings
its own. The server can never sign with a device key, and the record rules
(`signing.ledger`) refuse a custodial key for a member whose first key was a device key, so
the operator cannot start signing in that member's name either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.keys import KEY_SIZE, generate_private_key, keyid, raw_public_key
from signing.payloads import CUSTODIAL, DEVICE, PHONE, key_payload, key_revoke_payload

from ..errors import Conflict, Invalid
from ..ledger.log import Appender
from ..storage.models import Identity, MemberKey
from ..storage.secrets import Sealer


@dataclass(frozen=True)
class KeyOwner:
    """A registered key and the member it signs for."""

    key: MemberKey
    identity: Identity


class Keys:
    def __init__(self, sealer: Sealer, operator_key: Ed25519PrivateKey) -> None:
        self._sealer = sealer
        self._operator_key = operator_key
        self._operator_keyid = keyid(operator_key)

    def custodial(self, session: Session, log: Appender, identity: Identity) -> MemberKey:
        """A new key for `identity`, sealed here: the server signs with it on the member's behalf."""
        private_key = generate_private_key()
        public_key = raw_public_key(private_key)
        sealed = self._sealer.seal(private_key, keyid(public_key))
        return self._register(session, log, identity, public_key, CUSTODIAL, None, sealed)

    def device(self, session: Session, log: Appender, identity: Identity, public_key: bytes, holder: str) -> MemberKey:
        """Register a key whose private half `holder` (a phone, an API client) keeps."""
        if len(public_key) != KEY_SIZE:
            raise Invalid("bad_public_key", f"public_key must be {KEY_SIZE} bytes of an Ed25519 key, in base64")
        kid = keyid(public_key)
        if kid == self._operator_keyid:
            raise Invalid("bad_public_key", "this is the log operator's key; a member needs a key of their own")
        if session.get(MemberKey, kid) is not None:
            raise Conflict("key_taken", f"key {kid} is already registered; make a new key pair")
        return self._register(session, log, identity, public_key, DEVICE, holder, None)

    def _register(
        self,
        session: Session,
        log: Appender,
        identity: Identity,
        public_key: bytes,
        custody: str,
        holder: str | None,
        sealed: bytes | None,
    ) -> MemberKey:
        kid = keyid(public_key)
        payload = key_payload(log.now, kid, public_key, identity.role, subject(identity), custody, holder)
        appended = log.append(payload, self._operator_key)
        key = MemberKey(
            keyid=kid,
            identity_id=identity.id,
            public_key=public_key,
            custody=custody,
            holder=holder,
            private_key_sealed=sealed,
            key_index=appended.index,
            created_at=log.now,
        )
        session.add(key)
        return key

    def revoke(self, log: Appender, key: MemberKey, reason: str) -> int:
        appended = log.append(key_revoke_payload(log.now, key.keyid, reason), self._operator_key)
        key.revoked_index = appended.index
        return appended.index

    def revoke_phones(self, session: Session, log: Appender, identity_id: str, reason: str) -> list[MemberKey]:
        """Revoke the keys of every phone the member signed in on (a new sign-in card ends them all)."""
        phones = active(session, identity_id, holder=PHONE)
        for key in phones:
            self.revoke(log, key, reason)
        return phones

    def unseal(self, sealed: bytes, kid: str) -> Ed25519PrivateKey:
        """A custodial key, opened (cached beside the master key: see `Sealer`)."""
        return self._sealer.unseal(sealed, kid)


def subject(identity: Identity) -> dict[str, Any]:
    """Who a key entry names: the same for every key of a member, so pages name them alike."""
    named = {"region": identity.region, "agency": identity.agency}
    return {
        "id": identity.id,
        "name": identity.name,
        **{field: value for field, value in named.items() if value is not None},
        "registered_by": identity.registered_by,
    }


def active(session: Session, identity_id: str, *, holder: str | None = None) -> list[MemberKey]:
    """A member's keys not revoked, oldest first (of one `holder`, when given)."""
    query = select(MemberKey).where(MemberKey.identity_id == identity_id, MemberKey.revoked_index.is_(None))
    if holder is not None:
        query = query.where(MemberKey.holder == holder)
    return list(session.scalars(query.order_by(MemberKey.key_index)))


def owner(session: Session, kid: str) -> KeyOwner | None:
    """The key with this keyid and its member, as the database holds them now."""
    key = session.get(MemberKey, kid, populate_existing=True)
    if key is None:
        return None
    return KeyOwner(key, session.get_one(Identity, key.identity_id, populate_existing=True))
