"""Strict base64 for the verifiers, failing with a VerificationError that names the field."""

from __future__ import annotations

from .encoding import b64decode
from .errors import VerificationError


def decode_strict(value: object, what: str, size: int | None = None) -> bytes:
    """`value` decoded, in canonical base64 and, when `size` is given, of exactly that many bytes."""
    if not isinstance(value, str):
        raise VerificationError(f"{what} is not a base64 string")
    try:
        decoded = b64decode(value)
    except ValueError as exc:
        raise VerificationError(f"{what}: {exc}") from None
    if size is not None and len(decoded) != size:
        raise VerificationError(f"{what} is {len(decoded)} bytes, want {size}")
    return decoded
