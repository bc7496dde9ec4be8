"""The grower app (protocol §6): `/grower`, server-rendered, usable without JavaScript,
zh-CN first. With JavaScript (`/grower/app.js`) a form is kept on the phone until it is
sent, and a photo goes up as soon as it is taken.

Every submission carries an idempotency key made when the form was drawn, so a retry, by
hand or by the script, never appends twice.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from public_pages import i18n
from public_pages.qr import qr_svg
from public_pages.render import PAGE_CSS, style_hash
from signing.ledger import LOT_OWNER_ROLES, LOT_PATTERN
from signing.payloads import LotRecord

from ...accounts import sessions as browser
from ...accounts.actors import Actor
from ...accounts.sessions import GROWER_LIFETIME
from ...errors import DomainError
from ...ledger.sequencer import Outcome
from ...lots.inputs import CERTIFICATE_BASES, BatchIn, EventIn, PlotIn
from ...photos.service import PhotoDisagrees
from ...reads import audit
from ...reads.lot_page import concern_views
from ...reads.reading import read_lot
from ...services import Services
from ...storage.models import Batch, Identity, Plot
from .. import rendering
from ..cookies import GROWER_COOKIE, GROWER_PATH, LOGIN_NONCE_COOKIE, cookie_options
from ..deps import (
    BrowserSession,
    LangQuery,
    ServicesDep,
    SignInNeeded,
    browser_session,
    choose_lang,
    form_idempotency,
    signed_in_values,
)
from ..public.pages import HTML
from . import checks, forms
from .forms import FormErrors

router = APIRouter(prefix="/grower", include_in_schema=False)
_APP_JS = (Path(__file__).parent / "static" / "grower.js").read_bytes()
# The grower app: its own script (the offline outbox), forms, and photo previews of the camera.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' blob:; connect-src 'self'; script-src 'self'; "
    f"style-src {style_hash(PAGE_CSS)}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page(template: str, lang: str, status: int = 200, **values: Any) -> Response:
    body = rendering.render("grower", template, lang, q=f"?lang={lang}", **values)
    return Response(body, status_code=status, media_type=HTML, headers=_HEADERS)


async def _signed_in(request: Request, services: ServicesDep, lang: LangQuery = None) -> BrowserSession:
    found = await browser_session(request, services, GROWER_COOKIE, LOT_OWNER_ROLES)
    if found is None:
        wants_json = "application/json" in request.headers.get("accept", "")
        raise SignInNeeded(json_error(401, "signed_out") if wants_json else _signed_out(choose_lang(request, lang)))
    return found


Grower = Annotated[BrowserSession, Depends(_signed_in)]


def _signed_out(lang: str, used: bool = False) -> Response:
    return _page("signed_out", lang, status=401 if used else 200, used=used, who=None)


async def form_fields(request: Request) -> tuple[dict[str, str], UploadFile | None]:
    form = await request.form()
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    photo = form.get("photo")
    return fields, photo if isinstance(photo, UploadFile) and photo.filename else None


# -- signing in -----------------------------------------------------------------------------


@router.get("/login/{code}")
def login_page(request: Request, services: ServicesDep, code: str, lang: LangQuery = None) -> Response:
    chosen = choose_lang(request, lang)
    found = services.browser_sessions.login_card(code[:100])
    if found is None:
        return _signed_out(chosen, used=True)
    # Opening the link only asks: chat apps open links to preview them, and must not use the card up.
    nonce = uuid.uuid4().hex
    response = _page("login", chosen, name=found.holder.name, code=code, nonce=nonce, who=None)
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, **cookie_options(services.settings.public_url, GROWER_PATH))
    return response


@router.post("/login/{code}")
async def login(request: Request, services: ServicesDep, code: str, lang: LangQuery = None) -> Response:
    chosen = choose_lang(request, lang)
    fields, _ = await form_fields(request)
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    # Only the sign-in page itself may post here: a form on another site cannot sign this phone into its card.
    if not nonce or not hmac.compare_digest(nonce, fields.get("nonce", "")):
        return RedirectResponse(f"/grower/login/{code[:100]}?lang={chosen}", status_code=303)
    token = services.browser_sessions.redeem_login(code[:100])
    if token is None:
        return _signed_out(chosen, used=True)
    response = RedirectResponse(f"/grower?lang={chosen}", status_code=303)
    response.set_cookie(
        GROWER_COOKIE, token, **cookie_options(services.settings.public_url, GROWER_PATH, GROWER_LIFETIME)
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE, path=GROWER_PATH)
    return response


@router.get("/card/{code}")
def card(request: Request, services: ServicesDep, code: str, lang: LangQuery = None) -> Response:
    chosen = choose_lang(request, lang)
    found = services.browser_sessions.login_card(code[:100])
    if found is None:
        return _signed_out(chosen, used=True)
    return _page("card", chosen, name=found.holder.name, code=code, expires=found.expires_at, who=None)


@router.get("/card/{code}/qr.svg")
def card_qr(services: ServicesDep, code: str) -> Response:
    if services.browser_sessions.login_card(code[:100]) is None:
        return Response(status_code=404)
    url = f"{services.settings.public_url}/grower/login/{code}"
    return Response(qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.post("/sign-out")
async def sign_out(request: Request, services: ServicesDep) -> Response:
    token = request.cookies.get(GROWER_COOKIE)
    fields, _ = await form_fields(request)
    response = RedirectResponse("/grower", status_code=303)
    if token and browser.csrf_ok(token, fields.get("csrf")):  # a page of another site cannot sign anyone out
        await run_in_threadpool(services.browser_sessions.end, token)
        response.delete_cookie(GROWER_COOKIE, path=GROWER_PATH)
    return response


# -- the app --------------------------------------------------------------------------------


@router.get("")
async def home(request: Request, services: ServicesDep, signed: Grower, lang: LangQuery = None) -> Response:
    values = await signed_in_values(
        services, signed, lambda session: {"lots": audit.lots(session, services.lot_index, grower=signed.actor.id)}
    )
    return _page("home", choose_lang(request, lang), **values)


@router.get("/lots/new")
async def new_lot_form(request: Request, services: ServicesDep, signed: Grower, lang: LangQuery = None) -> Response:
    chosen = choose_lang(request, lang)
    return await _new_lot_page(services, signed, chosen, {}, [])


async def _new_lot_page(
    services: Services, signed: BrowserSession, lang: str, form: dict, errors: list[str], status: int = 200
) -> Response:
    actor = signed.actor

    def load(session: Session) -> dict[str, Any]:
        plots = session.execute(
            select(Plot.id, Plot.name).where(Plot.owner_id == actor.id).order_by(Plot.created_at)
        ).all()
        return {
            "plots": [{"id": i, "name": n} for i, n in plots],
            "lots": audit.lots(session, services.lot_index, grower=actor.id),
        }

    return await _own_page(
        services,
        signed,
        lang,
        "new_lot",
        load,
        status=status,
        form=form,
        errors=errors,
        units=forms.GROWER_UNITS,
        idempotency_key=form.get("idempotency_key") or str(uuid.uuid4()),
    )


@router.post("/lots")
async def create_lot(request: Request, services: ServicesDep, signed: Grower, lang: LangQuery = None) -> Response:
    chosen = choose_lang(request, lang)
    actor, token = signed.actor, signed.token
    fields, _ = await form_fields(request)
    if not browser.csrf_ok(token, fields.get("csrf")):
        return _page("signed_out", chosen, status=403, used=True, who=None)

    sources = await lot_sources(request)

    def create() -> str:
        body = batch_of_form(services, actor, fields, sources)
        return services.lots.create_batch(actor, body, form_idempotency(fields, "lot")).body["lot"]

    try:
        lot = await run_in_threadpool(create)
    except FormErrors as exc:
        return await _new_lot_page(services, signed, chosen, fields, exc.fields, status=422)
    except DomainError as exc:
        return await _new_lot_page(services, signed, chosen, fields, [lot_error_field(exc)], status=422)
    return RedirectResponse(f"/grower/lots/{lot}?lang={chosen}", status_code=303)


async def lot_sources(request: Request) -> list[str]:
    """The earlier lots a new lot's form says it was made from."""
    return [lot for lot in (await request.form()).getlist("from") if isinstance(lot, str)]


