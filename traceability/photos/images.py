"""What a photo file is, its upright pixels, its public copies and its perceptual hash."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import imagehash
import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageOps

from ..errors import Invalid, TooLarge, Unsupported

ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
# A 108 MP phone sensor passes; a decompression bomb does not.
MAX_PIXELS = 120_000_000
DISPLAY_SIDE = 1600
THUMBNAIL_SIDE = 320
DISPLAY_QUALITY = 82
THUMBNAIL_QUALITY = 75
NEAR_DUPLICATE_DISTANCE = 22

_ACCEPTED_NAMES = (
    ", ".join(kind.split("/")[1].upper() for kind in ACCEPTED_TYPES[:-1])
    + " or "
    + ACCEPTED_TYPES[-1].split("/")[1].upper()
)
# The one Pillow plugin allowed to parse each accepted type: hostile bytes never reach the others.
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"hevs"})
# HEIF's structural brands; the codec inside is told by the compatible brands that follow.
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
# AV1 in a HEIF box: this libheif has no AV1 decoder, so such a file is not one we accept.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# One 64-bit hash cannot tell a slightly cropped copy from another photo: a 5% crop moves as many
# bits as a different scene. So the hash also covers views of the picture trimmed (left, top,
# right, bottom) by 4, 8 or 12% on one side or all round; a copy cropped by up to about an eighth
# lines up with one of them. Measured on the corpus in tests/photos/test_near_duplicates.py.
_VIEWS = (
    (0.0, 0.0, 0.0, 0.0),
    *(
        view
        for t in (0.04, 0.08, 0.12)
        for view in (
            (t, 0.0, 0.0, 0.0),
            (0.0, t, 0.0, 0.0),
            (0.0, 0.0, t, 0.0),
            (0.0, 0.0, 0.0, t),
            (t / 2, t / 2, t / 2, t / 2),
        )
    ),
)
_VIEW_HEX = 32  # phash + dhash, 64 bits each
_HASH_FORMAT = re.compile(f"[0-9a-f]{{{len(_VIEWS) * _VIEW_HEX}}}")
# Views are hashed from a copy this size: enough detail for a 32 × 32 DCT, and quick.
_HASH_SIDE = 256
_AVERAGEABLE_MODES = ("L", "LA", "RGB", "RGBA", "CMYK")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

pillow_heif.register_heif_opener()
# Pillow's own bomb guard runs inside Image.open, before open_image sees the header; at its default
# (89 MP) it would warn about, or with warnings as errors refuse, the photos MAX_PIXELS admits.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class OpenedImage:
    """A decoded photo. `width` and `height` are its full size, upright; `image` holds the pixels
    upright, in sRGB, as RGB, RGBA or L, without metadata, and only as large as the copies need
    (a large photo is decoded or reduced to no less than DISPLAY_SIDE on its long side)."""

    media_type: str
    width: int
    height: int
    image: Image.Image


def sniff_media_type(data: bytes) -> str | None:
    """The accepted type the bytes are, by their magic numbers alone, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return _heif_type(data)
    return None


