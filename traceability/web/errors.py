"""Every error a client can cause answers `{"error": {"code", "message"}}` (protocol §4), with
the status its kind of DomainError stands for. This is the one place that says which."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from signing.ledger import EVENT_TYPES

from ..errors import Conflict, DomainError, Forbidden, Invalid, NotFound, NotSignedIn, Refused, TooLarge, Unsupported
from .deps import SignInNeeded

log = logging.getLogger("suyuan")

# Most specific first: TooLarge and Unsupported are kinds of Refused.
STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotSignedIn, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (TooLarge, 413),
    (Unsupported, 415),
    (Invalid, 422),
    (Refused, 422),
)
_STATUS_CODES = {
    400: "bad_body",
    401: "no_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}
# FastAPI's words for a body it cannot read, made into advice.
_UNREADABLE = "There was an error parsing the body"


def status_of(error: DomainError) -> int:
    return next(status for kind, status in STATUS if isinstance(error, kind))


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, details: dict[str, Any] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **(details or {})}}, status_code=status, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_response(status, exc.code, exc.message, headers, exc.details)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(_request: Request, exc: SignInNeeded) -> Response:
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        for error in errors:
            if error["type"] == "json_invalid":
                reason = error.get("ctx", {}).get("error", "parse error")
                return error_response(400, "bad_json", f"the body is not valid JSON ({reason}); send a JSON object")
        return error_response(422, "invalid", "; ".join(_describe(error) for error in errors[:10]))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = "there is nothing at this address"
        elif message == _UNREADABLE:
            message = "the request body could not be read: send JSON, or a photo as the multipart form field 'file'"
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(PoolTimeout)
    async def _busy(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        return error_response(
            503,
            "busy",
            "the server is too busy to answer now; nothing was stored, try again in a few seconds",
            {"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            500, "internal", "something went wrong on the server; nothing was stored. Try again later"
        )


def _describe(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "body"]
    # A discriminated union puts the event type into the location: `harvest.data.quantity`.
    if len(loc) > 1 and error.get("loc", ())[:1] == ("body",) and loc[0] in EVENT_TYPES:
        loc = loc[1:]
    where = ".".join(loc) or "body"
    message = error.get("msg", "is not valid")
    message = message.removeprefix("Value error, ")
    return f"{where}: {message}"
