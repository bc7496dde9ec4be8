"""Browser sessions for the regulators' pages and the grower app: a session is a token of
kind "session" in an HttpOnly cookie, so it is checked, revoked and re-checked under the
append lock exactly like a bearer token. Forms carry a CSRF token derived from the
session's secret, which a page of another site cannot read.

A grower signs in without typing: the QR code on a printed sign-in card holds a one-time
login link (a token of kind "login"); redeeming it starts a session on that phone. A new
card ends the old card and every session it started."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import update

from .actors import Actor, issue_token, revoke_tokens, token_hash
from .clock import rfc3339_utc
from .context import Context
from .errors import ApiError
from .models import Identity, Token

# One cookie per app, each scoped to its own path: signing out of one leaves the other.
AUDIT_COOKIE, AUDIT_PATH = "suyuan_audit", "/audit"
GROWER_COOKIE, GROWER_PATH = "suyuan_grower", "/grower"
# The sign-in page's own cookie: a sign-in form posted from another site lacks it (login CSRF).
LOGIN_NONCE_COOKIE = "suyuan_login"
LIFETIME = timedelta(hours=12)
# A grower's phone stays signed in for a season; a lost phone is handled by a new card.
GROWER_LIFETIME = timedelta(days=180)
# A printed card that is never used stops working after a month.
LOGIN_LINK_LIFETIME = timedelta(days=30)


def start(context: Context, actor: Actor, lifetime: timedelta = LIFETIME) -> str:
    with context.sessions() as session:
        token = issue_token(session, actor.id, context.clock.now(), "session", lifetime)
        session.commit()
    return token


def issue_login_link(context: Context, actor: Actor, grower_id: str) -> dict:
    """A new sign-in card for a grower: the old card and every session it started end now."""
    now = context.clock.now()
    with context.sessions() as session:
        grower = session.get(Identity, grower_id)
        if grower is None or grower.role != "grower":
            raise ApiError(404, "not_found", f"there is no grower {grower_id}")
        if actor.role != "admin" and not (actor.role == "cooperative" and grower.registered_by == actor.id):
            raise ApiError(403, "forbidden", "only the operator, or the cooperative that registered this grower, can issue a sign-in card")
        if grower.revoked_index is not None:
            raise ApiError(409, "revoked", "this grower's key was revoked; register the grower again")
        revoke_tokens(session, grower_id, now, ("login", "session"))
        code = issue_token(session, grower_id, now, "login", LOGIN_LINK_LIFETIME)
        session.commit()
    context.actors.clear()  # the sessions just ended may be cached
    base = context.settings.public_url
    return {
        "url": f"{base}/grower/login/{code}",
        "card": f"{base}/grower/card/{code}",
        "expires_at": rfc3339_utc(now + LOGIN_LINK_LIFETIME),
    }


def login_card(context: Context, code: str) -> tuple[Identity, datetime] | None:
    """Whose card this is and until when it works, while it can still be used."""
    now = context.clock.now()
    with context.sessions() as session:
        token = session.get(Token, token_hash(code))
        if token is None or token.kind != "login" or token.revoked_at is not None or token.expires_at <= now:
            return None
        return session.get(Identity, token.identity_id), token.expires_at


def redeem_login(context: Context, code: str) -> str | None:
    """The session a card's link starts, once: a second use, or a used card, gets None."""
    now = context.clock.now()
    with context.sessions() as session:
        used = session.execute(
            update(Token)
            .where(Token.token_hash == token_hash(code), Token.kind == "login", Token.revoked_at.is_(None), Token.expires_at > now)
            .values(revoked_at=now)
            .returning(Token.identity_id)
        ).scalar()
        if used is None:
            return None
        token = issue_token(session, used, now, "session", GROWER_LIFETIME)
        session.commit()
    return token



def end(context: Context, token: str) -> None:
    with context.sessions() as session:
        session.execute(
            update(Token).where(Token.token_hash == token_hash(token), Token.kind == "session").values(revoked_at=context.clock.now())
        )
        session.commit()
    context.actors.forget(token_hash(token))


def csrf_token(session_token: str) -> str:
    return hashlib.sha256(b"suyuan csrf\0" + session_token.encode()).hexdigest()


def csrf_ok(session_token: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(csrf_token(session_token), submitted)


def cookie_options(context: Context, path: str, lifetime: timedelta = LIFETIME) -> dict:
    return {
        "httponly": True,
        # Lax: the cookie rides along when the grower's phone opens a link from a chat app.
        "samesite": "lax",
        "secure": context.settings.public_url.startswith("https://"),
        "max_age": int(lifetime.total_seconds()),
        "path": path,
    }
