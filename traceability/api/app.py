"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from ..context import Context, open_context
from ..settings import Settings
from . import (
    errors,
    routes_audit,
    routes_audit_pages,
    routes_batches,
    routes_export,
    routes_grower_app,
    routes_log,
    routes_members,
    routes_photos,
    routes_public,
)
from .limits import BodyLimit
from .pages import PublicPages


def create_app(context: Context) -> FastAPI:
    app = FastAPI(
        title="Suyuan 溯源",
        version="1",
        summary="Produce traceability: signed records in a verifiable transparency log",
        docs_url="/docs",
    )
    app.state.context = context
    errors.install(app)
    for module in (routes_log, routes_members, routes_batches, routes_photos, routes_public, routes_audit, routes_export, routes_audit_pages, routes_grower_app):
        app.include_router(module.router)
    settings = context.settings
    app.add_middleware(
        BodyLimit,
        limit_for=lambda path: settings.max_photo_bytes if _carries_photo(path) else settings.max_json_bytes,
    )
    # Outermost, so that a scan of a label costs as little as the page cache allows.
    app.add_middleware(PublicPages, context=context)
    return app


def _carries_photo(path: str) -> bool:
    return path == routes_photos.UPLOAD_PATH or path == "/grower/photos" or (path.startswith("/grower/lots/") and path.endswith("/events"))


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (and every `--workers` process): settings from the environment."""
    return create_app(open_context(Settings()))
