"""RFC 8785 (JCS) canonical JSON: the bytes that records sign and the log stores."""

from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON-compatible value.

    Raises ValueError for values JCS cannot represent: NaN and infinite floats,
    integers outside ±(2**53 - 1), non-string object keys, non-JSON types, and
    strings that are not valid Unicode.
    """
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as e:
        raise ValueError(f"value has no RFC 8785 canonical form: {e}") from e
