"""What the services say when they will not do what was asked. Each error names what failed
and what to do about it, in words a grower, a regulator or an integrator can act on; only
the web layer (`web.errors`) turns them into HTTP status codes and the error JSON.

A refused request has stored nothing: services raise these before they write.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """`code` is a stable machine word (`unknown_lot`), `message` the advice for a person, and
    `details` what a program needs to act on it (a lot's current tip, for a client to re-sign)."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotSignedIn(DomainError):
    """No credential, or one that is unknown, expired or revoked."""


class Forbidden(DomainError):
    """A known party asking for what its role or ownership does not allow."""


class NotFound(DomainError):
    """What the request names does not exist."""


class Conflict(DomainError):
    """The request clashes with the state it would change (a key revoked twice, say)."""


class Invalid(DomainError):
    """The request itself is wrong: a value out of range, a photo that is not the sender's."""


class Refused(DomainError):
    """A well-formed request the service will not take as it is."""


class TooLarge(Refused):
    """Too big to take: a record beyond the log's entry size, a photo of too many pixels."""


class Unsupported(Refused):
    """Of a kind the service does not take: a file that is not a photo."""
