"""Public resources of a lot besides its page (protocol §3): the QR code, a label sheet and the
proof bundle. The page itself is answered by `pages.PublicPages`, ahead of the router."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from public_pages.qr import qr_png, qr_svg
from public_pages.render import render_labels
from signing.ledger import LOT_PATTERN

from ..context import Context
from ..lot_page import lot_view, public_url
from ..proofs import build_bundle
from .deps import ContextDep, SessionDep
from .pages import HTML, SECURITY_HEADERS, choose_lang, not_found_page
from .routes_batches import LotPath

router = APIRouter(tags=["public"])

LangQuery = Annotated[str | None, Query(description="`zh` or `en`; otherwise chosen by Accept-Language")]
# A lot's URL never changes, so neither does its code.
_QR_CACHE = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


async def _known_lot(context: Context, request: Request, lot: str, lang: str | None = None) -> tuple[str, Response | None]:
    """The lot's public URL, or the visitor's 404 page when there is no such lot."""
    tips = await context.tips((lot,)) if LOT_PATTERN.fullmatch(lot) else {}
    if lot in tips:
        return public_url(context, lot, tips[lot][1]), None
    return "", not_found_page(choose_lang(request, lang), lot)


@router.get("/b/{lot}/qr.svg", summary="QR code of the lot's public URL (SVG, for print)", response_class=Response)
async def qr_code_svg(lot: str, request: Request, context: ContextDep) -> Response:
    url, missing = await _known_lot(context, request, lot)
    return missing or Response(qr_svg(url), media_type="image/svg+xml", headers=_QR_CACHE)


@router.get("/b/{lot}/qr.png", summary="QR code of the lot's public URL (PNG)", response_class=Response)
async def qr_code_png(lot: str, request: Request, context: ContextDep) -> Response:
    url, missing = await _known_lot(context, request, lot)
    return missing or Response(qr_png(url), media_type="image/png", headers=_QR_CACHE)


@router.get("/b/{lot}/labels", summary="A4 sheet of printable labels (HTML with print CSS)", response_class=Response)
async def labels(
    lot: str,
    request: Request,
    context: ContextDep,
    count: Annotated[int, Query(ge=1, le=480, description="How many labels (24 to an A4 sheet)")] = 24,
    lang: LangQuery = None,
) -> Response:
    _, missing = await _known_lot(context, request, lot, lang)
    if missing:
        return missing
    chosen = choose_lang(request, lang)
    body = await run_in_threadpool(_render_labels, context, lot, chosen, count)
    return Response(body, media_type=HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


def _render_labels(context: Context, lot: str, lang: str, count: int) -> bytes:
    with context.sessions() as session:
        return render_labels(lot_view(session, context, lot), lang, count)


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
