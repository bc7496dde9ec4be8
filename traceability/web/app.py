"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..services import Services, open_services
from ..settings import Settings
from . import errors
from .api import accounts, audit, exports, log, lots, photos, records
from .audit import routes as audit_pages
from .grower import device as grower_device
from .grower import routes as grower_app
from .limits import BodyLimit
from .public import resources
from .public.pages import PublicPages, PublicSite

ROUTERS = (
    log.router,
    accounts.router,
    lots.router,
    records.router,
    photos.router,
    resources.router,
    audit.router,
    exports.router,
    audit_pages.router,
    grower_app.router,
    grower_device.router,
)


def create_app(services: Services) -> FastAPI:
    site = PublicSite(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The witnesses' submitter runs in threads of its own, beside the appends (protocol §8).
        if services.submitter is not None:
            services.submitter.start()
        site.start()
        try:
            yield
        finally:
            if services.submitter is not None:
                services.submitter.stop()
            site.close()

    app = FastAPI(
        title="Suyuan 溯源",
        version=__version__,
        summary="Produce traceability: signed records in a verifiable transparency log",
        docs_url="/docs",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.public = site
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    settings = services.settings
    app.add_middleware(
        BodyLimit,
        limit_for=lambda path: settings.max_photo_bytes if _carries_photo(path) else settings.max_json_bytes,
    )
    # Outermost, so that a scan of a label costs as little as the page cache allows.
    app.add_middleware(PublicPages, site=site)
    return app


def _carries_photo(path: str) -> bool:
    return path in (photos.UPLOAD_PATH, "/grower/photos") or (
        path.startswith("/grower/lots/") and path.endswith("/events")
    )


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (and every `--workers` process): settings from the environment."""
    return create_app(open_services(Settings()))
