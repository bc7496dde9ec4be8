"""open_image and public_copies: what is taken, what is refused and why, and what the public sees."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageCms

from tests.corpus import GPS_PHOTO, read
from traceability.errors import DomainError
from traceability.photos.exif import read_metadata
from traceability.photos.images import (
    ACCEPTED_TYPES,
    DISPLAY_SIDE,
    MAX_PIXELS,
    THUMBNAIL_SIDE,
    OpenedImage,
    open_image,
    public_copies,
    sniff_media_type,
)
from traceability.web.errors import status_of


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + b"\0\0\0\x08mdat"


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"heix"), "image/heic"),
        (ftyp(b"hevc"), "image/heic"),
        (ftyp(b"mif1", b"MiHE", b"miaf", b"heic"), "image/heic"),
        (ftyp(b"mif1", b"miaf"), "image/heif"),
        (ftyp(b"msf1"), "image/heif"),
        (ftyp(b"avif", b"mif1", b"miaf"), None),
        (ftyp(b"mif1", b"avif"), None),
        (ftyp(b"isom", b"mp41"), None),  # an MP4 video
        (b"II*\x00\x08\x00\x00\x00", None),  # TIFF
        (b"GIF89a", None),
        (b"BM", None),
        (b"<html><script>alert(1)</script></html>", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_the_type_is_what_the_bytes_say(data: bytes, media_type: str | None) -> None:
    assert sniff_media_type(data) == media_type


def jpeg(size: tuple[int, int] = (640, 480), mode: str = "RGB", **save) -> bytes:
    image = Image.new(mode, size, "olive" if mode == "RGB" else 90)
    image.paste("white" if mode == "RGB" else 255, (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height RGB pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small baseline JPEG with its frame header changed to claim width × height."""
    data = bytearray(jpeg((64, 48)))
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def refused(data: bytes, **options) -> DomainError:
    with pytest.raises(DomainError) as caught:
        open_image(data, **options)
    return caught.value


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is a text file, not a photo\n",
        b"<!doctype html><html><body><script>alert(1)</script></body></html>",  # uploaded as photo.jpg
        b"%PDF-1.7\n",
        b"GIF89a\x01\x00\x01\x00",
        random.Random(7).randbytes(4096),
    ],
    ids=["empty", "text", "html named .jpg", "pdf", "gif", "random bytes"],
)
def test_files_that_are_not_photos_get_415(data: bytes) -> None:
    error = refused(data)
    assert (status_of(error), error.code) == (415, "unsupported_type")
    assert error.message == refused(b"").message


@pytest.mark.usefixtures("corpus")
def test_a_tiff_gets_415_naming_the_accepted_types() -> None:
    error = refused(read("tiff/BSG1.tiff"))
    assert (status_of(error), error.code) == (415, "unsupported_type")
    for kind in ACCEPTED_TYPES:
        assert kind.split("/")[1].upper() in error.message


@pytest.mark.parametrize("cut", [0.5, 0.1])
def test_a_truncated_jpeg_is_damaged(cut: float) -> None:
    data = GPS_PHOTO.read_bytes()
    error = refused(data[: int(len(data) * cut)])
    assert (status_of(error), error.code) == (422, "damaged_photo")


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff" + random.Random(1).randbytes(2000),
        b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(2000),
        b"RIFF\x00\x10\x00\x00WEBP" + random.Random(3).randbytes(2000),
        ftyp(b"heic") + random.Random(4).randbytes(2000),
        # exifread's HEIF walker loops forever on a box whose 64-bit size is 0.
        b"\x00\x00\x00\x01ftypheic" + b"\x00" * 8 + b"\x00\x00\x00\x01meta" + b"\x00" * 8,
    ],
    ids=["jpeg", "png", "webp", "heic", "heic box of size 0"],
)
def test_garbage_behind_a_photo_signature_is_damaged(data: bytes) -> None:
    error = refused(data)
    assert (status_of(error), error.code) == (422, "damaged_photo")
    assert read_metadata(data).as_json() == {}


@pytest.mark.parametrize(
    "data",
    [png_declaring(40_000, 40_000), png_declaring(30_000, 30_000), jpeg_declaring(60_000, 60_000)],
    ids=["png 40000²", "png 30000²", "jpeg 60000²"],
)
def test_a_decompression_bomb_is_refused_from_its_header(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(data) < 5000
    decoded: list[Image.Image] = []
    monkeypatch.setattr(Image.Image, "load", lambda image: decoded.append(image))
    error = refused(data)
    assert decoded == []  # not one pixel was decoded
    assert (status_of(error), error.code) == (413, "too_many_pixels")
    assert "pixels" in error.message


def test_our_limit_not_pillows_decides_and_warnings_as_errors_change_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 144 MP: within Pillow's hard limit, above ours.
        assert status_of(refused(png_declaring(12_000, 12_000))) == 413
        # 108 MP, a phone sensor: passes the pixel check (then fails, having no pixel data).
        assert refused(png_declaring(12_000, 9_000)).code == "damaged_photo"
    assert 12_000 * 9_000 <= MAX_PIXELS < 12_000 * 12_000


def test_the_pixel_limit_can_be_lowered() -> None:
    error = refused(GPS_PHOTO.read_bytes(), max_pixels=300_000)
    assert (status_of(error), error.code) == (413, "too_many_pixels")
    assert "640 × 480" in error.message
    assert open_image(GPS_PHOTO.read_bytes(), max_pixels=640 * 480).width == 640


def test_markup_in_exif_stays_text_and_never_reaches_the_copies() -> None:
    script = "<script>alert(1)</script>"
    exif = Image.Exif()
    exif[0x010F] = script  # Make
    exif[0x0110] = script  # Model
    exif[0x010E] = script  # ImageDescription
    data = jpeg(exif=exif)
    metadata = read_metadata(data)
    assert metadata.make == metadata.model == script
    assert metadata.as_json() == {"make": script, "model": script}
    display, thumbnail = public_copies(open_image(data))
    assert b"script" not in display and b"script" not in thumbnail


def encode(image: Image.Image, kind: str, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **save)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "media_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("HEIF", "image/heic")],
)
def test_each_accepted_type_opens(kind: str, media_type: str) -> None:
    picture = Image.open(io.BytesIO(GPS_PHOTO.read_bytes()))
    opened = open_image(encode(picture, kind, quality=80))
    assert (opened.media_type, opened.width, opened.height, opened.image.mode) == (media_type, 640, 480, "RGB")


