"""Typed dependencies, all in one place. Sessions are closed (never committed) after the
response: the service that owns a change commits it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .. import web_sessions
from ..actors import Actor, authenticate, token_hash
from ..context import Context
from ..errors import ApiError
from ..models import Identity
from ..writes import SECRET_FIELDS, IdempotencyKey, Outcome


async def get_context(request: Request) -> Context:
    # Async, like every dependency that does no blocking work: no thread hop.
    return request.app.state.context


ContextDep = Annotated[Context, Depends(get_context)]


async def get_session(context: ContextDep) -> AsyncIterator[Session]:
    # Async only to spare a thread hop: making a Session touches no database.
    with context.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="The token shown once when the account was created")


async def get_actor(
    session: SessionDep,
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise ApiError(401, "no_token", "send your token as 'Authorization: Bearer <token>'")
    return await _actor_for(session, context, credentials.credentials)


async def _actor_for(session: Session, context: Context, token: str) -> Actor:
    """The actor a token stands for (ApiError if none)."""
    # A token seen lately needs no query (writes check it again under the append lock).
    if (cached := context.actors.get(token_hash(token))) is not None:
        return cached
    actor = await run_in_threadpool(authenticate, session, context, token)
    if actor.token_hash is not None:
        context.actors.put(actor)
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="Retries with the same key get the first answer instead of a second append"),
    ] = None,
) -> IdempotencyKey | None:
    if idempotency_key is None:
        return None
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), await request.body()):
        digest.update(len(part).to_bytes(8, "big") + part)
    return IdempotencyKey(idempotency_key, digest.digest())


IdempotencyDep = Annotated[IdempotencyKey | None, Depends(get_idempotency)]


@dataclass(frozen=True)
class BrowserSession:
    actor: Actor
    token: str  # the session's secret, from its cookie: forms prove they came from it (CSRF)


class SignInNeeded(Exception):
    """A page needs a signed-in browser; `response` says so (a sign-in page, a redirect)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def browser_session(request: Request, context: Context, cookie: str, roles: frozenset[str]) -> BrowserSession | None:
    """The signed-in actor behind the session cookie, if it has one of `roles`."""
    token = request.cookies.get(cookie)
    if not token:
        return None
    try:
        with context.sessions() as session:
            actor = await _actor_for(session, context, token)
    except ApiError:
        return None
    return BrowserSession(actor, token) if actor.role in roles else None


async def signed_in_values(context: Context, signed: BrowserSession, values: Callable[[Session], dict | None]) -> dict | None:
    """A signed-in page's values (None: nothing to show), with who is signed in and the
    forms' CSRF token: read in one session, off the event loop."""

    def load() -> dict | None:
        with context.sessions() as session:
            found = values(session)
            if found is None:
                return None
            return {**found, "who": session.get_one(Identity, signed.actor.id).name, "csrf": web_sessions.csrf_token(signed.token)}

    return await run_in_threadpool(load)


def form_idempotency(fields: dict, what: str) -> IdempotencyKey | None:
    """A page's form carries the idempotency key drawn with it: sent twice (a retry, a double
    tap), it appends once; sent again with other values, it is refused."""
    key = fields.get("idempotency_key")
    if not key:
        return None
    content = {k: v for k, v in fields.items() if k not in ("csrf", "drawn_at", "tz_offset")}
    digest = hashlib.sha256(json.dumps([what, content], sort_keys=True).encode()).digest()
    return IdempotencyKey(f"{what}:{key[:200]}", digest)


def time_window(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    """A `from`/`to` query: instants, so with an offset, and in order."""
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(422, "invalid", "from and to need a time zone offset, like 2026-09-01T00:00:00+08:00")
    if since is not None and until is not None and since >= until:
        raise ApiError(422, "invalid", "from must be before to")
    return since, until


def respond(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if SECRET_FIELDS & outcome.body.keys():
        # A token shown once must not be kept by a cache or proxy on the way.
        headers["Cache-Control"] = "no-store"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
