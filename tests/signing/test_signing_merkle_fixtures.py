"""transparency-dev/merkle's cross-language proof fixtures (commit 417fb0c, Apache-2.0).

Every file under testdata/inclusion and testdata/consistency; the subtree
families belong to the Merkle Tree Certificates draft, not RFC 9162.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from signing.errors import VerificationError
from signing.merkle import verify_consistency, verify_inclusion
from tests.signing.signing_testkit import MERKLE_TESTDATA, merkle_fixture_files

INCLUSION = merkle_fixture_files("inclusion")
CONSISTENCY = merkle_fixture_files("consistency")


def _name(path: Path) -> str:
    return str(path.relative_to(MERKLE_TESTDATA))


def _load(path: Path) -> tuple[dict[str, Any], list[bytes]]:
    case = json.loads(path.read_text())
    # Go marshals an empty [][]byte as null.
    return case, [base64.b64decode(p) for p in case["proof"] or []]


def test_all_fixtures_are_found() -> None:
    assert (len(INCLUSION), len(CONSISTENCY)) == (98, 98)


@pytest.mark.parametrize("path", INCLUSION, ids=_name)
def test_inclusion_fixture(path: Path) -> None:
    case, proof = _load(path)

    def verify() -> None:
        verify_inclusion(
            base64.b64decode(case["leafHash"]),
            case["leafIdx"],
            case["treeSize"],
            proof,
            base64.b64decode(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(VerificationError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", CONSISTENCY, ids=_name)
def test_consistency_fixture(path: Path) -> None:
    case, proof = _load(path)

    def verify() -> None:
        verify_consistency(
            case["size1"],
            case["size2"],
            proof,
            base64.b64decode(case["root1"]),
            base64.b64decode(case["root2"]),
        )

    if case["wantErr"]:
        with pytest.raises(VerificationError):
            verify()
    else:
        verify()
