"""Perceptual hashes on the corpus: copies of a photo are near-duplicates, other photos are not.

Copies are made the way a copier would: from the public display copy (here at most 640 px),
recompressed, halved, or cropped, then uploaded again. False positives are counted over every
pair of distinct corpus photos that open, leaving out the orientation set (one scene eight
times) and the two HDR pairs (one scene shot twice, seconds apart).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from itertools import combinations

import numpy as np
import pytest
from PIL import Image

from tests.corpus import NEAR_COPIES, ORIENTATION, corpus_files
from traceability.photos.images import (
    NEAR_DUPLICATE_DISTANCE,
    OpenedImage,
    hash_distance,
    open_image,
    perceptual_hash,
)

pytestmark = pytest.mark.usefixtures("corpus")

PHOTOS = [name for name in corpus_files() if not name.startswith(("tiff/", ORIENTATION))]
# A picture with (almost) no contrast shows nothing to recognise: its hash is noise, so
# recompressing it moves the hash as much as another picture would. These two are a blank grey
# frame and a near-black strip; test_featureless_pictures measures that they are the only ones.
FEATURELESS = {"jpg/invalid/image01713.jpg", "jpg/tests/67-0_length_string.jpg"}
FEATURELESS_CONTRAST = 8  # standard deviation of a 32 × 32 grey version, out of 255


def _jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _cropped(left: float, top: float, right: float, bottom: float) -> Callable[[Image.Image], bytes]:
    def crop(image: Image.Image) -> bytes:
        width, height = image.size
        box = (round(width * left), round(height * top), width - round(width * right), height - round(height * bottom))
        return _jpeg(image.crop(box))

    return crop


COPIES: dict[str, Callable[[Image.Image], bytes]] = {
    "JPEG quality 50": lambda image: _jpeg(image, 50),
    "JPEG quality 60": lambda image: _jpeg(image, 60),
    "JPEG quality 70": lambda image: _jpeg(image, 70),
    "half size": lambda image: _jpeg(
        image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.LANCZOS)
    ),
    "5% off each edge": _cropped(0.05, 0.05, 0.05, 0.05),
    "8% off the left": _cropped(0.08, 0, 0, 0),
    "8% off the top": _cropped(0, 0.08, 0, 0),
    "8% off the right": _cropped(0, 0, 0.08, 0),
    "8% off the bottom": _cropped(0, 0, 0, 0.08),
}


@pytest.fixture(scope="module")
def hashes(opened: dict[str, OpenedImage]) -> dict[str, str]:
    return {name: perceptual_hash(opened[name]) for name in PHOTOS}


def test_featureless_pictures(opened: dict[str, OpenedImage]) -> None:
    def contrast(image: Image.Image) -> float:
        return float(np.asarray(image.convert("L").resize((32, 32)), dtype=float).std())

    assert {name for name in PHOTOS if contrast(opened[name].image) < FEATURELESS_CONTRAST} == FEATURELESS


@pytest.mark.parametrize("name", [name for name in PHOTOS if name not in FEATURELESS])
def test_copies_of_a_photo_are_near_duplicates(
    name: str, hashes: dict[str, str], copies: dict[str, tuple[bytes, bytes]]
) -> None:
    display, thumbnail = copies[name]
    source = Image.open(io.BytesIO(display))
    source.thumbnail((640, 640))
    made = {"public display copy": display, "public thumbnail": thumbnail} | {
        how: copy(source) for how, copy in COPIES.items()
    }
    distances = {how: hash_distance(hashes[name], perceptual_hash(open_image(data))) for how, data in made.items()}
    assert max(distances.values()) <= NEAR_DUPLICATE_DISTANCE, distances


def test_different_photos_are_not_near_duplicates(hashes: dict[str, str]) -> None:
    distances = sorted(
        (hash_distance(hashes[a], hashes[b]), a, b)
        for a, b in combinations(sorted(hashes), 2)
        if frozenset({a, b}) not in NEAR_COPIES
    )
    assert len(distances) == 2924
    assert [pair for pair in distances if pair[0] <= NEAR_DUPLICATE_DISTANCE] == []
    # Not just below the line: the closest two different photos are well clear of it.
    assert distances[0][0] >= NEAR_DUPLICATE_DISTANCE + 8, distances[:3]


def test_the_distance_is_a_symmetric_bit_count(hashes: dict[str, str]) -> None:
    a, b = hashes["jpg/gps/DSCN0010.jpg"], hashes["jpg/gps/DSCN0012.jpg"]
    assert hash_distance(a, a) == 0
    assert hash_distance(a, b) == hash_distance(b, a) > 0
    assert len(a) == len(b) == 512 and int(a, 16) >= 0  # 16 views × 128 bits, in lowercase hex


def test_the_hash_depends_on_the_picture_only(opened: dict[str, OpenedImage]) -> None:
    photo = opened["jpg/gps/DSCN0010.jpg"]
    again = OpenedImage("image/png", 1, 1, photo.image.copy())
    assert perceptual_hash(again) == perceptual_hash(photo)


@pytest.mark.parametrize("bad", ["", "zz", "0" * 31, "g" * 512])
def test_a_malformed_hash_is_a_value_error(bad: str, hashes: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="perceptual hash"):
        hash_distance(hashes["jpg/gps/DSCN0010.jpg"], bad)