def _heif_type(data: bytes) -> str | None:
    major = data[8:12]
    # Compatible brands fill the rest of the ftyp box; a real list is short, so a huge declared size reads no further.
    end = min(int.from_bytes(data[:4], "big"), len(data), 1024)
    brands = {data[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _HEVC_BRANDS:
        return "image/heic"
    if major in _HEIF_BRANDS:
        if brands & _HEVC_BRANDS:
            return "image/heic"
        if not brands & _AVIF_BRANDS:
            return "image/heif"
    return None


def open_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> OpenedImage:
    """Decode an uploaded photo. Raises Unsupported if it is not an accepted type, TooLarge if
    its header declares more than `max_pixels` (decided before decoding), Invalid if it is damaged."""
    media_type = sniff_media_type(data)
    if media_type is None:
        raise Unsupported(
            "unsupported_type",
            f"this file is not a photo we can take: send a {_ACCEPTED_NAMES} picture (phones save JPEG or HEIC)",
        )
    try:
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:  # a parser fed hostile bytes may fail in any way; every way means "damaged"
        raise _damaged() from exc
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels, f"{width} × {height} pixels, ")
    try:
        if media_type == "image/jpeg":
            # Decode at 1/2, 1/4 or 1/8 scale when the copies need no more. JPEG only: pillow-heif's
            # draft swaps in the file's embedded thumbnail, which need not show what the photo shows.
            image.draft(None, _fitted(image.size, DISPLAY_SIDE))
        image.load()
        turned = _turn_upright(image)
        pixels = _normalized(_reduced(image))
    except MemoryError as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:  # as above: the decoder's failures are the file's
        raise _damaged() from exc
    if turned:
        width, height = height, width
    return OpenedImage(media_type, width, height, pixels)


def public_copies(opened: OpenedImage) -> tuple[bytes, bytes]:
    """(display, thumbnail): upright JPEGs of at most DISPLAY_SIDE and THUMBNAIL_SIDE pixels on
    the long side, never enlarged, carrying no metadata at all (no EXIF, GPS, XMP, ICC or comment)."""
    flat = _flattened(opened.image)
    display = flat.resize(_fitted(flat.size, DISPLAY_SIDE), Image.Resampling.LANCZOS)
    thumbnail = display.resize(_fitted(display.size, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return _jpeg(display, DISPLAY_QUALITY), _jpeg(thumbnail, THUMBNAIL_QUALITY)


def perceptual_hash(opened: OpenedImage) -> str:
    """Hex of imagehash's phash and dhash (64 bits each) of the whole picture, then of each trimmed view."""
    grey = _flattened(opened.image).convert("L")
    grey.thumbnail((_HASH_SIDE, _HASH_SIDE), Image.Resampling.LANCZOS)
    return "".join(_view_hash(grey, trims) for trims in _VIEWS)


def hash_distance(a: str, b: str) -> int:
    """Bits that differ between one picture as a whole and the closest view of the other, taken
    both ways round: small for a recompressed, resized or slightly cropped copy. ValueError if
    either is not a hash from perceptual_hash."""
    views_a, views_b = _hash_views(a), _hash_views(b)
    return min(
        min((views_a[0] ^ view).bit_count() for view in views_b),
        min((view ^ views_b[0]).bit_count() for view in views_a),
    )


def _too_many_pixels(max_pixels: int, size: str = "") -> TooLarge:
    return TooLarge(
        "too_many_pixels",
        f"this photo is too large to process ({size}more than {max_pixels / 1e6:g} million pixels): send a smaller copy",
    )


def _damaged() -> Invalid:
    return Invalid(
        "damaged_photo",
        "this photo could not be read: the file is damaged or incomplete; send it again straight from the camera or gallery",
    )


def _fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` scaled down (never up) so its long side is at most `side`."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _turn_upright(image: Image.Image) -> bool:
    """Apply the EXIF orientation in place; True when that swapped width and height."""
    try:
        turned = image.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8)
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:  # noqa: BLE001  (unreadable EXIF: the pixels are sound, only their orientation is unknown)
        return False
    return turned


def _reduced(image: Image.Image) -> Image.Image:
    """Shrink by a whole factor to no less than DISPLAY_SIDE, as JPEG's draft mode does while decoding,
    so that colour conversion works on no more pixels than needed. Palette, bilevel and 16-bit pixels
    cannot be averaged; they are rare in photos and keep their size."""
    factor = max(image.size) // DISPLAY_SIDE
    return image.reduce(factor) if factor > 1 and image.mode in _AVERAGEABLE_MODES else image


def _normalized(image: Image.Image) -> Image.Image:
    """RGB, RGBA or L pixels in sRGB, with no metadata left on them."""
    grey = image.mode in ("1", "L") or image.mode.startswith("I")
    mode = "L" if grey else "RGBA" if image.has_transparency_data else "RGB"
    if image.mode == mode and not image.info:
        return image
    if image.mode.startswith("I"):
        image = image.point(lambda value: value / 257)  # 16-bit grey: convert() would clip at 255, not scale
    normalized = _in_srgb(image, mode)
    normalized.info.clear()
    return normalized


def _in_srgb(image: Image.Image, mode: str) -> Image.Image:
    """Convert to `mode`, through the embedded colour profile when there is one (a phone's Display P3
    or a print CMYK would otherwise look washed out or wrong once the profile is stripped)."""
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            return ImageCms.buildTransform(io.BytesIO(profile), _SRGB, image.mode, mode).apply(image)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: show the pixels as stored
    return image.convert(mode)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB on a white ground, as a JPEG needs; a fresh image, so no metadata can ride along."""
    image = _normalized(image)
    canvas = Image.new("RGB", image.size, "white")
    canvas.paste(image, mask=image.getchannel("A") if image.mode == "RGBA" else None)
    return canvas


def _view_hash(grey: Image.Image, trims: tuple[float, float, float, float]) -> str:
    width, height = grey.size
    left, top, right, bottom = trims
    view = grey.crop((int(width * left), int(height * top), width - int(width * right), height - int(height * bottom)))
    return f"{imagehash.phash(view)}{imagehash.dhash(view)}"


def _hash_views(perceptual: str) -> list[int]:
    if not _HASH_FORMAT.fullmatch(perceptual):
        raise ValueError("not a perceptual hash made by perceptual_hash()")
    return [int(perceptual[i : i + _VIEW_HEX], 16) for i in range(0, len(perceptual), _VIEW_HEX)]


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
