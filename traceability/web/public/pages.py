"""The lot's public page (`GET /b/{lot}`, and `GET /01/{gtin}/10/{lot}` by GS1 Digital Link),
answered ahead of the router.

Every scan of a label lands here, so a current page is answered from the cache with
prebuilt headers: one freshness check (see `freshness`), no routing, no dependency
resolution. Only a page whose records changed is rendered again, in a worker thread.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from public_pages import i18n
from public_pages.render import BUILD, CONTENT_SECURITY_POLICY, render_lot, render_not_found, render_unavailable
from signing.ledger import LOT_PATTERN

from ...fields import gtin14
from ...lots.urls import lot_url
from ...reads.lot_page import lot_view
from ...services import Services
from ..errors import error_response
from .cache import PageCache, Rendered
from .freshness import NotifiedTips, Tips, tips_reader

log = logging.getLogger("suyuan")
# GS1 Digital Link: /01/{gtin}, an optional consumer product variant (22), the lot (10) and
# an optional serial number (21); the page is the lot's whatever the variant or serial.
_PATHS = re.compile(r"/b/(?P<lot>[^/]+)|/01/(?P<gtin>[^/]+)(?:/22/[^/]+)?/10/(?P<dl_lot>[^/]+)(?:/21/[^/]+)?")
HTML = "text/html; charset=utf-8"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


def _page_headers(lang: str, explicit: bool) -> list[tuple[bytes, bytes]]:
    return _encoded(
        {
            **SECURITY_HEADERS,
            # Always revalidated: a recall must show on the very next visit.
            "Cache-Control": "no-cache",
            "Content-Language": i18n.HTML_LANG[lang],
            "Vary": "Accept-Encoding" if explicit else "Accept-Language, Accept-Encoding",
        }
    )


_HEADERS = {(lang, explicit): _page_headers(lang, explicit) for lang in i18n.LANGUAGES for explicit in (False, True)}
NOT_FOUND_HEADERS = {
    lang: {
        **SECURITY_HEADERS,
        "Cache-Control": "no-cache",
        "Content-Language": i18n.HTML_LANG[lang],
        "Vary": "Accept-Language",
    }
    for lang in i18n.LANGUAGES
}
_NOT_FOUND_HEADERS = {lang: _encoded(headers) for lang, headers in NOT_FOUND_HEADERS.items()}


def not_found_body(lang: str, lot: str) -> bytes:
    """The friendly 404 page, naming the lot only when it could be one."""
    return render_not_found(lang, lot if LOT_PATTERN.fullmatch(lot) else None)


def not_found_page(lang: str, lot: str) -> Response:
    return Response(not_found_body(lang, lot), status_code=404, media_type=HTML, headers=NOT_FOUND_HEADERS[lang])


_CONTENT_TYPE = (b"content-type", HTML.encode())
_GZIP = (b"content-encoding", b"gzip")


class PublicSite:
    """What the public pages are served from: the services, the rendered pages kept while
    their records are unchanged, and the freshness reader that says when they are not."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.pages = PageCache()
        self.tips = tips_reader(services.engine)
        if isinstance(self.tips, NotifiedTips):
            # Appends through this process are forgotten before they are answered.
            services.sequencer.lots_committed.append(self.tips.forget)

    def start(self) -> None:
        if isinstance(self.tips, NotifiedTips):
            self.tips.start()

    async def lot_url(self, lot: str) -> str | None:
        """What the lot's QR code holds (None: there is no such lot)."""
        tips: Tips = await self.tips((lot,)) if LOT_PATTERN.fullmatch(lot) else {}
        return lot_url(self.services.settings.public_url, lot, tips[lot][1]) if lot in tips else None

    def cosigned_size(self) -> int:
        """The newest cosigned size this process knows (its submitter reads it every second):
        an attribute read, cheap on every scan."""
        submitter = self.services.submitter
        return submitter.stored_size if submitter is not None else -1

    def close(self) -> None:
        if isinstance(self.tips, NotifiedTips):
            self.tips.close()
            if self.tips.forget in self.services.sequencer.lots_committed:
                self.services.sequencer.lots_committed.remove(self.tips.forget)
        else:
            self.tips.close()


