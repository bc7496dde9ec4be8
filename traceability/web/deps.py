"""Typed dependencies and request parameters, all in one place. Sessions are closed (never
committed) after the response: the service that owns a change commits it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, overload

from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from public_pages import i18n
from signing.ledger import LOT_PATTERN

from ..accounts import sessions as browser
from ..accounts.actors import Actor
from ..accounts.service import AccountService
from ..errors import DomainError, Invalid, NotSignedIn
from ..ledger.sequencer import SECRET_FIELDS, IdempotencyKey, Outcome
from ..lots.service import LotService
from ..photos.service import PhotoService
from ..services import Services
from ..storage.models import Identity

LOT_CODE = f"^{LOT_PATTERN.pattern}$"

LotPath = Annotated[str, Path(pattern=LOT_CODE, description="Lot code: 1-20 of 0-9A-Z")]
LangQuery = Annotated[str | None, Query(description="`zh` or `en`; otherwise chosen by Accept-Language")]


async def get_services(request: Request) -> Services:
    # Async, like every dependency that does no blocking work: no thread hop.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    # Async only to spare a thread hop: making a Session touches no database.
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_accounts(services: ServicesDep) -> AccountService:
    return services.accounts


async def get_lots(services: ServicesDep) -> LotService:
    return services.lots


async def get_photos(services: ServicesDep) -> PhotoService:
    return services.photos


AccountsDep = Annotated[AccountService, Depends(get_accounts)]
LotsDep = Annotated[LotService, Depends(get_lots)]
PhotosDep = Annotated[PhotoService, Depends(get_photos)]

_bearer = HTTPBearer(auto_error=False, description="The token shown once when the account was created")


async def get_actor(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    if credentials is None:
        raise NotSignedIn("no_token", "send your token as 'Authorization: Bearer <token>'")
    return await actor_for(services, credentials.credentials)


async def actor_for(services: Services, token: str) -> Actor:
    """The actor a token stands for (NotSignedIn if none): a token seen lately without a thread hop."""
    authenticator = services.authenticator
    if (cached := authenticator.cached(token)) is not None:
        return cached
    return await run_in_threadpool(authenticator.authenticate, token)


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


def choose_lang(request: Request, query: str | None) -> str:
    """The visitor's language: `?lang=`, then Accept-Language, then Chinese."""
    return i18n.choose(query, request.headers.get("accept-language"))


@dataclass(frozen=True)
class BrowserSession:
    actor: Actor
    token: str  # the session's secret, from its cookie: forms prove they came from it (CSRF)


class SignInNeeded(Exception):
    """A page needs a signed-in browser; `response` says so (a sign-in page, a redirect)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def browser_session(
    request: Request, services: Services, cookie: str, roles: frozenset[str]
) -> BrowserSession | None:
    """The signed-in actor behind the session cookie, if it has one of `roles`."""
    token = request.cookies.get(cookie)
    if not token:
        return None
    try:
        actor = await actor_for(services, token)
    except DomainError:
        return None
    return BrowserSession(actor, token) if actor.role in roles else None


@overload
async def signed_in_values(
    services: Services, signed: BrowserSession, values: Callable[[Session], dict[str, Any]]
) -> dict[str, Any]: ...


@overload
async def signed_in_values(
    services: Services, signed: BrowserSession, values: Callable[[Session], dict[str, Any] | None]
) -> dict[str, Any] | None: ...


async def signed_in_values(
    services: Services, signed: BrowserSession, values: Callable[[Session], dict[str, Any] | None]
) -> dict[str, Any] | None:
    """A signed-in page's values (None: nothing to show), with who is signed in and the
    forms' CSRF token: read in one session, off the event loop."""

    def load() -> dict[str, Any] | None:
        with services.sessions() as session:
            found = values(session)
            if found is None:
                return None
            who = session.get_one(Identity, signed.actor.id).name
            return {**found, "who": who, "csrf": browser.csrf_token(signed.token)}

    return await run_in_threadpool(load)


def form_idempotency(fields: dict[str, str], what: str) -> IdempotencyKey | None:
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
            raise Invalid("invalid", "from and to need a time zone offset, like 2026-09-01T00:00:00+08:00")
    if since is not None and until is not None and since >= until:
        raise Invalid("invalid", "from must be before to")
    return since, until


def respond(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if SECRET_FIELDS & outcome.body.keys():
        # A token shown once must not be kept by a cache or proxy on the way.
        headers["Cache-Control"] = "no-store"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
