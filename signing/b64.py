"""Strict base64 for the verifiers, failing with a VerificationError that names the field."""

from __future__ import annotations

from .encoding import b64decode
from .errors import VerificationError


def decode_strict(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(f"{what} is not a base64 string")
    try:
        return b64decode(value)
    except ValueError as exc:
        raise VerificationError(f"{what}: {exc}") from None
