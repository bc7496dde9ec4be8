"""The grower app's key on the phone (protocol §9). After a card sign-in the app's script makes
an Ed25519 key with WebCrypto that cannot leave the phone, and registers its public half here
(`/grower/device-key`). From then on each record is signed on the phone:

1. The script sends the form to `prepare`. The server runs every step it runs to log that form
   (the same checks, the same questions about a photo or a repeat) and answers the payload it
   would sign, with its RFC 8785 canonical text: nothing is written.
2. The script checks that the payload says what the form says, and that the text is its
   canonical form, and signs `suyuan/record/v1\\n` followed by that text.
3. It sends the signed record to `/grower/records`, which appends it exactly as
   `POST /api/v1/records` does, for the signed-in grower's own key only. A record another one
   overtook (409 `stale`), or one that waited in the outbox for longer than the clock allows
   (422 `clock_skew`), is prepared and signed again.

A phone without WebCrypto's Ed25519, or without the script, logs as before: the server signs
with the grower's custodial key, and the pages say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from signing.canonical import canonical_json

from ...accounts import sessions as browser
from ...accounts.inputs import DeviceKeyIn
from ...errors import DomainError
from ...lots.inputs import EventIn
from ...services import Services
from .. import rendering
from ..deps import BrowserSession, IdempotencyDep, LangQuery, ServicesDep, SignInNeeded, choose_lang
from ..errors import status_of
from . import forms
from .forms import FormErrors
from .routes import (
    Grower,
    batch_of_form,
    certificate_fields,
    error_field,
    event_of_form,
    form_fields,
    json_error,
    local_now,
    lot_sources,
    own_record,
)

router = APIRouter(prefix="/grower", include_in_schema=False)


async def _from_the_script(request: Request, signed: Grower, lang: LangQuery = None) -> BrowserSession:
    """A request of the app's script: it sends its session's CSRF token as a header."""
    if not browser.csrf_ok(signed.token, request.headers.get("x-csrf-token")):
        raise SignInNeeded(json_error(403, "form_expired", choose_lang(request, lang)))
    return signed


Script = Annotated[BrowserSession, Depends(_from_the_script)]


@router.post("/device-key")
async def register_key(request: Request, services: ServicesDep, signed: Script, lang: LangQuery = None) -> Response:
    """201 for a key registered now; 200 for one that stands; 409 for one to replace."""
    chosen = choose_lang(request, lang)
    try:
        body = DeviceKeyIn.model_validate_json(await request.body())
    except ValidationError:
        return json_error(422, "form", chosen)
    try:
        outcome = await run_in_threadpool(services.accounts.register_phone_key, signed.actor, body.public_key)
    except DomainError as exc:
        return _refused(exc, chosen)
    return JSONResponse(outcome.body, status_code=outcome.status)


@router.post("/lots/prepare")
async def prepare_lot(request: Request, services: ServicesDep, signed: Script, lang: LangQuery = None) -> Response:
    """Step 1 for the new-lot form: the batch payload, with a fresh lot code."""
    chosen = choose_lang(request, lang)
    fields, _ = await form_fields(request)
    sources = await lot_sources(request)

    def prepare() -> dict[str, Any]:
        return services.lots.prepare_batch(signed.actor, batch_of_form(services, signed.actor, fields, sources))

    return await _prepare(prepare, chosen)


@router.post("/lots/{lot}/prepare")
async def prepare_event(
    request: Request, services: ServicesDep, signed: Script, lot: str, lang: LangQuery = None
) -> Response:
    """Step 1 for an event's form (the outbox sends its photo first)."""
    fields, photo = await form_fields(request)

    def event() -> EventIn:
        return event_of_form(services, signed.actor, fields.get("type", ""), fields, photo)[0]

    return await _prepare_event(services, signed, lot, event, choose_lang(request, lang))


@router.post("/lots/{lot}/correct/{seq}/prepare")
async def prepare_correction(
    request: Request, services: ServicesDep, signed: Script, lot: str, seq: int, lang: LangQuery = None
) -> Response:
    """Step 1 for a correction of one of the grower's records (protocol §11)."""
    chosen = choose_lang(request, lang)
    fields, _ = await form_fields(request)
    record = await own_record(services, signed, lot, seq)
    if record is None:
        return json_error(404, "form", chosen)
    return await _prepare_event(
        services, signed, lot, lambda: forms.correction_from_form(record, fields, local_now(services)), chosen
    )


@router.post("/lots/{lot}/certificate/prepare")
async def prepare_certificate(
    request: Request, services: ServicesDep, signed: Script, lot: str, lang: LangQuery = None
) -> Response:
    """Step 1 for the lot's certificate (protocol §11)."""
    fields = await certificate_fields(request)
    return await _prepare_event(
        services,
        signed,
        lot,
        lambda: forms.certificate_from_form(fields, local_now(services)),
        choose_lang(request, lang),
    )


@router.post("/records")
async def send_record(
    request: Request,
    services: ServicesDep,
    signed: Script,
    idem: IdempotencyDep,
    lang: LangQuery = None,
    again: Annotated[bool, Query()] = False,
) -> Response:
    """Step 3: a record the phone signed, with the grower's own key."""
    chosen = choose_lang(request, lang)
    body = await request.body()
    try:
        outcome = await run_in_threadpool(services.lots.append_signed, body, idem, again, signed.actor.id)
    except DomainError as exc:
        return _refused(exc, chosen)
    answer = {name: outcome.body[name] for name in ("lot", "index", "seq") if name in outcome.body}
    advice = [rendering.advice_text(chosen, w["code"]) for w in outcome.body.get("warnings", [])]
    return JSONResponse({**answer, "advice": advice}, status_code=outcome.status)


async def _prepare_event(
    services: Services, signed: BrowserSession, lot: str, event: Callable[[], EventIn], lang: str
) -> Response:
    """Step 1 for a form of an event: `event` reads it (FormErrors as the plain form's)."""
    return await _prepare(lambda: services.lots.prepare_event(signed.actor, lot, event()), lang)


async def _prepare(prepare: Callable[[], dict[str, Any]], lang: str) -> Response:
    try:
        payload = await run_in_threadpool(prepare)
    except FormErrors as exc:
        return json_error(409 if exc.fields == ["repeated"] else 422, exc.fields[0], lang, fields=exc.fields)
    except DomainError as exc:
        return _refused(exc, lang)
    # The text is what the phone signs: it checks it is the canonical form of the payload.
    return JSONResponse({"payload": payload, "canonical": canonical_json(payload).decode("utf-8")})


def _refused(exc: DomainError, lang: str) -> JSONResponse:
    """The script acts on the code (signs again, makes a new key) or shows the message."""
    message = rendering.field_message(lang, error_field(exc))
    return JSONResponse({"error": {"code": exc.code, "message": message, **exc.details}}, status_code=status_of(exc))
