"""Public resources of a lot besides its page (protocol §3): the QR code, a label sheet and the
proof bundle. The page itself is answered by `pages.PublicPages`, ahead of the router."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from public_pages.qr import qr_png, qr_svg
from public_pages.render import render_labels

from ...ledger.bundles import bundle_bytes
from ...reads.lot_page import lot_view
from ...services import Services
from ..deps import LangQuery, LotPath, ServicesDep, SessionDep, choose_lang
from .pages import HTML, SECURITY_HEADERS, PublicSite, not_found_page

router = APIRouter(tags=["public"])

# A lot's URL never changes, so neither does its code.
_QR_CACHE = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


async def _known_lot(request: Request, lot: str, lang: str | None = None) -> tuple[str, Response | None]:
    """The lot's public URL, or the visitor's 404 page when there is no such lot."""
    site: PublicSite = request.app.state.public
    url = await site.lot_url(lot)
    if url is not None:
        return url, None
    return "", not_found_page(choose_lang(request, lang), lot)


@router.get("/b/{lot}/qr.svg", summary="QR code of the lot's public URL (SVG, for print)", response_class=Response)
async def qr_code_svg(lot: str, request: Request) -> Response:
    url, missing = await _known_lot(request, lot)
    return missing or Response(qr_svg(url), media_type="image/svg+xml", headers=_QR_CACHE)


@router.get("/b/{lot}/qr.png", summary="QR code of the lot's public URL (PNG)", response_class=Response)
async def qr_code_png(lot: str, request: Request) -> Response:
    url, missing = await _known_lot(request, lot)
    return missing or Response(qr_png(url), media_type="image/png", headers=_QR_CACHE)


@router.get("/b/{lot}/labels", summary="A4 sheet of printable labels (HTML with print CSS)", response_class=Response)
async def labels(
    lot: str,
    request: Request,
    services: ServicesDep,
    count: Annotated[int, Query(ge=1, le=480, description="How many labels (24 to an A4 sheet)")] = 24,
    lang: LangQuery = None,
) -> Response:
    _, missing = await _known_lot(request, lot, lang)
    if missing:
        return missing
    chosen = choose_lang(request, lang)
    body = await run_in_threadpool(_render_labels, services, lot, chosen, count)
    return Response(body, media_type=HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


def _render_labels(services: Services, lot: str, lang: str, count: int) -> bytes:
    with services.sessions() as session:
        view = lot_view(session, services.log, services.lot_index, services.settings.public_url, lot)
    return render_labels(view, lang, count)


@router.get("/b/{lot}/proof.json", summary="The lot's proof bundle, verifiable offline with `suyuan verify`")
def proof_bundle(lot: LotPath, session: SessionDep, services: ServicesDep) -> Response:
    return Response(bundle_bytes(session, services.log, services.lot_index, lot), media_type="application/json")


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
