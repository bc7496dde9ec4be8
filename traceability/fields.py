"""Field types of what clients send: names, notes, quantities, times, lot codes, GTINs. Every
input model is built from these, so each rule holds on every input alike."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from signing.encoding import b64decode
from signing.keys import KEY_SIZE
from signing.ledger import LOT_PATTERN

from .ids import gs1_check_digit

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _one_line(value: str) -> str:
    if "\n" in value or "\t" in value:
        raise ValueError("must be a single line")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _rfc3339(value: str) -> str:
    if not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with an offset, like 2026-09-12T08:30:00+08:00")
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"is not a real date and time ({exc})") from None
    if moment.year < 1900:
        raise ValueError("is too long ago; check the year")
    offset = moment.utcoffset()
    if offset is None or abs(offset) > timedelta(hours=14):
        raise ValueError("has an offset beyond ±14:00, which no time zone has")
    return moment.isoformat()


def gtin14(value: str) -> str:
    if not re.fullmatch(r"[0-9]{8}|[0-9]{12,14}", value, re.ASCII):
        raise ValueError("must be a GTIN of 8, 12, 13 or 14 digits")
    digits = value.zfill(14)
    if gs1_check_digit(digits[:13]) != digits[13]:
        raise ValueError("has a wrong check digit; copy the number under the barcode again")
    return digits


def _lot(value: str) -> str:
    if not LOT_PATTERN.fullmatch(value):
        raise ValueError("must be a lot code of 1 to 20 characters from 0-9 and A-Z")
    return value


def _public_key(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("must be base64 text of the raw public key")
    try:
        raw = b64decode(value)
    except ValueError as exc:
        raise ValueError(f"must be base64 of the raw public key ({exc})") from None
    if len(raw) != KEY_SIZE:
        raise ValueError(f"must be the {KEY_SIZE} raw bytes of an Ed25519 public key, in base64; it is {len(raw)}")
    return raw


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_no_control),
    AfterValidator(_one_line),
]
Note = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(_no_control)
]
Quantity = Annotated[float, Field(gt=0, le=1e9), AfterValidator(_finite)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Area = Annotated[float, Field(gt=0, le=1e6)]
Time = Annotated[str, AfterValidator(_rfc3339)]
LotCode = Annotated[str, AfterValidator(_lot)]
GTIN = Annotated[str, AfterValidator(gtin14)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 \-]{5,20}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# Sent as base64 text, held as the 32 raw bytes.
PublicKey = Annotated[
    bytes, BeforeValidator(_public_key), WithJsonSchema({"type": "string", "contentEncoding": "base64"})
]


class In(BaseModel):
    """What a client sends: unknown fields are refused, so a misspelt field is a 422 that names it
    rather than data silently dropped."""

    model_config = ConfigDict(extra="forbid")