def batch_of_form(services: Services, actor: Actor, fields: dict[str, str], sources: Sequence[str]) -> BatchIn:
    """The new lot a form asks for; a new plot it names is made first (once per form: it is
    no record, and the form's idempotency key makes a second send find the first)."""
    inputs = [
        {"lot": source, "quantity": fields.get(f"qty-{source}") or 0, "unit": fields.get(f"unit-{source}", "")}
        for source in sources
    ]
    plot_id = fields.get("plot_id") or None
    new_plot = None
    if fields.get("plot_name"):
        try:
            new_plot = PlotIn(
                name=fields["plot_name"],
                lat=float(fields.get("plot_lat", "")),
                lon=float(fields.get("plot_lon", "")),
            )
        except ValueError:
            raise FormErrors(["plot"]) from None
    body = forms.batch_from_form(fields, plot_id, inputs)  # refused here, nothing was stored
    if new_plot is not None:
        plot_id = services.lots.create_plot(actor, new_plot, form_idempotency(fields, "plot")).body["plot_id"]
        body = body.model_copy(update={"plot_id": plot_id})
    return body


def lot_error_field(exc: DomainError) -> str:
    """The new-lot form's field a refusal is about."""
    return {"unknown_plot": "plot", "unknown_lot": "inputs", "idempotency_key_reused": "already_sent"}.get(
        exc.code, "form"
    )


