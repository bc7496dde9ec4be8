"""Browser sessions for the regulators' pages (and the grower app): a session is a token of
kind "session" in an HttpOnly cookie, so it is checked, revoked and re-checked under the
append lock exactly like a bearer token. Forms carry a CSRF token derived from the
session's secret, which a page of another site cannot read."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import update

from .actors import Actor, token_hash
from .context import Context
from .ids import new_token
from .models import Token

COOKIE = "suyuan_session"
LIFETIME = timedelta(hours=12)


def start(context: Context, actor: Actor) -> str:
    token = new_token()
    now = context.clock.now()
    with context.sessions() as session:
        session.add(Token(token_hash=token_hash(token), identity_id=actor.id, created_at=now, kind="session", expires_at=now + LIFETIME))
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


def cookie_options(context: Context) -> dict:
    return {
        "httponly": True,
        # Lax: the cookie rides along when the grower's phone opens a link from a chat app.
        "samesite": "lax",
        "secure": context.settings.public_url.startswith("https://"),
        "max_age": int(LIFETIME.total_seconds()),
        "path": "/",
    }
