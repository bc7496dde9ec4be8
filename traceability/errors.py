"""The one error type the service raises for anything a client did or asked."""

from __future__ import annotations


class ApiError(Exception):
    """Answered as `{"error": {"code", "message"}}` with `status`; the message says what to do."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