@router.get("/lots/{lot}")
async def lot_page(
    request: Request,
    services: ServicesDep,
    signed: Grower,
    lot: str,
    lang: LangQuery = None,
    logged: Annotated[int | None, Query(ge=0, le=2**31)] = None,
    advice: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """A lot; after a record was logged without the script, with what was logged and the advice about it."""
    codes = [code for code in advice.split(",") if code in rendering.ADVICE]
    return await _lot_page(services, signed, choose_lang(request, lang), lot, done=logged, advice_codes=codes)


async def _lot_page(
    services: Services,
    signed: BrowserSession,
    lang: str,
    lot: str,
    done: int | None = None,
    advice_codes: Sequence[str] = (),
    status: int = 200,
) -> Response:
    def load(session: Session) -> dict[str, Any] | None:
        batch = _own_lot(session, signed, lot)
        if batch is None:
            return None
        reading = read_lot(session, services.log, services.lot_index, lot)
        return {
            "lot": batch,
            "reading": reading,
            "concerns": concern_views(reading)[0],
            "correctable": forms.correctable(reading.state),
        }

    return await _own_page(
        services,
        signed,
        lang,
        "lot",
        load,
        status=status,
        kinds=forms.KINDS,
        done=done,
        advice_codes=list(dict.fromkeys(advice_codes)),
    )


async def _own_page(
    services: Services,
    signed: BrowserSession,
    lang: str,
    template: str,
    load: Callable[[Session], dict[str, Any] | None],
    status: int = 200,
    **values: Any,
) -> Response:
    """A signed-in grower's page; `load` answering None (another's lot, or no such lot) makes it a 404."""
    loaded = await signed_in_values(services, signed, load)
    if loaded is None:
        return _page("signed_out", lang, status=404, used=False, who=None)
    return _page(template, lang, status=status, **values, **loaded)


def _own_lot(session: Session, signed: BrowserSession, lot: str) -> Batch | None:
    batch = session.get(Batch, lot) if LOT_PATTERN.fullmatch(lot) else None
    return batch if batch is not None and batch.owner_id == signed.actor.id else None


@router.get("/lots/{lot}/log/{kind}")
async def event_form(
    request: Request, services: ServicesDep, signed: Grower, lot: str, kind: str, lang: LangQuery = None
) -> Response:
    chosen = choose_lang(request, lang)
    return await _event_page(services, signed, chosen, lot, kind, {}, [])


async def _event_page(
    services: Services,
    signed: BrowserSession,
    lang: str,
    lot: str,
    kind: str,
    form: dict,
    errors: list[str],
    status: int = 200,
    question: PhotoDisagrees | None = None,
    correcting: LotRecord | None = None,
) -> Response:
    def load(session: Session) -> dict[str, Any] | None:
        batch = _own_lot(session, signed, lot)
        return {"lot": batch} if batch is not None else None

    if kind not in forms.KINDS:
        return _page("signed_out", lang, status=404, used=False, who=None)
    return await _own_page(
        services,
        signed,
        lang,
        "event",
        load,
        status=status,
        kind=kind,
        form=form,
        errors=errors,
        question=question,
        correcting=correcting,
        idempotency_key=form.get("idempotency_key") or str(uuid.uuid4()),
        now=local_now(services),
        phi_days=forms.COMMON_PHI_DAYS,
        units_list=forms.GROWER_UNITS,
        irrigation_units=forms.IRRIGATION_UNITS,
    )


@router.post("/lots/{lot}/events")
async def log_event(
    request: Request, services: ServicesDep, signed: Grower, lot: str, lang: LangQuery = None
) -> Response:
    chosen = choose_lang(request, lang)
    wants_json = "application/json" in request.headers.get("accept", "")
    actor = signed.actor
    fields, photo = await form_fields(request)
    # The script's header first: a record kept on the phone may carry the field of an older session.
    if not browser.csrf_ok(signed.token, request.headers.get("x-csrf-token") or fields.get("csrf")):
        return (
            json_error(403, "form_expired", chosen)
            if wants_json
            else _page("signed_out", chosen, status=403, used=True, who=None)
        )
    kind = fields.get("type", "")
    fields["idempotency_key"] = request.headers.get("idempotency-key") or fields.get("idempotency_key", "")

    def log() -> dict:
        event, found = event_of_form(services, actor, kind, fields, photo)
        outcome = _append(services, signed, lot, event, fields, f"event:{lot}")
        return {**outcome.body, "codes": found + [w["code"] for w in outcome.body.get("warnings", [])]}

    try:
        answer = await run_in_threadpool(log)
    except FormErrors as exc:
        if wants_json:
            return json_error(422 if exc.fields != ["repeated"] else 409, exc.fields[0], chosen, fields=exc.fields)
        question = exc.question if isinstance(exc, checks.PhotoQuestion) else None
        return await _event_page(services, signed, chosen, lot, kind, fields, exc.fields, 422, question)
    if wants_json:
        return JSONResponse(
            {
                "index": answer["index"],
                "seq": answer["seq"],
                "advice": [rendering.advice_text(chosen, c) for c in answer["codes"]],
            },
            status_code=201,
        )
    # Post, then redirect: a reload of the page shows the lot, it does not send the form again.
    advice = ",".join(dict.fromkeys(answer["codes"]))
    return RedirectResponse(f"/grower/lots/{lot}?lang={chosen}&logged={answer['seq']}&advice={advice}", status_code=303)


def event_of_form(
    services: Services, actor: Actor, kind: str, fields: dict[str, str], photo: UploadFile | None
) -> tuple[EventIn, list[str]]:
    """The event a form asks for, with what its photo (uploaded with it) raised; FormErrors, or
    a PhotoQuestion when the photo and the form disagree."""
    evidence = [sha for sha in fields.get("evidence", "").split(",") if sha]
    found: list[str] = []
    if photo is not None:
        try:
            uploaded = services.photos.ingest(actor, photo.file.read()).body
        except DomainError:
            raise FormErrors(["photo"]) from None
        evidence.append(uploaded["sha256"])
        found += [w["code"] for w in uploaded["warnings"]]
    # Kept in the form, so that a form sent back to correct a field keeps its photo.
    fields["evidence"] = ",".join(dict.fromkeys(evidence))
    event = forms.event_from_form(kind, fields, list(dict.fromkeys(evidence)))
    with services.sessions() as session:
        event = checks.settle_photo(session, services.photos, event, fields.get("photo_choice"))
    return event, found


# What the append's refusals mean on the grower's form.
_ERROR_FIELDS = {
    "future_time": "occurred_at",
    "unknown_photo": "photo",
    "idempotency_key_reused": "already_sent",
    "not_your_lot": "form",
    "unknown_lot": "form",
    "repeated": "repeated",
    "certificate_refused": "certificate_refused",
    "bad_replacement": "form",
}


def _append(
    services: Services, signed: BrowserSession, lot: str, event: EventIn, fields: dict[str, str], what: str
) -> Outcome:
    """Append a form's record; a refusal becomes the form field it is about."""
    try:
        return services.lots.append_event(signed.actor, lot, event, form_idempotency(fields, what))
    except DomainError as exc:
        raise FormErrors([error_field(exc)]) from None


def error_field(exc: DomainError) -> str:
    """The event form's field a refusal is about."""
    return _ERROR_FIELDS.get(exc.code, "form")


def local_now(services: Services) -> str:
    """What fills "when": the phone's clock with the script, else the server's, in China Standard Time."""
    return (
        services.clock.now()
        .astimezone(timezone(timedelta(minutes=forms.DEFAULT_OFFSET_MINUTES)))
        .strftime("%Y-%m-%dT%H:%M")
    )


# -- corrections and the certificate (protocol §11) ------------------------------------------


async def own_record(services: Services, signed: BrowserSession, lot: str, seq: int) -> LotRecord | None:
    """One of the grower's own records of their own lot that a correction may correct."""

    def load() -> LotRecord | None:
        with services.sessions() as session:
            if _own_lot(session, signed, lot) is None:
                return None
            state = read_lot(session, services.log, services.lot_index, lot).state
        return forms.correctable(state).get(seq)

    return await run_in_threadpool(load)


@router.get("/lots/{lot}/correct/{seq}")
async def correction_form(
    request: Request, services: ServicesDep, signed: Grower, lot: str, seq: int, lang: LangQuery = None
) -> Response:
    chosen = choose_lang(request, lang)
    record = await own_record(services, signed, lot, seq)
    if record is None:
        return _page("signed_out", chosen, status=404, used=False, who=None)
    form = forms.form_of(record)
    return await _event_page(services, signed, chosen, lot, record.work, form, [], correcting=record)


@router.post("/lots/{lot}/correct/{seq}")
async def correct(
    request: Request, services: ServicesDep, signed: Grower, lot: str, seq: int, lang: LangQuery = None
) -> Response:
    chosen = choose_lang(request, lang)
    fields, _ = await form_fields(request)
    if not browser.csrf_ok(signed.token, fields.get("csrf")):
        return _page("signed_out", chosen, status=403, used=True, who=None)
    record = await own_record(services, signed, lot, seq)
    if record is None:
        return _page("signed_out", chosen, status=404, used=False, who=None)

    def log() -> int:
        event = forms.correction_from_form(record, fields, local_now(services))
        return int(_append(services, signed, lot, event, fields, f"correct:{lot}:{seq}").body["seq"])

    try:
        logged = await run_in_threadpool(log)
    except FormErrors as exc:
        return await _event_page(
            services, signed, chosen, lot, record.work, fields, exc.fields, status=422, correcting=record
        )
    return RedirectResponse(f"/grower/lots/{lot}?lang={chosen}&logged={logged}", status_code=303)


async def _certificate_page(
    services: Services, signed: BrowserSession, lang: str, lot: str, form: dict, errors: list[str], status: int = 200
) -> Response:
    def load(session: Session) -> dict[str, Any] | None:
        batch = _own_lot(session, signed, lot)
        if batch is None:
            return None
        reading = read_lot(session, services.log, services.lot_index, lot)
        phone = session.get_one(Identity, signed.actor.id).phone
        return {"lot": batch, "reading": reading, "form": form or forms.certificate_defaults(reading.state, phone)}

    return await _own_page(
        services,
        signed,
        lang,
        "certificate",
        load,
        status=status,
        errors=errors,
        bases=CERTIFICATE_BASES,
        units_list=forms.GROWER_UNITS,
        idempotency_key=form.get("idempotency_key") or str(uuid.uuid4()),
    )


@router.get("/lots/{lot}/certificate")
async def certificate_form(
    request: Request, services: ServicesDep, signed: Grower, lot: str, lang: LangQuery = None
) -> Response:
    return await _certificate_page(services, signed, choose_lang(request, lang), lot, {}, [])


@router.post("/lots/{lot}/certificate")
async def certify(
    request: Request, services: ServicesDep, signed: Grower, lot: str, lang: LangQuery = None
) -> Response:
    chosen = choose_lang(request, lang)
    fields = await certificate_fields(request)
    if not browser.csrf_ok(signed.token, fields.get("csrf")):
        return _page("signed_out", chosen, status=403, used=True, who=None)

    def log() -> int:
        event = forms.certificate_from_form(fields, local_now(services))
        return int(_append(services, signed, lot, event, fields, f"certificate:{lot}").body["seq"])

    try:
        logged = await run_in_threadpool(log)
    except FormErrors as exc:
        return await _certificate_page(services, signed, chosen, lot, fields, exc.fields, status=422)
    return RedirectResponse(f"/grower/lots/{lot}?lang={chosen}&logged={logged}", status_code=303)


async def certificate_fields(request: Request) -> dict[str, str]:
    """The certificate form's fields, its bases (checkboxes) as one comma-separated field."""
    fields, _ = await form_fields(request)
    fields["basis"] = ",".join(b for b in (await request.form()).getlist("basis") if isinstance(b, str))
    return fields


@router.post("/photos")
async def upload_photo(request: Request, services: ServicesDep, signed: Grower, lang: LangQuery = None) -> Response:
    """The script sends a photo as soon as it is taken, and fills time and place from its answer."""
    chosen = choose_lang(request, lang)
    actor, token = signed.actor, signed.token
    if not browser.csrf_ok(token, request.headers.get("x-csrf-token")):
        return json_error(403, "form_expired")
    _, photo = await form_fields(request)
    if photo is None:
        return json_error(422, "photo")
    data = await photo.read()
    outcome = await run_in_threadpool(services.photos.ingest, actor, data)
    body = outcome.body
    return JSONResponse(
        {**body, "advice": [rendering.advice_text(chosen, w["code"]) for w in body["warnings"]]}, status_code=201
    )


@router.get("/app.js")
def app_js() -> Response:
    return Response(
        _APP_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def json_error(status: int, code: str, lang: str = i18n.DEFAULT, **extra: Any) -> JSONResponse:
    """For the script: the code, and a sentence to show the grower."""
    return JSONResponse(
        {"error": {"code": code, "message": rendering.field_message(lang, code), **extra}}, status_code=status
    )
