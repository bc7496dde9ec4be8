"""Every file of the real-photo corpus, the ones that once crashed EXIF readers included, is
either a photo or a clear 4xx; its public copies are upright and carry no metadata."""

from __future__ import annotations

import io

import exifread
import numpy as np
import pytest
from PIL import Image

from tests.corpus import ORIENTATION, corpus_files, read
from traceability.errors import DomainError
from traceability.photos.exif import READ_BUDGET, read_metadata
from traceability.photos.images import DISPLAY_SIDE, THUMBNAIL_SIDE, OpenedImage
from traceability.web.errors import status_of

pytestmark = pytest.mark.usefixtures("corpus")

FILES = corpus_files()
# TIFF is not an upload type; every other corpus file is a photo we take.
REFUSED = {name: (415, "unsupported_type") for name in FILES if name.startswith("tiff/")}
# JPEG markers allowed in a public copy: SOI, APP0 (JFIF), DQT, SOF0/SOF2, DHT, SOS. No APPn, no COM.
COPY_MARKERS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDA}


def test_the_whole_corpus_is_here() -> None:
    # ianare/exif-samples' jpg/, heic/ and tiff/ less the three files SOURCE.md lists as absent.
    assert len(FILES) == 100


@pytest.mark.parametrize("name", FILES)
def test_metadata_reads_little_and_never_raises(name: str, exif_reads: list[int]) -> None:
    metadata = read_metadata(read(name))
    assert isinstance(metadata.as_json(), dict)
    # A real photo's EXIF is read well within the budget that stops crafted ones.
    assert sum(exif_reads) < READ_BUDGET / 10


@pytest.mark.parametrize("name", FILES)
def test_a_file_is_a_photo_or_a_clear_refusal(name: str, outcomes: dict[str, OpenedImage | Exception]) -> None:
    answer = outcomes[name]
    if isinstance(answer, Exception):
        assert isinstance(answer, DomainError), f"{name} raised {answer!r}"
        assert status_of(answer) in (413, 415, 422) and answer.message
        return
    assert answer.media_type in ("image/jpeg", "image/heic", "image/heif")
    assert answer.image.mode in ("RGB", "RGBA", "L")
    assert not answer.image.info
    assert answer.width >= answer.image.width > 0 and answer.height >= answer.image.height > 0


def test_only_the_tiffs_are_refused_and_told_what_to_send(outcomes: dict[str, OpenedImage | Exception]) -> None:
    refused = {name: answer for name, answer in outcomes.items() if isinstance(answer, DomainError)}
    assert {name: (status_of(answer), answer.code) for name, answer in refused.items()} == REFUSED
    for answer in refused.values():
        assert all(kind in answer.message for kind in ("JPEG", "PNG", "WEBP", "HEIC", "HEIF"))


def test_large_photos_are_decoded_small_but_report_their_true_size(opened: dict[str, OpenedImage]) -> None:
    phone = opened["jpg/mobile/HMD_Nokia_8.3_5G.jpg"]
    assert (phone.width, phone.height) == (4608, 1976)
    assert DISPLAY_SIDE <= max(phone.image.size) < 2 * DISPLAY_SIDE
    # Orientation 6 on a 2048 × 1536 sensor image: upright it is portrait.
    turned = opened["jpg/hdr/canon_hdr_NO.jpg"]
    assert (turned.width, turned.height) == (1536, 2048)
    assert turned.image.height > turned.image.width
    # libheif applies the HEIC rotation itself; EXIF says 6, and it must not be applied twice.
    iphone = opened["heic/mobile/iphone_13_pro_max.HEIC"]
    assert (iphone.media_type, iphone.width, iphone.height) == ("image/heic", 3024, 4032)


@pytest.mark.parametrize("name", [name for name in FILES if name not in REFUSED])
def test_public_copies_are_small_jpegs_without_metadata(
    name: str, copies: dict[str, tuple[bytes, bytes]], opened: dict[str, OpenedImage]
) -> None:
    original = opened[name]
    for copy, side in zip(copies[name], (DISPLAY_SIDE, THUMBNAIL_SIDE), strict=True):
        assert _markers(copy) <= COPY_MARKERS
        assert exifread.process_file(io.BytesIO(copy), details=False) == {}
        with Image.open(io.BytesIO(copy)) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            assert not image.getexif()
            assert not {"exif", "icc_profile", "xmp", "comment", "photoshop", "adobe"} & set(image.info)
            assert max(image.size) <= min(side, max(original.width, original.height))
            # Upright: the copy has the upright photo's shape, up to rounding.
            assert (
                abs(image.width * original.height - image.height * original.width) <= original.width + original.height
            )


def test_phone_photos_get_a_full_size_display_copy(copies: dict[str, tuple[bytes, bytes]]) -> None:
    for name in ("jpg/mobile/HMD_Nokia_8.3_5G.jpg", "jpg/mobile/jolla.jpg", "heic/mobile/iphone_13_pro_max.HEIC"):
        display, thumbnail = (Image.open(io.BytesIO(copy)) for copy in copies[name])
        assert max(display.size) == DISPLAY_SIDE and max(thumbnail.size) == THUMBNAIL_SIDE


@pytest.mark.parametrize("shape", ["landscape", "portrait"])
def test_all_eight_orientations_come_out_the_same_way_up(shape: str, copies: dict[str, tuple[bytes, bytes]]) -> None:
    for which in (0, 1):  # display, then thumbnail
        upright = _grey(copies[f"{ORIENTATION}{shape}_1.jpg"][which])
        for orientation in range(2, 9):
            other = _grey(copies[f"{ORIENTATION}{shape}_{orientation}.jpg"][which])
            assert _difference(other, upright) < 3, f"{shape}_{orientation}"
        for wrong in (Image.Transpose.ROTATE_180, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM):
            assert _difference(_grey(copies[f"{ORIENTATION}{shape}_1.jpg"][which], wrong), upright) > 20


def _markers(jpeg: bytes) -> set[int]:
    """The markers of a JPEG's segments, up to the start of the scan."""
    markers, at = {jpeg[1]}, 2
    while at < len(jpeg):
        assert jpeg[at] == 0xFF, "segments must follow each other"
        marker = jpeg[at + 1]
        markers.add(marker)
        if marker == 0xDA:
            return markers
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    raise AssertionError("no scan in the JPEG")


def _grey(jpeg: bytes, transpose: Image.Transpose | None = None) -> np.ndarray:
    image = Image.open(io.BytesIO(jpeg)).convert("L")
    if transpose is not None:
        image = image.transpose(transpose)
    return np.asarray(image.resize((32, 32), Image.Resampling.BILINEAR), dtype=float)


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())
