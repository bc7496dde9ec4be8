"""The grower app (protocol §6): `/grower`, server-rendered, usable without JavaScript,
zh-CN first. With JavaScript (`/grower/app.js`) a form is kept on the phone until it is
sent, and a photo goes up as soon as it is taken.

Every submission carries an idempotency key made when the form was drawn, so a retry, by
hand or by the script, never appends twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

import public_pages

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from public_pages import i18n
from public_pages.qr import qr_svg
from public_pages.render import ADVICE, GROWER_CONTENT_SECURITY_POLICY, render_grower
from signing.ledger import LOT_PATTERN

from .. import audit, grower_forms, photos, web_sessions
from ..actors import Actor
from ..batches import append_event, create_batch, create_plot
from ..context import Context
from ..errors import ApiError
from ..grower_forms import FormErrors
from ..models import Batch, Identity, Plot
from ..schemas import PlotIn
from ..writes import IdempotencyKey
from .deps import BrowserSession, ContextDep, SignInNeeded, browser_session
from .pages import HTML

router = APIRouter(prefix="/grower", include_in_schema=False)
LangQuery = Annotated[str | None, Query(max_length=10)]
_APP_JS = (Path(public_pages.__file__).parent / "static" / "grower.js").read_bytes()
_HEADERS = {
    "Content-Security-Policy": GROWER_CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _lang(request: Request, lang: str | None) -> str:
    return i18n.choose(lang, request.headers.get("accept-language"))


def _page(template: str, lang: str, status: int = 200, **values) -> Response:
    body = render_grower(template, lang, q=f"?lang={lang}", **values)
    return Response(body, status_code=status, media_type=HTML, headers=_HEADERS)


async def _signed_in(request: Request, context: ContextDep, lang: LangQuery = None) -> BrowserSession:
    found = await browser_session(request, context, frozenset({"grower", "cooperative"}))
    if found is None:
        wants_json = "application/json" in request.headers.get("accept", "")
        raise SignInNeeded(_json_error(401, "signed_out") if wants_json else _signed_out(_lang(request, lang)))
    return found


Grower = Annotated[BrowserSession, Depends(_signed_in)]


def _signed_out(lang: str, used: bool = False) -> Response:
    return _page("signed_out", lang, status=401 if used else 200, used=used, who=None)


async def _form(request: Request) -> tuple[dict[str, str], UploadFile | None]:
    form = await request.form()
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    photo = form.get("photo")
    return fields, photo if isinstance(photo, UploadFile) and photo.filename else None


def _common(signed: BrowserSession, context: Context) -> dict:
    with context.sessions() as session:
        who = session.get_one(Identity, signed.actor.id).name
    return {"who": who, "csrf": web_sessions.csrf_token(signed.token)}


# -- signing in -----------------------------------------------------------------------------


@router.get("/login/{code}")
def login_page(request: Request, context: ContextDep, code: str, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    holder = web_sessions.login_holder(context, code[:100])
    if holder is None:
        return _signed_out(chosen, used=True)
    # Opening the link only asks: chat apps open links to preview them, and must not use the card up.
    return _page("login", chosen, name=holder.name, code=code, who=None)


@router.post("/login/{code}")
def login(request: Request, context: ContextDep, code: str, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    token = web_sessions.redeem_login(context, code[:100])
    if token is None:
        return _signed_out(chosen, used=True)
    response = RedirectResponse(f"/grower?lang={chosen}", status_code=303)
    response.set_cookie(web_sessions.COOKIE, token, **{**web_sessions.cookie_options(context), "max_age": int(web_sessions.GROWER_LIFETIME.total_seconds())})
    return response


@router.get("/card/{code}")
def card(request: Request, context: ContextDep, code: str, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    holder = web_sessions.login_holder(context, code[:100])
    if holder is None:
        return _signed_out(chosen, used=True)
    with context.sessions() as session:
        expires = web_sessions.login_expiry(session, code)
    return _page("card", chosen, name=holder.name, code=code, expires=expires, who=None)


@router.get("/card/{code}/qr.svg")
def card_qr(context: ContextDep, code: str) -> Response:
    if web_sessions.login_holder(context, code[:100]) is None:
        return Response(status_code=404)
    url = f"{context.settings.public_url}/grower/login/{code}"
    return Response(qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.post("/sign-out")
async def sign_out(request: Request, context: ContextDep) -> Response:
    token = request.cookies.get(web_sessions.COOKIE)
    fields, _ = await _form(request)
    if token and web_sessions.csrf_ok(token, fields.get("csrf")):
        web_sessions.end(context, token)
    response = RedirectResponse("/grower", status_code=303)
    response.delete_cookie(web_sessions.COOKIE, path="/")
    return response


# -- the app --------------------------------------------------------------------------------


@router.get("")
async def home(request: Request, context: ContextDep, signed: Grower, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    actor = signed.actor

    def load() -> dict:
        with context.sessions() as session:
            return {"lots": audit.lots(session, grower=actor.id)}

    return _page("home", chosen, **await run_in_threadpool(load), **_common(signed, context))


@router.get("/lots/new")
async def new_lot_form(request: Request, context: ContextDep, signed: Grower, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    return await _new_lot_page(context, signed, chosen, {}, [])


async def _new_lot_page(context: Context, signed: BrowserSession, lang: str, form: dict, errors: list[str], status: int = 200) -> Response:
    actor = signed.actor
    def load() -> dict:
        with context.sessions() as session:
            plots = session.execute(select(Plot.id, Plot.name).where(Plot.owner_id == actor.id).order_by(Plot.created_at)).all()
            return {"plots": [{"id": i, "name": n} for i, n in plots], "lots": audit.lots(session, grower=actor.id)}

    return _page(
        "new_lot", lang, status=status, form=form, errors=errors, units=grower_forms.UNITS,
        idempotency_key=form.get("idempotency_key") or str(uuid.uuid4()), **await run_in_threadpool(load), **_common(signed, context),
    )


@router.post("/lots")
async def create_lot(request: Request, context: ContextDep, signed: Grower, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    actor, token = signed.actor, signed.token
    fields, _ = await _form(request)
    if not web_sessions.csrf_ok(token, fields.get("csrf")):
        return _page("signed_out", chosen, status=403, used=True, who=None)

    def create() -> str:
        plot_id = fields.get("plot_id") or None
        if fields.get("plot_name"):
            try:
                plot = PlotIn(name=fields["plot_name"], lat=float(fields.get("plot_lat", "")), lon=float(fields.get("plot_lon", "")))
            except ValueError:
                raise FormErrors(["plot"]) from None
            plot_id = create_plot(context, actor, plot, _key(actor, fields, "plot")).body["plot_id"]
        inputs = []
        for source in (v for k, v in fields.items() if k == "from"):
            quantity = fields.get(f"qty-{source}", "")
            inputs.append({"lot": source, "quantity": quantity or 0, "unit": fields.get(f"unit-{source}", "")})
        body = grower_forms.batch_from_form(fields, plot_id, inputs)
        with context.sessions() as session:
            return create_batch(session, context, actor, body, _key(actor, fields, "lot")).body["lot"]

    try:
        lot = await run_in_threadpool(create)
    except FormErrors as exc:
        return await _new_lot_page(context, signed, chosen, fields, exc.fields, status=422)
    except ApiError as exc:
        return await _new_lot_page(context, signed, chosen, fields, ["plot" if "plot" in exc.code else "inputs" if "lot" in exc.code else "form"], status=422)
    return RedirectResponse(f"/grower/lots/{lot}?lang={chosen}", status_code=303)


@router.get("/lots/{lot}")
async def lot_page(request: Request, context: ContextDep, signed: Grower, lot: str, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    return await _lot_page(context, signed, chosen, lot)


async def _lot_page(context: Context, signed: BrowserSession, lang: str, lot: str, done: int | None = None, advice_codes=(), status: int = 200) -> Response:
    actor = signed.actor
    def load() -> dict | None:
        with context.sessions() as session:
            batch = session.get(Batch, lot) if LOT_PATTERN.fullmatch(lot) else None
            if batch is None or batch.owner_id != actor.id:
                return None
            trace = audit.lot_trace(session, lot)
            return {"lot": batch, "records": [_summary(r, lang) for r in trace["records"]]}

    loaded = await run_in_threadpool(load)
    if loaded is None:
        return _page("signed_out", lang, status=404, used=False, who=None)
    return _page(
        "lot", lang, status=status, kinds=grower_forms.KINDS, done=done, advice_codes=list(dict.fromkeys(advice_codes)),
        **loaded, **_common(signed, context),
    )


def _summary(record: dict, lang: str) -> dict:
    data = record["data"]
    kind = data.get("kind", "fertiliser") if record["type"] == "input" else record["type"]
    return {
        "kind": kind,
        "occurred_at": datetime.fromisoformat(record["occurred_at"]),
        "quantity": data.get("quantity"),
        "unit": data.get("unit"),
        "product": data.get("product"),
    }


@router.get("/lots/{lot}/log/{kind}")
async def event_form(request: Request, context: ContextDep, signed: Grower, lot: str, kind: str, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    return await _event_page(context, signed, chosen, lot, kind, {}, [])


async def _event_page(context: Context, signed: BrowserSession, lang: str, lot: str, kind: str, form: dict, errors: list[str], status: int = 200) -> Response:
    actor = signed.actor
    def load():
        with context.sessions() as session:
            batch = session.get(Batch, lot) if LOT_PATTERN.fullmatch(lot) else None
            return batch if batch is not None and batch.owner_id == actor.id else None

    batch = await run_in_threadpool(load)
    if batch is None or kind not in grower_forms.KINDS:
        return _page("signed_out", lang, status=404, used=False, who=None)
    # The phone's clock fills "when"; without JavaScript the server's, in China Standard Time.
    now = context.clock.now().astimezone(timezone(timedelta(minutes=grower_forms.DEFAULT_OFFSET_MINUTES)))
    return _page(
        "event", lang, status=status, lot=batch, kind=kind, form=form, errors=errors,
        idempotency_key=form.get("idempotency_key") or str(uuid.uuid4()), now=now.strftime("%Y-%m-%dT%H:%M"),
        phi_days=grower_forms.COMMON_PHI_DAYS, units_list=grower_forms.UNITS, irrigation_units=grower_forms.IRRIGATION_UNITS,
        **_common(signed, context),
    )


@router.post("/lots/{lot}/events")
async def log_event(request: Request, context: ContextDep, signed: Grower, lot: str, lang: LangQuery = None) -> Response:
    chosen = _lang(request, lang)
    wants_json = "application/json" in request.headers.get("accept", "")
    actor, token = signed.actor, signed.token
    fields, photo = await _form(request)
    csrf = fields.get("csrf") or request.headers.get("x-csrf-token")
    if not web_sessions.csrf_ok(token, csrf):
        return _json_error(403, "form_expired") if wants_json else _page("signed_out", chosen, status=403, used=True, who=None)
    kind = fields.get("type", "")
    key = request.headers.get("idempotency-key") or fields.get("idempotency_key")

    def log() -> dict:
        evidence = [sha for sha in fields.get("evidence", "").split(",") if sha]
        found: list[str] = []
        if photo is not None:
            try:
                uploaded = photos.ingest(context, actor, photo.file.read(), None).body
            except ApiError:
                raise FormErrors(["photo"]) from None
            evidence.append(uploaded["sha256"])
            found += [w["code"] for w in uploaded["warnings"]]
            # Without JavaScript nobody filled "when" from the photo: do it when it was left as drawn.
            if uploaded["exif"].get("taken_at") and fields.get("occurred_at") == fields.get("drawn_at"):
                fields["occurred_at"] = uploaded["exif"]["taken_at"][:16]
        event = grower_forms.event_from_form(kind, fields, list(dict.fromkeys(evidence)))
        try:
            outcome = append_event(context, actor, lot, event, _key(actor, fields | {"idempotency_key": key or ""}, "event"))
        except ApiError as exc:
            if exc.code == "future_time":
                raise FormErrors(["occurred_at"]) from None
            if exc.code == "unknown_photo":
                raise FormErrors(["photo"]) from None
            raise
        return {**outcome.body, "codes": found + [w["code"] for w in outcome.body.get("warnings", [])]}

    try:
        answer = await run_in_threadpool(log)
    except FormErrors as exc:
        if wants_json:
            return JSONResponse({"error": {"code": "invalid", "fields": exc.fields}}, status_code=422)
        return await _event_page(context, signed, chosen, lot, kind, fields, exc.fields, status=422)
    if wants_json:
        return JSONResponse({"index": answer["index"], "seq": answer["seq"], "advice": [_advice(chosen, c) for c in answer["codes"]]}, status_code=201)
    return await _lot_page(context, signed, chosen, lot, done=answer["seq"], advice_codes=answer["codes"], status=201)


@router.post("/photos")
async def upload_photo(request: Request, context: ContextDep, signed: Grower, lang: LangQuery = None) -> Response:
    """The script sends a photo as soon as it is taken, and fills time and place from its answer."""
    chosen = _lang(request, lang)
    actor, token = signed.actor, signed.token
    if not web_sessions.csrf_ok(token, request.headers.get("x-csrf-token")):
        return _json_error(403, "form_expired")
    fields, photo = await _form(request)
    if photo is None:
        return _json_error(422, "photo")
    data = await photo.read()
    outcome = await run_in_threadpool(photos.ingest, context, actor, data, None)
    body = outcome.body
    return JSONResponse({**body, "advice": [_advice(chosen, w["code"]) for w in body["warnings"]]}, status_code=201)


@router.get("/app.js")
def app_js() -> Response:
    return Response(_APP_JS, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


def _advice(lang: str, code: str) -> str:
    return i18n.translations(lang).gettext(ADVICE.get(code, ADVICE["backdated"]))


def _json_error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code}}, status_code=status)


def _key(actor: Actor, fields: dict, what: str) -> IdempotencyKey | None:
    """The form's idempotency key: a form sent twice (a retry, a double tap) appends once."""
    key = fields.get("idempotency_key")
    if not key:
        return None
    content = {k: v for k, v in fields.items() if k not in ("csrf", "evidence", "drawn_at")}
    digest = hashlib.sha256(json.dumps([what, content], sort_keys=True).encode()).digest()
    return IdempotencyKey(f"{what}:{key[:200]}", digest)
