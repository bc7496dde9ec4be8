"""Test data: what the project carries (`tests/data`, see its README) and the photo corpus it
does not (ianare/exif-samples, 32 MB), found through SUYUAN_TEST_CORPUS.

A test that reads the corpus asks for the `corpus` fixture (or calls `read`/`corpus_files`,
whose tests do): without the corpus it is skipped with the one line below, and in CI
(`CI=true`) it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
# A real phone photo with GPS and capture time (Nikon Coolpix, 2008-10-22, near Bologna).
GPS_PHOTO = DATA / "photos" / "DSCN0010.jpg"

_BESIDE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "exif-samples"
_GIVEN = Path(os.environ["SUYUAN_TEST_CORPUS"]) if os.environ.get("SUYUAN_TEST_CORPUS") else _BESIDE
CORPUS: Path | None = _GIVEN if _GIVEN.is_dir() else None
MISSING = (
    "the photo corpus is not here: set SUYUAN_TEST_CORPUS to a checkout of ianare/exif-samples "
    "at 5332a9cf (see tests/data/README.md)"
)
# Stands for the corpus's files in parametrized tests when it is missing, so that each such
# test is collected once and skipped by the `corpus` fixture.
ABSENT = "(corpus missing)"

# One scene, written with EXIF orientation 1 to 8.
ORIENTATION = "jpg/orientation/"
# The same scene shot twice, seconds apart, with and without HDR: true near-copies.
NEAR_COPIES = (
    frozenset({"jpg/hdr/canon_hdr_NO.jpg", "jpg/hdr/canon_hdr_YES.jpg"}),
    frozenset({"jpg/hdr/iphone_hdr_NO.jpg", "jpg/hdr/iphone_hdr_YES.jpg"}),
)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if CORPUS is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING, pytrace=False)
        pytest.skip(MISSING)
    return CORPUS


def corpus_files() -> list[str]:
    """Every file of the corpus, relative to it (only `ABSENT` when the corpus is missing)."""
    if CORPUS is None:
        return [ABSENT]
    return sorted(
        str(path.relative_to(CORPUS))
        for path in CORPUS.rglob("*")
        if path.is_file() and path.name not in ("README", "SOURCE.md")
    )


def size(name: str) -> int:
    return (CORPUS / name).stat().st_size if CORPUS is not None else 0


def read(name: str) -> bytes:
    assert CORPUS is not None, "a test reading the corpus must use the `corpus` fixture"
    return (CORPUS / name).read_bytes()
