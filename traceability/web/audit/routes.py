"""The regulators' pages (`/audit`, zh and en): sign in with a regulator's token, read
findings, growers, lots and recalls, follow a lot's whole trace, recall it.

Every page is rendered from the same reads as the API (`reads.audit`); a recall made here is
the regulator's own signed record, exactly as through the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from signing.ledger import LOT_PATTERN

from ...accounts import sessions as browser
from ...accounts.actors import REGULATORS
from ...errors import DomainError, NotFound
from ...findings.finding import CODES
from ...lots import inputs
from ...reads import audit
from ...reads.lot_page import concern_views
from ...reads.reading import read_lot
from ...reads.witnesses import witnesses
from ...services import Services
from .. import rendering
from ..cookies import AUDIT_COOKIE, AUDIT_PATH, cookie_options
from ..deps import (
    BrowserSession,
    LangQuery,
    ServicesDep,
    SignInNeeded,
    actor_for,
    browser_session,
    choose_lang,
    form_idempotency,
    signed_in_values,
)
from ..public.pages import HTML, SECURITY_HEADERS, not_found_page

router = APIRouter(prefix="/audit", include_in_schema=False)


async def _signed_in(request: Request, services: ServicesDep, lang: LangQuery = None) -> BrowserSession:
    found = await browser_session(request, services, AUDIT_COOKIE, REGULATORS)
    if found is None:
        raise SignInNeeded(RedirectResponse(f"/audit/sign-in?lang={choose_lang(request, lang)}", status_code=303))
    return found


Regulator = Annotated[BrowserSession, Depends(_signed_in)]


def _page(name: str, lang: str, status: int = 200, **values: Any) -> Response:
    body = rendering.render("audit", name, lang, q=f"?lang={lang}", **values)
    # Private: no cache on the way may keep what a regulator saw.
    return Response(
        body, status_code=status, media_type=HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"}
    )


async def _signed_in_page(
    services: Services, signed: BrowserSession, lang: str, name: str, values: Callable[[Session], dict[str, Any] | None]
) -> Response:
    loaded = await signed_in_values(services, signed, values)
    if loaded is None:
        raise NotFound("not_found", "there is nothing at this address")
    return _page(name, lang, codes=CODES, **loaded)


@router.get("/sign-in")
def sign_in_form(request: Request, lang: LangQuery = None) -> Response:
    return _page("sign_in", choose_lang(request, lang), error=None)


@router.post("/sign-in")
async def sign_in(
    request: Request, services: ServicesDep, token: Annotated[str, Form(max_length=200)] = "", lang: LangQuery = None
) -> Response:
    chosen = choose_lang(request, lang)
    try:
        actor = await actor_for(services, token.strip())
    except DomainError:
        actor = None
    if actor is None or actor.role not in REGULATORS:
        return _page("sign_in", chosen, status=401, error=rendering.field_message(chosen, "bad_regulator_token"))
    response = RedirectResponse(f"/audit?lang={chosen}", status_code=303)
    session_token = await run_in_threadpool(services.browser_sessions.start, actor)
    response.set_cookie(AUDIT_COOKIE, session_token, **cookie_options(services.settings.public_url, AUDIT_PATH))
    return response


@router.post("/sign-out")
def sign_out(request: Request, services: ServicesDep, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    token = request.cookies.get(AUDIT_COOKIE)
    if not (token and browser.csrf_ok(token, csrf)):
        return RedirectResponse("/audit", status_code=303)  # a page of another site cannot sign anyone out
    services.browser_sessions.end(token)
    response = RedirectResponse("/audit/sign-in", status_code=303)
    response.delete_cookie(AUDIT_COOKIE, path=AUDIT_PATH)
    return response


@router.get("")
async def findings_page(
    request: Request,
    services: ServicesDep,
    signed: Regulator,
    lang: LangQuery = None,
    code: Annotated[str | None, Query(max_length=40)] = None,
    lot: Annotated[str | None, Query(max_length=40)] = None,
    grower: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    chosen = choose_lang(request, lang)
    wanted = audit.FindingFilter(
        lot=lot if lot and LOT_PATTERN.fullmatch(lot) else None,
        grower=grower or None,
        code=code if code in CODES else None,
        after=after,
    )

    def values(session: Session) -> dict[str, Any]:
        found = audit.findings(session, wanted, localizable=True)
        more = None
        if found["next"] is not None:
            query = {
                "lang": chosen,
                "code": wanted.code,
                "lot": wanted.lot,
                "grower": wanted.grower,
                "after": found["next"],
            }
            more = urlencode({k: v for k, v in query.items() if v is not None})
        witnessing = witnesses(session, services.log, services.settings.witness_config)
        return {"findings": found["anomalies"], "wanted": wanted, "next": more, "witnessing": witnessing}

    return await _signed_in_page(services, signed, chosen, "findings", values)


@router.get("/growers")
async def growers_page(request: Request, services: ServicesDep, signed: Regulator, lang: LangQuery = None) -> Response:
    chosen = choose_lang(request, lang)
    return await _signed_in_page(
        services, signed, chosen, "growers", lambda session: {"growers": audit.growers(session)}
    )


@router.get("/lots")
async def lots_page(
    request: Request,
    services: ServicesDep,
    signed: Regulator,
    lang: LangQuery = None,
    grower: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    chosen = choose_lang(request, lang)
    return await _signed_in_page(
        services,
        signed,
        chosen,
        "lots",
        lambda session: {"lots": audit.lots(session, services.lot_index, grower=grower)},
    )


@router.get("/recalls")
async def recalls_page(request: Request, services: ServicesDep, signed: Regulator, lang: LangQuery = None) -> Response:
    return await _signed_in_page(services, signed, choose_lang(request, lang), "recalls", audit.recalls)


@router.get("/lots/{lot}")
async def lot_page(
    request: Request, services: ServicesDep, signed: Regulator, lot: str, lang: LangQuery = None
) -> Response:
    return await _lot(services, signed, lot, choose_lang(request, lang))


async def _lot(
    services: Services, signed: BrowserSession, lot: str, lang: str, error: str | None = None, status: int = 200
) -> Response:
    def values(session: Session) -> dict[str, Any] | None:
        if not LOT_PATTERN.fullmatch(lot):
            return None
        try:
            trace = audit.lot_trace(session, services.lot_index, lot)
            reading = read_lot(session, services.log, services.lot_index, lot)
        except NotFound:
            return None
        concerns, cleared = concern_views(reading)
        return {
            "trace": trace,
            "reading": reading,
            "concerns": concerns,
            "cleared": cleared,
            "error": error,
            "idempotency_key": uuid.uuid4().hex,
            "mine": signed.actor.keyid,  # the regulator's own records may be withdrawn by them
        }

    try:
        response = await _signed_in_page(services, signed, lang, "lot", values)
    except NotFound:
        return not_found_page(lang, lot)
    response.status_code = status
    return response


class RecordForm(BaseModel):
    """A record a regulator signs from a form on the lot's page: its reason, and the form's
    CSRF token and idempotency key (a double tap signs once)."""

    csrf: str = Field("", max_length=100)
    reason: str = Field("", max_length=4000)
    idempotency_key: str = Field("", max_length=100)


RecordFormDep = Annotated[RecordForm, Form()]


@router.post("/lots/{lot}/recall")
async def recall(
    request: Request, services: ServicesDep, signed: Regulator, lot: str, form: RecordFormDep, lang: LangQuery = None
) -> Response:
    return await _sign(request, services, signed, lot, "recall", {"reason": form.reason}, form, lang)


@router.post("/lots/{lot}/withdraw/{seq}")
async def withdraw(
    request: Request,
    services: ServicesDep,
    signed: Regulator,
    lot: str,
    seq: int,
    form: RecordFormDep,
    lang: LangQuery = None,
) -> Response:
    """Protocol §11: a regulator withdraws its own inspection or recall (one made in error), with a reason."""
    data = {"corrects": seq, "reason": form.reason}
    return await _sign(request, services, signed, lot, "correction", data, form, lang, f"withdraw:{seq}")


async def _sign(
    request: Request,
    services: Services,
    signed: BrowserSession,
    lot: str,
    event_type: str,
    data: dict[str, Any],
    form: RecordForm,
    lang: str | None,
    what: str = "recall",
) -> Response:
    """A regulator's record from a form on the lot's page, signed now; the page again after it."""
    chosen = choose_lang(request, lang)
    if not browser.csrf_ok(signed.token, form.csrf):
        return Response(
            rendering.field_message(chosen, "form_expired"), status_code=403, media_type="text/plain; charset=utf-8"
        )
    now = services.clock.now().astimezone().replace(microsecond=0).isoformat()
    try:
        event = inputs.event({"type": event_type, "occurred_at": now, "data": data})
    except ValidationError:
        return await _lot(services, signed, lot, chosen, rendering.field_message(chosen, "recall_reason"), status=422)
    fields = {"idempotency_key": form.idempotency_key, "reason": form.reason}
    idempotency = form_idempotency(fields, f"{what}:{lot}")
    try:
        await run_in_threadpool(services.lots.append_event, signed.actor, lot, event, idempotency)
    except DomainError as refused:
        return await _lot(services, signed, lot, chosen, refused.message, status=422)
    return RedirectResponse(f"/audit/lots/{lot}?lang={chosen}", status_code=303)
