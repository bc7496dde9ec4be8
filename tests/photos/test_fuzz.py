"""Random bytes, and corpus photos with bytes changed, cut or inserted: open_image answers a photo
or a refusal that the API answers with a 4xx, read_metadata always answers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpus import CORPUS, GPS_PHOTO, corpus_files, size
from traceability.errors import DomainError
from traceability.photos.exif import read_metadata
from traceability.photos.images import open_image, perceptual_hash, public_copies
from traceability.web.errors import status_of

# Small photos keep a hundred examples within a few seconds; between them they carry every kind of
# header, EXIF and maker note the corpus has that small.
# Without the corpus, the photo the project carries stands in for them.
SMALL = (
    [CORPUS / name for name in corpus_files() if not name.startswith("tiff/") and size(name) < 120_000]
    if CORPUS is not None
    else [GPS_PHOTO]
)
SIGNATURES = [
    b"",
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x00\x10\x00\x00WEBPVP8X",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
]
# Headers and EXIF sit in the first few kilobytes: that is where changes find the parsers' corners.
HEAD = 8192


@st.composite
def photo_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(st.sampled_from(SIGNATURES)) + draw(st.binary(max_size=4096))
    data = bytearray(draw(st.sampled_from(SMALL)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, min(len(data), HEAD)))
        change = draw(st.sampled_from(["overwrite", "insert", "cut", "truncate"]))
        if change == "overwrite":
            patch = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(patch)] = patch
        elif change == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif change == "cut":
            del data[at : at + draw(st.integers(1, 256))]
        else:
            del data[draw(st.integers(at, len(data))) :]
    return bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on the corrupt EXIF it skips
@settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(photo_bytes())
def test_any_bytes_get_a_photo_or_a_clear_refusal(data: bytes) -> None:
    assert isinstance(read_metadata(data).as_json(), dict)
    refused: DomainError | None = None
    try:
        opened = open_image(data)
    except DomainError as error:
        refused = error
    if refused is not None:
        assert status_of(refused) in (413, 415, 422)
        return
    display, thumbnail = public_copies(opened)
    assert display.startswith(b"\xff\xd8\xff") and thumbnail.startswith(b"\xff\xd8\xff")
    assert perceptual_hash(opened)
