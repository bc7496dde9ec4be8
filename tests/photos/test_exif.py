"""read_metadata against exiftool on the corpus, and on EXIF built byte by byte for the hard cases."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from tests.corpus import ABSENT, CORPUS, corpus_files, read
from traceability.photos.exif import READ_BUDGET, TEXT_LIMIT, PhotoMetadata, read_metadata

FIXTURE = json.loads((Path(__file__).parent / "exiftool_gps.json").read_text(encoding="utf-8"))
EXIFTOOL = FIXTURE["files"]
# read_metadata takes the upload types only; TIFF is refused before anyone asks for its EXIF.
PHOTOS = [name for name in corpus_files() if not name.startswith("tiff/")]
WITH_GPS = [name for name in PHOTOS if "Composite:GPSLatitude" in EXIFTOOL[name]] if CORPUS else [ABSENT]


@pytest.mark.usefixtures("corpus")
def test_the_exiftool_fixture_covers_the_corpus() -> None:
    assert set(EXIFTOOL) == set(corpus_files())
    assert FIXTURE["exiftool_version"]
    assert {name for name in PHOTOS if name.startswith("jpg/gps/")} <= set(WITH_GPS)
    assert len(WITH_GPS) == 18


@pytest.mark.parametrize("name", WITH_GPS)
@pytest.mark.usefixtures("corpus")
def test_gps_agrees_with_exiftool(name: str) -> None:
    metadata = read_metadata(read(name))
    assert metadata.lat == pytest.approx(EXIFTOOL[name]["Composite:GPSLatitude"], abs=1e-6)
    assert metadata.lon == pytest.approx(EXIFTOOL[name]["Composite:GPSLongitude"], abs=1e-6)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.usefixtures("corpus")
def test_time_camera_and_orientation_agree_with_exiftool(name: str) -> None:
    expected = EXIFTOOL[name]
    metadata = read_metadata(read(name))
    assert metadata.taken_at == _exiftool_capture_time(expected)
    assert metadata.make == _exiftool_text(expected.get("EXIF:Make"))
    assert metadata.model == _exiftool_text(expected.get("EXIF:Model"))
    assert metadata.orientation == expected.get("EXIF:Orientation")
    if name not in WITH_GPS:
        assert metadata.lat is metadata.lon is None


def _exiftool_capture_time(tags: dict) -> datetime | None:
    for when, zones in (
        ("EXIF:DateTimeOriginal", ("EXIF:OffsetTimeOriginal", "EXIF:OffsetTime")),
        ("EXIF:CreateDate", ("EXIF:OffsetTimeDigitized", "EXIF:OffsetTime")),
    ):
        if when in tags:
            taken = datetime.strptime(tags[when], "%Y:%m:%d %H:%M:%S")
            zone = next((tags[z] for z in zones if z in tags), None)
            return taken.replace(tzinfo=datetime.strptime(zone, "%z").tzinfo) if zone else taken
    return None


def _exiftool_text(value: object) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None  # with -n, exiftool writes a model like "6600" as a number


# -- EXIF built byte by byte ------------------------------------------------------------------

ASCII, SHORT, LONG, RATIONAL, SRATIONAL = 2, 3, 4, 5, 10
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
MAKE, MODEL, ORIENTATION, DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
ORIGINAL, DIGITIZED = 0x9003, 0x9004
OFFSET, OFFSET_ORIGINAL, OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
LAT_REF, LAT, LON_REF, LON = 1, 2, 3, 4

Entry = tuple[int, int, int, bytes]  # tag, type, count, value bytes


def text(tag: int, value: str | bytes) -> Entry:
    raw = (value.encode() if isinstance(value, str) else value) + b"\0"
    return tag, ASCII, len(raw), raw


def short(tag: int, value: int) -> Entry:
    return tag, SHORT, 1, struct.pack(">H", value)


def rationals(tag: int, *pairs: tuple[int, int], signed: bool = False) -> Entry:
    return (
        tag,
        SRATIONAL if signed else RATIONAL,
        len(pairs),
        b"".join(struct.pack(">ii" if signed else ">II", *p) for p in pairs),
    )


def directory(entries: list[Entry], start: int) -> bytes:
    """A big-endian IFD at `start`, its longer values laid out right after it."""
    table, values = b"", b""
    after = start + 2 + 12 * len(entries) + 4
    for tag, kind, count, raw in sorted(entries):
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack(">I", after + len(values))
            values += raw + b"\0" * (len(raw) % 2)
        table += struct.pack(">HHI", tag, kind, count) + field
    return struct.pack(">H", len(entries)) + table + b"\0\0\0\0" + values


def exif(ifd0: Sequence[Entry] = (), exif_ifd: Sequence[Entry] = (), gps: Sequence[Entry] = ()) -> bytes:
    """An APP1-style EXIF block: IFD0, then the EXIF and GPS directories it points to."""
    subs = [(pointer, entries) for pointer, entries in ((EXIF_IFD, list(exif_ifd)), (GPS_IFD, list(gps))) if entries]
    placeholder = [(pointer, LONG, 1, b"\0\0\0\0") for pointer, _ in subs]
    at = 8 + len(directory([*ifd0, *placeholder], 8))
    pointers, tail = [], b""
    for pointer, entries in subs:
        pointers.append((pointer, LONG, 1, struct.pack(">I", at + len(tail))))
        tail += directory(entries, at + len(tail))
    return b"Exif\0\0MM\0*\0\0\0\x08" + directory([*ifd0, *pointers], 8) + tail


def photo(block: bytes, kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 140, 60)).save(out, kind, exif=block)
    return out.getvalue()


def gps(
    lat: list[tuple[int, int]],
    lat_ref: str | None,
    lon: list[tuple[int, int]],
    lon_ref: str | None,
    signed: bool = False,
) -> PhotoMetadata:
    entries = [rationals(LAT, *lat, signed=signed), rationals(LON, *lon, signed=signed)]
    entries += [text(LAT_REF, lat_ref)] if lat_ref is not None else []
    entries += [text(LON_REF, lon_ref)] if lon_ref is not None else []
    return read_metadata(photo(exif(gps=entries)))


SYDNEY = [(33, 1), (51, 1), (5451, 100)], [(151, 1), (12, 1), (36, 1)]


@pytest.mark.parametrize(
    ("lat_ref", "lon_ref", "position"),
    [
        ("S", "E", (-33.8651417, 151.21)),
        ("N", "W", (33.8651417, -151.21)),
        ("s", "w", (-33.8651417, -151.21)),
        (None, None, (33.8651417, 151.21)),  # no hemisphere written: as the numbers say
        ("X", "E", (None, None)),  # a hemisphere that is none
    ],
)
def test_hemispheres_sign_the_position(lat_ref: str | None, lon_ref: str | None, position: tuple) -> None:
    metadata = gps(SYDNEY[0], lat_ref, SYDNEY[1], lon_ref)
    assert (metadata.lat, metadata.lon) == position


def test_a_signed_rational_south_is_not_turned_north() -> None:
    for ref in ("S", None):
        assert gps([(-33, 1), (51, 1), (5451, 100)], ref, SYDNEY[1], "E", signed=True).lat == -33.8651417


@pytest.mark.parametrize(
    ("lat", "position"),
    [
        ([(43, 1), (2804, 100), (0, 0)], (43.4673333, 11.5)),  # 0/0 seconds: unused, cameras write it
        ([(435, 10)], (43.5, 11.5)),  # decimal degrees, no minutes
        ([(0, 0), (0, 0), (0, 0)], (None, None)),  # no fix
        ([(43, 1), (5, 0), (0, 1)], (None, None)),  # n/0 is no number
        ([(91, 1), (0, 1), (0, 1)], (None, None)),  # beyond the pole
        ([(43, 1), (1, 1), (1, 1), (1, 1)], (None, None)),  # four parts
        ([], (None, None)),
    ],
)
def test_rationals_zero_denominators_and_ranges(lat: list[tuple[int, int]], position: tuple) -> None:
    metadata = gps(lat, "N", [(11, 1), (30, 1), (0, 1)], "E")
    assert (metadata.lat, metadata.lon) == position


def test_longitude_beyond_180_or_missing_drops_the_position() -> None:
    assert gps(SYDNEY[0], "S", [(181, 1)], "E").lat is None
    alone = read_metadata(photo(exif(gps=[rationals(LAT, (10, 1)), text(LAT_REF, "N")])))
    assert (alone.lat, alone.lon) == (None, None)


def capture(*entries: Entry, ifd0: Sequence[Entry] = ()) -> datetime | None:
    return read_metadata(photo(exif(ifd0=list(ifd0), exif_ifd=list(entries)))).taken_at


CHINA = timezone(timedelta(hours=8))
NEWFOUNDLAND = timezone(-timedelta(hours=3, minutes=30))


@pytest.mark.parametrize(
    ("entries", "taken_at"),
    [
        (
            [text(ORIGINAL, "2026:09:18 09:30:00"), text(OFFSET_ORIGINAL, "+08:00")],
            datetime(2026, 9, 18, 9, 30, tzinfo=CHINA),
        ),
        ([text(ORIGINAL, "2026:09:18 09:30:00"), text(OFFSET, "+08:00")], datetime(2026, 9, 18, 9, 30, tzinfo=CHINA)),
        (
            [text(ORIGINAL, "2026:09:18 09:30:00"), text(OFFSET_ORIGINAL, "-03:30")],
            datetime(2026, 9, 18, 9, 30, tzinfo=NEWFOUNDLAND),
        ),
        ([text(ORIGINAL, "2026:09:18 09:30:00")], datetime(2026, 9, 18, 9, 30)),
        ([text(ORIGINAL, "2026:09:18 09:30:00"), text(OFFSET_ORIGINAL, "+25:00")], datetime(2026, 9, 18, 9, 30)),
        ([text(ORIGINAL, "2026:09:18 09:30:00"), text(OFFSET_ORIGINAL, "   :  ")], datetime(2026, 9, 18, 9, 30)),
        (
            [
                text(ORIGINAL, "0000:00:00 00:00:00"),
                text(DIGITIZED, "2026:09:18 09:31:00"),
                text(OFFSET_DIGITIZED, "+08:00"),
            ],
            datetime(2026, 9, 18, 9, 31, tzinfo=CHINA),
        ),
        ([text(ORIGINAL, "    :  :     :  :  ")], None),
        ([text(ORIGINAL, "2026:02:30 09:30:00")], None),
    ],
    ids=[
        "offset original",
        "offset",
        "negative half hour",
        "naive",
        "impossible offset",
        "blank offset",
        "digitized",
        "blank",
        "30 February",
    ],
)
def test_capture_time(entries: list[Entry], taken_at: datetime | None) -> None:
    assert capture(*entries) == taken_at


def test_the_file_change_time_is_not_a_capture_time() -> None:
    assert capture(ifd0=[text(DATETIME, "2026:09:18 09:30:00")]) is None


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Canon", "Canon"),
        ("  NIKON CORPORATION  ", "NIKON CORPORATION"),
        ("Ca\x01n\x07on\x1b[31m", "Canon[31m"),
        ("\u202eevil\u200b", "evil"),  # invisible direction and width marks
        ("NIK\0ON", "NIK"),  # a C string ends at its NUL
        (b"Caf\xe9", "Café"),  # older cameras' 8-bit text
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),  # escaping is the page's job
        ("x" * 300, "x" * TEXT_LIMIT),
        ("   ", None),
    ],
)
def test_make_and_model_are_clean_text(raw: str | bytes, clean: str | None) -> None:
    metadata = read_metadata(photo(exif(ifd0=[text(MAKE, raw), text(MODEL, raw)])))
    assert metadata.make == metadata.model == clean


@pytest.mark.parametrize(("value", "orientation"), [(6, 6), (1, 1), (9, None), (0, None)])
def test_orientation(value: int, orientation: int | None) -> None:
    assert read_metadata(photo(exif(ifd0=[short(ORIENTATION, value)]))).orientation == orientation


EVERYTHING = exif(
    ifd0=[text(MAKE, "HUAWEI"), text(MODEL, "P30")],
    exif_ifd=[text(ORIGINAL, "2026:09:18 09:30:00"), text(OFFSET_ORIGINAL, "+08:00")],
    gps=[
        text(LAT_REF, "N"),
        rationals(LAT, (35, 1), (45, 1), (4356, 100)),
        text(LON_REF, "E"),
        rationals(LON, (109, 1), (25, 1), (3036, 100)),
    ],
)
EVERYTHING_JSON = {
    "taken_at": "2026-09-18T09:30:00+08:00",
    "lat": 35.7621,
    "lon": 109.4251,
    "make": "HUAWEI",
    "model": "P30",
}


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_photo_type_carries_its_exif(kind: str) -> None:
    assert read_metadata(photo(EVERYTHING, kind)).as_json() == EVERYTHING_JSON


def test_as_json_leaves_out_what_is_absent() -> None:
    assert PhotoMetadata().as_json() == {}
    assert PhotoMetadata(taken_at=datetime(2026, 9, 18, 9, 30), make="Jolla").as_json() == {
        "taken_at": "2026-09-18T09:30:00",
        "make": "Jolla",
    }


def chained_directories(size: int) -> bytes:
    """IFDs chained end to end, each with one tag of 999 rationals, all read from the same place:
    exifread would spend tens of seconds on 64 KB of this."""
    block, at = bytearray(b"MM\0*\0\0\0\x08"), 8
    while at + 36 <= size:
        block += struct.pack(">HHHII", 1, MAKE, RATIONAL, 999, 8) + struct.pack(">I", at + 18)
        at += 18
    return bytes(block + b"\0\0\0\0")


def wide_directory(entries: int) -> bytes:
    table = b"".join(struct.pack(">HHII", 0x9000 + i, RATIONAL, 999, 8) for i in range(entries))
    return b"MM\0*\0\0\0\x08" + struct.pack(">H", entries) + table + b"\0\0\0\0"


@pytest.mark.filterwarnings("ignore:Tag data larger than file")  # Pillow reading the JPEG's resolution
@pytest.mark.parametrize(
    ("block", "kind"),
    [
        (chained_directories(65_000), "JPEG"),
        (wide_directory(5_000), "JPEG"),
        (chained_directories(4_000_000), "PNG"),
        (chained_directories(4_000_000), "WEBP"),
    ],
    ids=["chain in jpeg", "wide in jpeg", "4 MB chain in png", "4 MB chain in webp"],
)
def test_crafted_exif_cannot_keep_the_reader_busy(block: bytes, kind: str, exif_reads: list[int]) -> None:
    data = photo(b"Exif\0\0" + block, kind)
    assert read_metadata(data).as_json() == {}
    # The reader was stopped when its reads reached the budget, which bounds its work.
    assert READ_BUDGET - 10_000 < sum(exif_reads) <= READ_BUDGET
