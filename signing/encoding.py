"""Standard base64 (RFC 4648 §4, with padding), held to a single encoding per value."""

import base64


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode standard padded base64, accepting only the form `b64encode` produces.

    Decoders (Python's and Go's alike) ignore non-zero padding bits, so several
    strings decode to the same bytes. Signed entries and notes carry base64 inside
    the signed or logged bytes, so accepting the variants would let anyone alter a
    logged entry or a signed note without invalidating anything.

    Raises ValueError.
    """
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError as e:
        raise ValueError(f"not valid base64: {e}") from e
    if b64encode(data) != text:
        raise ValueError("not in canonical base64 form (stray padding bits or padding)")
    return data
