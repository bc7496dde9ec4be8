"""What a consumer's phone asks for after scanning a label (protocol §3): the lot's page,
its Digital Link form, the QR code, a label sheet and the proof bundle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from public_pages import i18n
from public_pages.qr import qr_png, qr_svg
from public_pages.render import BUILD, CONTENT_SECURITY_POLICY, render_labels, render_lot, render_not_found
from signing.ledger import LOT_PATTERN

from ..context import Context
from ..lot_page import ancestors, lot_view, public_url, tips
from ..proofs import build_bundle
from ..schemas import gtin14
from .deps import ContextDep, SessionDep
from .routes_batches import LotPath

router = APIRouter(tags=["public"])

HTML = "text/html; charset=utf-8"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
LangQuery = Annotated[str | None, Query(description="`zh` or `en`; otherwise chosen by Accept-Language")]


@router.get("/b/{lot}", summary="The lot's public provenance page (HTML)", response_class=Response)
async def lot_page(lot: str, request: Request, context: ContextDep, lang: LangQuery = None) -> Response:
    return await _page(request, context, lot, None, lang)


@router.get("/01/{gtin}/10/{lot}", summary="The same page by its GS1 Digital Link", response_class=Response)
async def digital_link(gtin: str, lot: str, request: Request, context: ContextDep, lang: LangQuery = None) -> Response:
    return await _page(request, context, lot, gtin, lang)


async def _page(request: Request, context: Context, lot: str, gtin: str | None, lang_query: str | None) -> Response:
    lang = i18n.choose(lang_query, request.headers.get("accept-language"))
    found = _current(context, lot) if LOT_PATTERN.fullmatch(lot) else None
    if found is None or (gtin is not None and _gtin(gtin) != found[1]):
        return _not_found(lang, lot if LOT_PATTERN.fullmatch(lot) else None)
    version, _ = found
    explicit = lang_query == lang
    key = ("page", lot, lang, explicit)
    page = context.pages.get(key, version)
    if page is None:
        body = await run_in_threadpool(_render_page, context, lot, lang, explicit)
        page = context.pages.put(key, version, body)
    headers = {
        **SECURITY_HEADERS,
        "ETag": page.etag,
        # Always revalidated: a recall must show on the very next visit.
        "Cache-Control": "no-cache",
        "Content-Language": i18n.HTML_LANG[lang],
        "Vary": "Accept-Encoding" if explicit else "Accept-Language, Accept-Encoding",
    }
    if _matches(request.headers.get("if-none-match"), page.etag):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(page.gzipped, media_type=HTML, headers={**headers, "Content-Encoding": "gzip"})
    return Response(page.body, media_type=HTML, headers=headers)


def _current(context: Context, lot: str) -> tuple[tuple, str | None] | None:
    """The version of the lot's page (its records and those of every lot it was made from) and its GTIN."""
    with context.sessions() as session:
        lineage = context.pages.lineage.get(lot)
        if lineage is None:
            lineage = (lot, *ancestors(session, lot))
        found = tips(session, lineage)
    if lot not in found:
        return None
    context.pages.lineage[lot] = lineage
    return (BUILD, *((name, found[name][0]) for name in lineage)), found[lot][1]


def _gtin(text: str) -> str | None:
    """GS1 Digital Link allows GTIN-8, -12 and -13 too; they name the same item zero-padded."""
    try:
        return gtin14(text)
    except ValueError:
        return None


def _render_page(context: Context, lot: str, lang: str, explicit: bool) -> bytes:
    with context.sessions() as session:
        return render_lot(lot_view(session, context, lot), lang, explicit_lang=explicit)


def _matches(if_none_match: str | None, etag: str) -> bool:
    # Weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored.
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def _not_found(lang: str, lot: str | None) -> Response:
    return Response(
        render_not_found(lang, lot), status_code=404, media_type=HTML,
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache", "Content-Language": i18n.HTML_LANG[lang]},
    )


def _qr_url(context: Context, request: Request, lot: str) -> str | Response:
    found = _current(context, lot) if LOT_PATTERN.fullmatch(lot) else None
    if found is None:
        return _not_found(i18n.choose(None, request.headers.get("accept-language")), lot if LOT_PATTERN.fullmatch(lot) else None)
    return public_url(context, lot, found[1])


# A lot's URL never changes, so neither does its code.
_QR_CACHE = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


@router.get("/b/{lot}/qr.svg", summary="QR code of the lot's public URL (SVG, for print)", response_class=Response)
def qr_code_svg(lot: str, request: Request, context: ContextDep) -> Response:
    url = _qr_url(context, request, lot)
    if isinstance(url, Response):
        return url
    return Response(qr_svg(url), media_type="image/svg+xml", headers=_QR_CACHE)


@router.get("/b/{lot}/qr.png", summary="QR code of the lot's public URL (PNG)", response_class=Response)
def qr_code_png(lot: str, request: Request, context: ContextDep) -> Response:
    url = _qr_url(context, request, lot)
    if isinstance(url, Response):
        return url
    return Response(qr_png(url), media_type="image/png", headers=_QR_CACHE)


@router.get("/b/{lot}/labels", summary="A4 sheet of printable labels (HTML with print CSS)", response_class=Response)
def labels(
    lot: str,
    request: Request,
    context: ContextDep,
    count: Annotated[int, Query(ge=1, le=480, description="How many labels (24 to an A4 sheet)")] = 24,
    lang: LangQuery = None,
) -> Response:
    chosen = i18n.choose(lang, request.headers.get("accept-language"))
    if not LOT_PATTERN.fullmatch(lot) or _current(context, lot) is None:
        return _not_found(chosen, lot if LOT_PATTERN.fullmatch(lot) else None)
    with context.sessions() as session:
        body = render_labels(lot_view(session, context, lot), chosen, count)
    return Response(body, media_type=HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/b/{lot}/proof.json", summary="The lot's proof bundle, verifiable offline with `suyuan verify`")
def proof_bundle(lot: LotPath, session: SessionDep, context: ContextDep) -> Response:
    return Response(build_bundle(session, context, lot), media_type="application/json")


_FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#17603a"/>'
    b'<path d="M9 17l5 5 9-11" stroke="#fff" stroke-width="4" fill="none"/></svg>'
)


@router.get("/favicon.svg", include_in_schema=False)
async def favicon() -> Response:
    return Response(_FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=604800"})


@router.get("/robots.txt", include_in_schema=False)
async def robots() -> Response:
    return Response("User-agent: *\nAllow: /b/\nAllow: /01/\nDisallow: /api/\n", media_type="text/plain")
