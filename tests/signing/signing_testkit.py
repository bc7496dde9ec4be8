"""Helpers for the signing tests: where the vectors live (tests/data, see its README), and
Hypothesis settings."""

from __future__ import annotations

from pathlib import Path

from hypothesis import settings

MERKLE_TESTDATA = Path(__file__).resolve().parents[1] / "data" / "merkle"

# Offline and reproducible: the same examples on every run, nothing saved to disk.
DETERMINISTIC = settings(derandomize=True, database=None, deadline=None)
# For the tamper and mutation properties, where each example checks one random change.
THOROUGH = settings(DETERMINISTIC, max_examples=500)


def merkle_fixture_files(family: str) -> list[Path]:
    """Every JSON fixture of one transparency-dev/merkle family ("inclusion" or "consistency")."""
    return sorted((MERKLE_TESTDATA / family).rglob("*.json"))
