"""Who is asking: tokens to actors, and the checks that keep a revoked token out.

A token (a bearer token, a browser session, a sign-in card's code) is stored only as its
SHA-256; the secret itself is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from signing.payloads import CUSTODIAL

from ..clock import Clock
from ..errors import Forbidden, NotSignedIn
from ..ids import new_token
from ..storage.models import Identity, MemberKey, Token

ALL_KINDS = ("api", "session", "login")
# Who may do what, beyond the record rules' own (`signing.ledger.LOT_OWNER_ROLES`).
ADMINS = frozenset({"admin"})
REGISTRARS = frozenset({"admin", "cooperative"})  # register growers, issue their sign-in cards
REGULATORS = frozenset({"regulator"})


@dataclass(frozen=True)
class Actor:
    """Who is asking: `admin` (the bootstrap token) or a registered identity, with the custodial
    key that signs for it (none when the member holds all their keys: protocol §9)."""

    id: str
    role: str
    keyid: str | None = None
    sealed_key: bytes | None = None
    token_hash: bytes | None = None


ADMIN = Actor(id="admin", role="admin")


def require_role(actor: Actor, roles: Collection[str], doing: str) -> None:
    if actor.role not in roles:
        allowed = " or ".join(sorted(roles))
        raise Forbidden("forbidden", f"only a {allowed} can {doing}; this token belongs to a {actor.role}")


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue_token(
    session: Session, identity_id: str, now: datetime, kind: str = "api", lifetime: timedelta | None = None
) -> str:
    """A new secret for an identity, stored only as its hash: a bearer token, a browser session or a sign-in card."""
    token = new_token()
    expires = now + lifetime if lifetime is not None else None
    session.add(
        Token(token_hash=token_hash(token), identity_id=identity_id, created_at=now, kind=kind, expires_at=expires)
    )
    return token


def revoke_tokens(session: Session, identity_id: str, now: datetime, kinds: tuple[str, ...] = ALL_KINDS) -> None:
    session.execute(
        update(Token)
        .where(Token.identity_id == identity_id, Token.kind.in_(kinds), Token.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def still_valid(session: Session, actor: Actor) -> None:
    """Refuse a write by a token or key revoked since the request was authenticated.

    The sequencer's guard: it runs under the append lock, so no record can be signed by a key
    after the entry that revoked it.
    """
    if actor.token_hash is None:
        return
    row = session.connection().execute(_ACTOR_BY_TOKEN, {"digest": actor.token_hash}).first()
    if row is None or row.revoked_at is not None or row.revoked_index is not None:
        raise NotSignedIn("revoked", "this token or its key was revoked a moment ago; nothing was stored")


class ActorCache:
    """Recently authenticated tokens, so most requests need no database round trip.

    Safe because every write checks the token again under the append lock
    (`still_valid`); a revoked token lingers here only for checks that decide nothing.
    """

    def __init__(self, ttl_seconds: float = 30, size: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._size = size
        self._entries: dict[bytes, tuple[float, Actor]] = {}

    def get(self, digest: bytes) -> Actor | None:
        found = self._entries.get(digest)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def forget(self, digest: bytes) -> None:
        self._entries.pop(digest, None)

    def clear(self) -> None:
        self._entries.clear()

    def put(self, actor: Actor) -> None:
        assert actor.token_hash is not None
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[actor.token_hash] = (time.monotonic() + self._ttl, actor)


class Authenticator:
    """Tokens to actors: the admin token, then bearer tokens and browser sessions."""

    def __init__(self, sessions: sessionmaker[Session], admin_token: str, clock: Clock, cache: ActorCache) -> None:
        self._sessions = sessions
        self._admin_hash = token_hash(admin_token)
        self._clock = clock
        self.cache = cache

    def cached(self, token: str) -> Actor | None:
        """The actor of a token seen lately, without a query (writes check it again under the lock)."""
        return self.cache.get(token_hash(token))

    def authenticate(self, token: str) -> Actor:
        """The actor a token stands for; NotSignedIn if none. Blocking: it may read the database."""
        if (cached := self.cached(token)) is not None:
            return cached
        digest = token_hash(token)
        if hmac.compare_digest(digest, self._admin_hash):
            return ADMIN
        with self._sessions() as session:
            row = session.connection().execute(_ACTOR_BY_TOKEN, {"digest": digest}).first()
        if row is None or row.revoked_at is not None:
            raise NotSignedIn("bad_token", "this token is not valid (it may have been replaced); ask for a new one")
        if row.expires_at is not None and row.expires_at <= self._clock.now():
            raise NotSignedIn("expired", "this sign-in has expired; sign in again")
        if row.revoked_index is not None:
            raise NotSignedIn("revoked", "this account's key was revoked; contact the log operator")
        actor = Actor(id=row.id, role=row.role, keyid=row.keyid, sealed_key=row.private_key_sealed, token_hash=digest)
        self.cache.put(actor)
        return actor


_ACTOR_BY_TOKEN = (
    select(
        Identity.id,
        Identity.role,
        MemberKey.keyid,
        MemberKey.private_key_sealed,
        Identity.revoked_index,
        Token.revoked_at,
        Token.expires_at,
    )
    .join(Token, Token.identity_id == Identity.id)
    # The custodial key that signs for the member, if the server holds one (protocol §9).
    .outerjoin(
        MemberKey,
        (MemberKey.identity_id == Identity.id) & (MemberKey.custody == CUSTODIAL) & MemberKey.revoked_index.is_(None),
    )
    # A sign-in card's code only starts a session (`sessions.redeem_login`); it is no credential.
    .where(Token.token_hash == bindparam("digest"), Token.kind.in_(("api", "session")))
)
