"""When, where and with what camera a photo says it was taken: its EXIF, read with exifread.

EXIF is the photo's own claim, easily edited: it informs the credibility warnings, it never
decides anything. A file whose EXIF cannot be read simply has none.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import exifread
import pillow_heif
from PIL import Image

from .images import PILLOW_FORMATS, sniff_media_type

TEXT_LIMIT = 100
# exifread reads every value through the file it is given, so a budget on those reads bounds its
# work for any EXIF block: directories that all point at the same values otherwise keep it busy
# for tens of seconds on 64 KB. No corpus photo needs more than 3% of it.
READ_BUDGET = 2_000_000
# A read costs its bytes and the overhead of a call, so a flood of tiny reads counts too.
READ_OVERHEAD = 64

# The capture time, and where its zone is written. DateTimeDigitized is the same moment for any
# digital camera; DateTime is not used: it is when the file was last changed, which editing
# software rewrites (the corpus's rescaled photos carry 2008 in it for pictures taken in 2001-2006).
_CAPTURE_TIMES = (
    ("EXIF DateTimeOriginal", ("EXIF OffsetTimeOriginal", "EXIF OffsetTime")),
    ("EXIF DateTimeDigitized", ("EXIF OffsetTimeDigitized", "EXIF OffsetTime")),
)
_DATETIME = re.compile(r"\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"\s*([+-])(\d{2}):(\d{2})\s*$")
# Real zones run from -12:00 to +14:00.
_LONGEST_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class PhotoMetadata:
    """`taken_at` is timezone-aware when the camera wrote its offset, else the naive local time
    it showed. `lat`/`lon` come as a pair, in degrees, rounded to 7 decimals. `make`/`model` are
    plain text (no control characters, at most TEXT_LIMIT characters; markup is kept as text)."""

    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    make: str | None = None
    model: str | None = None
    orientation: int | None = None

    def as_json(self) -> dict:
        """The `exif` object of the upload answer (protocol §4); absent fields are left out."""
        fields = {
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "lat": self.lat,
            "lon": self.lon,
            "make": self.make,
            "model": self.model,
        }
        return {name: value for name, value in fields.items() if value is not None}


def read_metadata(data: bytes) -> PhotoMetadata:
    """The EXIF of a JPEG, PNG, WebP or HEIC/HEIF photo. Never raises: unreadable is empty."""
    try:
        tags = _exif_tags(data)
        lat, lon = _position(tags)
        return PhotoMetadata(
            taken_at=_taken_at(tags),
            lat=lat,
            lon=lon,
            make=_text(tags.get("Image Make")),
            model=_text(tags.get("Image Model")),
            orientation=_orientation(tags.get("Image Orientation")),
        )
    except Exception:  # noqa: BLE001  (parsers fed hostile bytes may fail in any way; all of them mean "no metadata")
        return PhotoMetadata()


class _ReadBudgetSpent(Exception):
    pass


class _BudgetedFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self._left = READ_BUDGET

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self._left -= len(chunk) + READ_OVERHEAD
        if self._left < 0:
            raise _ReadBudgetSpent
        return chunk


def _exif_tags(data: bytes) -> dict:
    """exifread's tags for the EXIF block found by the parser that decodes the file's type.

    exifread walks JPEG, PNG, WebP and HEIF files itself, but its HEIF walker loops forever on a
    box of size zero and its WebP walker misreads the EXIF chunk as the WebP spec writes it; the
    image parsers are hardened against hostile files. A PNG eXIf chunk placed after the image
    data is not seen this way (writers put it before).
    """
    media_type = sniff_media_type(data)
    if media_type is None:
        return {}
    if media_type in ("image/heic", "image/heif"):
        # pillow-heif's Pillow plugin rewrites the orientation to 1, having turned the pixels
        # already; its HeifFile keeps the EXIF as the camera wrote it.
        block = pillow_heif.open_heif(io.BytesIO(data)).info.get("exif") or b""
    else:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]]) as image:
            block = image.info.get("exif") or b""
    tiff = block.removeprefix(b"Exif\x00\x00")
    if tiff[:2] not in (b"II", b"MM"):
        return {}
    return exifread.process_file(_BudgetedFile(tiff), details=False, extract_thumbnail=False)


def _taken_at(tags: dict) -> datetime | None:
    for time_tag, zone_tags in _CAPTURE_TIMES:
        taken = _datetime(_ascii(tags.get(time_tag)))
        if taken is not None:
            zones = (_zone(_ascii(tags.get(tag))) for tag in zone_tags)
            return taken.replace(tzinfo=next((zone for zone in zones if zone), None))
    return None


def _datetime(text: str) -> datetime | None:
    match = _DATETIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.groups())
    try:
        # A camera's own clock: its offset, if it wrote one, is applied by the caller.
        return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
    except ValueError:  # "0000:00:00 00:00:00", as cameras without a clock write, and other impossible dates
        return None


def _zone(text: str) -> timezone | None:
    match = _OFFSET.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) >= 60 or offset > _LONGEST_OFFSET:
        return None
    return timezone(-offset if sign == "-" else offset)


def _position(tags: dict) -> tuple[float | None, float | None]:
    lat = _coordinate(tags.get("GPS GPSLatitude"), tags.get("GPS GPSLatitudeRef"), "NS", 90)
    lon = _coordinate(tags.get("GPS GPSLongitude"), tags.get("GPS GPSLongitudeRef"), "EW", 180)
    if lat is None or lon is None:
        return None, None  # half a position places the photo nowhere
    return lat, lon


def _coordinate(tag: object, ref_tag: object, hemispheres: str, limit: int) -> float | None:
    """Degrees from [degrees, minutes, seconds], negative in the S or W hemisphere."""
    parts = getattr(tag, "values", None)
    if not isinstance(parts, list) or not 1 <= len(parts) <= 3:
        return None
    values = []
    for index, part in enumerate(parts):
        value = _rational(part, unused_is_zero=index > 0)
        if value is None:
            return None
        values.append(value)
    # Minutes and seconds add to the degrees' size even when a signed writer made the degrees negative.
    degrees = sum(abs(value) / 60**index for index, value in enumerate(values))
    ref = _ascii(ref_tag).strip().upper()[:1]
    if ref == hemispheres[1] or (not ref and min(values) < 0):
        degrees = -degrees
    elif ref and ref != hemispheres[0]:
        return None  # a reference naming no hemisphere leaves the sign unknown
    if abs(degrees) > limit:
        return None
    return round(degrees, 7)


def _rational(value: object, *, unused_is_zero: bool) -> float | None:
    """A rational (or integer) as a float. Cameras write 0/0 for unused minutes and seconds; 0/0
    degrees, or n/0 anywhere, is no number."""
    numerator, denominator = getattr(value, "numerator", None), getattr(value, "denominator", None)
    if isinstance(value, bool) or not isinstance(numerator, int) or not isinstance(denominator, int):
        return None
    if denominator == 0:
        return 0.0 if numerator == 0 and unused_is_zero else None
    return numerator / denominator


def _orientation(tag: object) -> int | None:
    values = getattr(tag, "values", None)
    if isinstance(values, list) and len(values) == 1 and isinstance(values[0], int) and 1 <= values[0] <= 8:
        return values[0]
    return None


def _text(tag: object) -> str | None:
    """Make or model as plain text: control and other invisible characters dropped, spaces trimmed."""
    visible = "".join(char for char in _ascii(tag) if unicodedata.category(char)[0] != "C")
    text = visible.strip()[:TEXT_LIMIT].rstrip()
    return text or None


def _ascii(tag: object) -> str:
    """An ASCII field's text; exifread cuts it at the first NUL and leaves non-UTF-8 bytes undecoded."""
    values = getattr(tag, "values", None)
    if isinstance(values, bytes):
        return values.decode("latin-1")  # the older cameras' 8-bit text
    return values if isinstance(values, str) else ""
