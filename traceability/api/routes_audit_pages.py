"""The regulators' pages (`/audit`, zh and en): sign in with a regulator's token, read
anomalies, growers, lots and recalls, follow a lot's whole trace, recall it.

Every page is rendered from the same services as the API (`audit`, `batches`); a recall
made here is the regulator's own signed record, exactly as through the API.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from public_pages.render import field_message, render_audit
from signing.ledger import LOT_PATTERN

from .. import audit, web_sessions
from ..actors import authenticate
from ..batches import append_event, batch_or_404
from ..context import Context
from ..errors import ApiError
from ..schemas import EventIn
from .deps import BrowserSession, ContextDep, SignInNeeded, browser_session, form_idempotency, signed_in_values
from .pages import HTML, SECURITY_HEADERS, choose_lang, not_found_page
from .routes_audit import CODES

router = APIRouter(prefix="/audit", include_in_schema=False)

LangQuery = Annotated[str | None, Query()]
_events = TypeAdapter(EventIn)


async def _signed_in(request: Request, context: ContextDep, lang: LangQuery = None) -> BrowserSession:
    found = await browser_session(request, context, web_sessions.AUDIT_COOKIE, frozenset({"regulator"}))
    if found is None:
        raise SignInNeeded(RedirectResponse(f"/audit/sign-in?lang={choose_lang(request, lang)}", status_code=303))
    return found


Regulator = Annotated[BrowserSession, Depends(_signed_in)]


def _page(name: str, lang: str, status: int = 200, **values) -> Response:
    body = render_audit(name, lang, q=f"?lang={lang}", **values)
    # Private: no cache on the way may keep what a regulator saw.
    return Response(body, status_code=status, media_type=HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


async def _signed_in_page(context: Context, signed: BrowserSession, lang: str, name: str, values) -> Response:
    return _page(name, lang, codes=CODES, **await signed_in_values(context, signed, values))


@router.get("/sign-in")
def sign_in_form(request: Request, lang: LangQuery = None) -> Response:
    return _page("sign_in", choose_lang(request, lang), error=None)


@router.post("/sign-in")
def sign_in(request: Request, context: ContextDep, token: Annotated[str, Form(max_length=200)] = "", lang: LangQuery = None) -> Response:
    chosen = choose_lang(request, lang)
    try:
        with context.sessions() as session:
            actor = authenticate(session, context, token.strip())
    except ApiError:
        actor = None
    if actor is None or actor.role != "regulator":
        error = field_message(chosen, "bad_regulator_token")
        return _page("sign_in", chosen, status=401, error=error)
    response = RedirectResponse(f"/audit?lang={chosen}", status_code=303)
    response.set_cookie(
        web_sessions.AUDIT_COOKIE, web_sessions.start(context, actor), **web_sessions.cookie_options(context, web_sessions.AUDIT_PATH)
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request, context: ContextDep, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    token = request.cookies.get(web_sessions.AUDIT_COOKIE)
    if not (token and web_sessions.csrf_ok(token, csrf)):
        return RedirectResponse("/audit", status_code=303)  # a page of another site cannot sign anyone out
    web_sessions.end(context, token)
    response = RedirectResponse("/audit/sign-in", status_code=303)
    response.delete_cookie(web_sessions.AUDIT_COOKIE, path=web_sessions.AUDIT_PATH)
    return response


@router.get("")
async def anomalies_page(
    request: Request,
    context: ContextDep,
    signed: Regulator,
    lang: LangQuery = None,
    code: Annotated[str | None, Query(max_length=40)] = None,
    lot: Annotated[str | None, Query(max_length=40)] = None,
    grower: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    chosen = choose_lang(request, lang)
    wanted = audit.AnomalyFilter(
        lot=lot if lot and LOT_PATTERN.fullmatch(lot) else None,
        grower=grower or None,
        code=code if code in CODES else None,
        after=after,
    )

    def values(session) -> dict:
        found = audit.anomalies(session, wanted, localizable=True)
        more = None
        if found["next"] is not None:
            more = urlencode({k: v for k, v in {"lang": chosen, "code": wanted.code, "lot": wanted.lot, "grower": wanted.grower, "after": found["next"]}.items() if v is not None})
        return {"anomalies": found["anomalies"], "wanted": wanted, "next": more}

    return await _signed_in_page(context, signed, chosen, "anomalies", values)


@router.get("/growers")
async def growers_page(request: Request, context: ContextDep, signed: Regulator, lang: LangQuery = None) -> Response:
    return await _signed_in_page(context, signed, choose_lang(request, lang), "growers", lambda session: {"growers": audit.growers(session)})


@router.get("/lots")
async def lots_page(
    request: Request, context: ContextDep, signed: Regulator, lang: LangQuery = None,
    grower: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return await _signed_in_page(context, signed, choose_lang(request, lang), "lots", lambda session: {"lots": audit.lots(session, grower=grower)})


@router.get("/recalls")
async def recalls_page(request: Request, context: ContextDep, signed: Regulator, lang: LangQuery = None) -> Response:
    return await _signed_in_page(context, signed, choose_lang(request, lang), "recalls", audit.recalls)


@router.get("/lots/{lot}")
async def lot_page(request: Request, context: ContextDep, signed: Regulator, lot: str, lang: LangQuery = None) -> Response:
    return await _lot(context, signed, lot, choose_lang(request, lang))


async def _lot(context: Context, signed: BrowserSession, lot: str, lang: str, error: str | None = None, status: int = 200) -> Response:
    def values(session) -> dict:
        if not LOT_PATTERN.fullmatch(lot):
            raise ApiError(404, "unknown_lot", f"there is no lot {lot}")
        batch_or_404(session, lot)
        return {"trace": audit.lot_trace(session, lot), "error": error, "idempotency_key": uuid.uuid4().hex}

    try:
        response = await _signed_in_page(context, signed, lang, "lot", values)
    except ApiError:
        return not_found_page(lang, lot)
    response.status_code = status if response.status_code == 200 else response.status_code
    return response


@router.post("/lots/{lot}/recall")
async def recall(
    request: Request,
    context: ContextDep,
    signed: Regulator,
    lot: str,
    csrf: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    idempotency_key: Annotated[str, Form(max_length=100)] = "",
    lang: LangQuery = None,
) -> Response:
    chosen = choose_lang(request, lang)
    if not web_sessions.csrf_ok(signed.token, csrf):
        return Response(field_message(chosen, "form_expired"), status_code=403, media_type="text/plain; charset=utf-8")
    now = context.clock.now().astimezone().replace(microsecond=0).isoformat()
    try:
        event = _events.validate_python({"type": "recall", "occurred_at": now, "data": {"reason": reason}})
    except ValidationError:
        return await _lot(context, signed, lot, chosen, field_message(chosen, "recall_reason"), status=422)
    # A double tap on "召回" signs one recall.
    fields = {"idempotency_key": idempotency_key, "reason": reason}
    await run_in_threadpool(append_event, context, signed.actor, lot, event, form_idempotency(fields, f"recall:{lot}"))
    return RedirectResponse(f"/audit/lots/{lot}?lang={chosen}", status_code=303)