class PublicPages:
    def __init__(self, app: ASGIApp, site: PublicSite) -> None:
        self.app = app
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _PATHS.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await error_response(
                405, "method_not_allowed", "a lot's page can only be read (GET)", {"Allow": "GET, HEAD"}
            )(scope, receive, send)
            return
        wanted = {name: value for name, value in scope["headers"] if name in _WANTED}
        lang_query = _lang_query(scope["query_string"])
        lang = i18n.choose(lang_query, wanted.get(b"accept-language", b"").decode("latin-1"))
        lot = match["lot"] or match["dl_lot"]
        try:
            page = await self._current_page(lot, match["gtin"], lang, lang_query == lang)
        except Exception:
            # The visitor gets a page in their language, never a trace; the log gets the trace.
            log.exception("cannot answer the page of lot %s", lot)
            body = render_unavailable(lang)
            headers = [
                _CONTENT_TYPE,
                *_NOT_FOUND_HEADERS[lang],
                (b"retry-after", b"30"),
                (b"content-length", str(len(body)).encode()),
            ]
            await _send(send, scope, 503, headers, body)
            return
        if page is None:
            body = not_found_body(lang, lot)
            status, headers = (
                404,
                [_CONTENT_TYPE, *_NOT_FOUND_HEADERS[lang], (b"content-length", str(len(body)).encode())],
            )
        else:
            headers = [*_HEADERS[lang, lang_query == lang], (b"etag", page.etag)]
            if _matches(wanted.get(b"if-none-match"), page.etag):
                status, body = 304, b""
            else:
                status = 200
                gzipped = _accepts_gzip(wanted.get(b"accept-encoding", b""))
                body = page.gzipped if gzipped else page.body
                headers += [_CONTENT_TYPE, (b"content-length", str(len(body)).encode())] + ([_GZIP] if gzipped else [])
        await _send(send, scope, status, headers, body)

    async def _current_page(self, lot: str, gtin: str | None, lang: str, explicit: bool) -> Rendered | None:
        if not LOT_PATTERN.fullmatch(lot):
            return None
        site, pages = self.site, self.site.pages
        lineage = pages.lineage.get(lot)
        if lineage is None:
            lineage = await run_in_threadpool(_lineage, site.services, lot)
        tips = await site.tips(lineage)
        if lot not in tips:
            return None
        if gtin is not None and (_gtin(gtin) or "no GTIN") != tips[lot][1]:
            return None  # a Digital Link must name the lot's own GTIN
        pages.lineage[lot] = lineage  # only for a lot that exists: what it was made from is fixed
        version = (BUILD, *((name, tips[name][0]) for name in lineage if name in tips))
        key = (lot, lang, explicit)
        page = pages.get(key, version)
        if page is None or not page.current(site.cosigned_size()):
            page = pages.put(key, version, *await run_in_threadpool(_render, site.services, lot, lang, explicit))
        return page


_WANTED = frozenset({b"accept-language", b"accept-encoding", b"if-none-match"})


async def _send(send: Send, scope: Scope, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _accepts_gzip(accept_encoding: bytes) -> bool:
    for item in accept_encoding.split(b","):
        coding, _, params = item.strip().partition(b";")
        if coding.strip().lower() in (b"gzip", b"*"):
            return not re.fullmatch(rb"\s*q\s*=\s*0(\.0*)?\s*", params)
    return False


def _lang_query(query_string: bytes) -> str | None:
    if not query_string:
        return None
    return dict(parse_qsl(query_string.decode("latin-1"))).get("lang")


def _lineage(services: Services, lot: str) -> tuple[str, ...]:
    """The lot and every lot it was made from, as their signed batch records say."""
    index = services.lot_index
    with services.sessions() as session:
        index.catch_up(session, services.log.head(session).size)
    return (lot, *index.ancestors(lot))


def _render(services: Services, lot: str, lang: str, explicit: bool) -> tuple[bytes, int | None]:
    """The page, and the cosigned size it awaits when its checkpoint is not cosigned yet."""
    with services.sessions() as session:
        view = lot_view(session, services.log, services.lot_index, services.settings.public_url, lot)
    v = view.verification
    awaiting = v.checkpoint_size if v.witnessed and not v.cosigned_by else None
    return render_lot(view, lang, explicit_lang=explicit), awaiting


def _gtin(text: str) -> str | None:
    """GS1 Digital Link allows GTIN-8, -12 and -13 too; they name the same item zero-padded."""
    try:
        return gtin14(text)
    except ValueError:
        return None


def _matches(if_none_match: bytes | None, etag: bytes) -> bool:
    # Weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored.
    if not if_none_match:
        return False
    if if_none_match.strip() == b"*":
        return True
    bare = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == bare for tag in if_none_match.split(b","))
