"""Each corpus photo is decoded once per run; several test modules look at the results."""

from __future__ import annotations

import pytest

from tests.corpus import corpus_files, read
from traceability.photos import exif
from traceability.photos.images import OpenedImage, open_image, public_copies


@pytest.fixture(scope="session")
def outcomes(corpus) -> dict[str, OpenedImage | Exception]:
    """open_image's answer for every corpus file: the photo, or what it raised."""
    answers: dict[str, OpenedImage | Exception] = {}
    for name in corpus_files():
        try:
            answers[name] = open_image(read(name))
        except Exception as exc:  # noqa: BLE001  (recorded, for test_corpus to judge)
            answers[name] = exc
    return answers


@pytest.fixture(scope="session")
def opened(outcomes: dict[str, OpenedImage | Exception]) -> dict[str, OpenedImage]:
    return {name: answer for name, answer in outcomes.items() if isinstance(answer, OpenedImage)}


@pytest.fixture(scope="session")
def copies(opened: dict[str, OpenedImage]) -> dict[str, tuple[bytes, bytes]]:
    """The (display, thumbnail) public copies of every corpus photo that opens."""
    return {name: public_copies(image) for name, image in opened.items()}


@pytest.fixture
def exif_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """What each read exifread makes through read_metadata's budget costs (its bytes and the
    per-call overhead), in order: the reader's work, measured by what it reads, not by a clock."""
    costs: list[int] = []
    read = exif._BudgetedFile.read

    def counted(self: exif._BudgetedFile, size: int | None = -1) -> bytes:
        chunk = read(self, size)  # refuses, before it is counted, a read beyond the budget
        costs.append(len(chunk) + exif.READ_OVERHEAD)
        return chunk

    monkeypatch.setattr(exif._BudgetedFile, "read", counted)
    return costs