def rgb(image: Image.Image, at: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(at)
    assert isinstance(value, tuple)
    return value


def transparent(mode: str) -> Image.Image:
    """A picture whose left half is fully transparent."""
    image = Image.new("RGBA", (200, 100), (200, 0, 0, 255))
    image.paste((0, 0, 255, 0), (0, 0, 100, 100))
    return image.convert(mode) if mode != "P" else image.quantize(colors=16, method=Image.Quantize.FASTOCTREE)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_becomes_white(mode: str) -> None:
    opened = open_image(encode(transparent(mode), "PNG"))
    assert opened.image.mode == "RGBA"
    display = Image.open(io.BytesIO(public_copies(opened)[0]))
    assert display.mode == "RGB"
    assert min(rgb(display, (20, 50))) > 245  # was transparent
    assert min(rgb(display, (180, 50))) < 100  # was opaque red, or its grey


@pytest.mark.parametrize(
    ("image", "expected_mode"),
    [
        (Image.new("L", (64, 64), 128), "L"),
        (Image.new("1", (64, 64), 1), "L"),
        (Image.new("P", (64, 64), 3), "RGB"),
        (Image.new("RGB", (64, 64), (10, 200, 30)), "RGB"),
    ],
    ids=["L", "1", "P", "RGB"],
)
def test_png_modes_become_rgb_rgba_or_l(image: Image.Image, expected_mode: str) -> None:
    opened = open_image(encode(image, "PNG"))
    assert opened.image.mode == expected_mode
    assert Image.open(io.BytesIO(public_copies(opened)[0])).mode == "RGB"


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    grey = Image.new("I;16", (64, 64), 32_768)
    grey.paste(65_535, (0, 0, 32, 64))
    opened = open_image(encode(grey, "PNG"))
    assert opened.image.mode == "L"
    assert opened.image.getpixel((48, 10)) in (127, 128) and opened.image.getpixel((10, 10)) == 255


def test_cmyk_jpeg_becomes_rgb() -> None:
    opened = open_image(encode(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG"))
    assert opened.image.mode == "RGB"
    red, green, blue = rgb(opened.image, (32, 32))
    assert red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize("mode", ["P", "CMYK", "I;16", "LA", "RGBa"])
def test_public_copies_take_any_mode(mode: str) -> None:
    image = Image.new("RGB", (300, 200), (30, 120, 220)).convert(mode)
    display, thumbnail = public_copies(OpenedImage("image/png", 300, 200, image))
    assert Image.open(io.BytesIO(display)).size == (300, 200)
    assert Image.open(io.BytesIO(thumbnail)).mode == "RGB"


def test_copies_are_never_enlarged_and_keep_their_shape() -> None:
    display, thumbnail = public_copies(open_image(jpeg((100, 75))))
    assert Image.open(io.BytesIO(display)).size == Image.open(io.BytesIO(thumbnail)).size == (100, 75)
    display, thumbnail = public_copies(open_image(jpeg((3000, 1000))))
    assert Image.open(io.BytesIO(display)).size == (DISPLAY_SIDE, 533)
    assert Image.open(io.BytesIO(thumbnail)).size == (THUMBNAIL_SIDE, 107)


@pytest.mark.usefixtures("corpus")
def test_a_display_p3_photo_is_shown_in_srgb() -> None:
    display_p3 = Image.open(io.BytesIO(read("heic/mobile/iphone_13_pro_max.HEIC"))).info["icc_profile"]
    opened = open_image(encode(Image.new("RGB", (16, 16), (200, 100, 50)), "PNG", icc_profile=display_p3))
    assert rgb(opened.image, (8, 8)) == pytest.approx((215, 93, 31), abs=3)


def test_colour_profiles_are_applied_then_dropped_and_a_broken_one_is_ignored() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (
        srgb,
        b"not an ICC profile" * 10,
        ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes(),
    ):
        opened = open_image(jpeg(icc_profile=profile))
        assert not opened.image.info
        display = Image.open(io.BytesIO(public_copies(opened)[0]))
        assert "icc_profile" not in display.info
        assert max(abs(a - b) for a, b in zip(rgb(display, (10, 10)), (128, 128, 0), strict=True)) < 12
