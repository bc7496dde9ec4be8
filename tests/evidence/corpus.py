"""The shared photo corpus (../shared/corpus/exif-samples): where it is and what it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "exif-samples"
# One scene, written with EXIF orientation 1 to 8.
ORIENTATION = "jpg/orientation/"
# The same scene shot twice, seconds apart, with and without HDR: true near-copies.
NEAR_COPIES = (
    frozenset({"jpg/hdr/canon_hdr_NO.jpg", "jpg/hdr/canon_hdr_YES.jpg"}),
    frozenset({"jpg/hdr/iphone_hdr_NO.jpg", "jpg/hdr/iphone_hdr_YES.jpg"}),
)


def corpus_files() -> list[str]:
    """Every file of the corpus, relative to it. Fails the run when the corpus is missing."""
    if not CORPUS.is_dir():
        pytest.fail(
            f"the photo corpus is missing: expected {CORPUS} (a copy of ianare/exif-samples, see SOURCE.md)",
            pytrace=False,
        )
    return sorted(
        str(path.relative_to(CORPUS))
        for path in CORPUS.rglob("*")
        if path.is_file() and path.name not in ("README", "SOURCE.md")
    )


def read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()
