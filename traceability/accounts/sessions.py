"""Browser sessions for the regulators' pages and the grower app: a session is a token of
kind "session" (kept by the browser in an HttpOnly cookie), so it is checked, revoked and
re-checked under the append lock exactly like a bearer token. Forms carry a CSRF token
derived from the session's secret, which a page of another site cannot read.

A grower signs in without typing: the QR code on a printed sign-in card holds a one-time
login link (a token of kind "login"); redeeming it starts a session on that phone. A new
card ends the old card, every session it started, and the keys those phones registered.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from signing.payloads import utc_time

from ..clock import Clock
from ..errors import Conflict, Forbidden, NotFound
from ..ledger.log import Appender
from ..ledger.sequencer import Sequencer
from ..storage.models import Identity, Token
from .actors import Actor, ActorCache, issue_token, revoke_tokens, token_hash
from .keys import Keys

# A regulator's working day.
LIFETIME = timedelta(hours=12)
# A grower's phone stays signed in for a season; a lost phone is handled by a new card.
GROWER_LIFETIME = timedelta(days=180)
# A printed card that is never used stops working after a month.
LOGIN_LINK_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class Card:
    """A sign-in card still usable: whose it is, and until when."""

    holder: Identity
    expires_at: datetime


class BrowserSessions:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        sequencer: Sequencer[Actor],
        keys: Keys,
        clock: Clock,
        cache: ActorCache,
        public_url: str,
    ) -> None:
        self._sessions = sessions
        self._sequencer = sequencer
        self._keys = keys
        self._clock = clock
        self._cache = cache
        self._public_url = public_url

    def start(self, actor: Actor, lifetime: timedelta = LIFETIME) -> str:
        with self._sessions() as session:
            token = issue_token(session, actor.id, self._clock.now(), "session", lifetime)
            session.commit()
        return token

    def issue_login_link(self, actor: Actor, grower_id: str) -> dict[str, str]:
        """A new sign-in card for a grower: the old card, every session it started and the keys
        of the phones they signed in (protocol §9) end now."""

        def work(session: Session, log: Appender) -> dict[str, Any]:
            now = log.now
            grower = session.get(Identity, grower_id, populate_existing=True)
            if grower is None or grower.role != "grower":
                raise NotFound("not_found", f"there is no grower {grower_id}")
            if actor.role != "admin" and not (actor.role == "cooperative" and grower.registered_by == actor.id):
                raise Forbidden(
                    "forbidden",
                    "only the operator, or the cooperative that registered this grower, can issue a sign-in card",
                )
            if grower.revoked_index is not None:
                raise Conflict("revoked", "this grower's key was revoked; register the grower again")
            revoke_tokens(session, grower_id, now, ("login", "session"))
            self._keys.revoke_phones(session, log, grower_id, "a new sign-in card replaced the one this phone used")
            code = issue_token(session, grower_id, now, "login", LOGIN_LINK_LIFETIME)
            return {
                "url": f"{self._public_url}/grower/login/{code}",
                "card": f"{self._public_url}/grower/card/{code}",
                "expires_at": utc_time(now + LOGIN_LINK_LIFETIME),
            }

        card = self._sequencer.run(actor, None, work).body
        self._cache.clear()  # the sessions just ended may be cached
        return card

    def login_card(self, code: str) -> Card | None:
        """Whose card this is and until when it works, while it can still be used."""
        now = self._clock.now()
        with self._sessions() as session:
            token = session.get(Token, token_hash(code))
            if token is None or token.kind != "login" or token.revoked_at is not None:
                return None
            if token.expires_at is None or token.expires_at <= now:
                return None
            return Card(session.get_one(Identity, token.identity_id), token.expires_at)

    def redeem_login(self, code: str) -> str | None:
        """The session a card's link starts, once: a second use, or a used card, gets None."""
        now = self._clock.now()
        with self._sessions() as session:
            used = session.execute(
                update(Token)
                .where(
                    Token.token_hash == token_hash(code),
                    Token.kind == "login",
                    Token.revoked_at.is_(None),
                    Token.expires_at > now,
                )
                .values(revoked_at=now)
                .returning(Token.identity_id)
            ).scalar()
            if used is None:
                return None
            token = issue_token(session, used, now, "session", GROWER_LIFETIME)
            session.commit()
        return token

    def end(self, token: str) -> None:
        with self._sessions() as session:
            session.execute(
                update(Token)
                .where(Token.token_hash == token_hash(token), Token.kind == "session")
                .values(revoked_at=self._clock.now())
            )
            session.commit()
        self._cache.forget(token_hash(token))


def csrf_token(session_token: str) -> str:
    return hashlib.sha256(b"suyuan csrf\0" + session_token.encode()).hexdigest()


def csrf_ok(session_token: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(csrf_token(session_token), submitted)
