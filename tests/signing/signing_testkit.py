"""Shared helpers for the signing tests: where the shared vectors live, and Hypothesis settings.

The vectors are read in place from `shared/`, a sibling of the repository root
(/work/shared next to /work/main), not copied.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
MERKLE_TESTDATA = SHARED / "vectors" / "merkle" / "testdata"

# Offline and reproducible: the same examples on every run, nothing saved to disk.
DETERMINISTIC = settings(derandomize=True, database=None, deadline=None)
# For the tamper and mutation properties, where each example checks one random change.
THOROUGH = settings(DETERMINISTIC, max_examples=500)


def merkle_fixture_files(family: str) -> list[Path]:
    """Every JSON fixture of one transparency-dev/merkle family ("inclusion" or "consistency")."""
    directory = MERKLE_TESTDATA / family
    if not directory.is_dir():
        raise FileNotFoundError(
            f"Merkle test vectors not found at {directory}: the shared vectors must be checked "
            f"out as {SHARED}, next to the repository root {REPO_ROOT}"
        )
    return sorted(directory.rglob("*.json"))
