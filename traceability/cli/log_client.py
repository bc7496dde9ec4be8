"""The log's public endpoints (protocol §2) as a verifier reads them.

Each answer's shape is checked here, so that a server answering nonsense fails with the
endpoint named, never with a traceback. What the answers prove is for the callers to check:
nothing here trusts the server.
"""

from __future__ import annotations

from typing import Any

import httpx

from signing.b64 import decode_strict
from signing.errors import VerificationError

PAGE = 1000  # entries per request: the most the server answers (protocol §2)


def get(client: httpx.Client, path: str, params: dict[str, int] | None = None) -> httpx.Response:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise VerificationError(f"cannot reach the server for {path}: {exc}") from None
    if response.status_code != 200:
        raise VerificationError(f"{path} answered HTTP {response.status_code}: {response.text[:200]}")
    return response


def get_json(client: httpx.Client, path: str, params: dict[str, int]) -> Any:
    try:
        return get(client, path, params).json()
    except ValueError:
        raise VerificationError(f"{path} did not answer JSON") from None


def entries(client: httpx.Client, start: int, end: int) -> list:
    """The served entries start <= i < end (at most one page), still base64: see `decode_entry`."""
    page = get_json(client, "/log/entries", {"start": start, "end": end})
    if not isinstance(page, dict) or page.get("start") != start or not isinstance(page.get("entries"), list):
        raise VerificationError(f"/log/entries?start={start} did not answer a page of entries")
    return page["entries"][: end - start]


def decode_entry(index: int, encoded: object) -> bytes:
    return decode_strict(encoded, f"entry {index}")


def inclusion_proof(client: httpx.Client, index: int, size: int) -> tuple[bytes, list[bytes]]:
    """The leaf hash and the proof the server serves for entry `index` in the tree of `size`."""
    where = f"/log/proof/inclusion?index={index}&size={size}"
    answer = get_json(client, "/log/proof/inclusion", {"index": index, "size": size})
    if not isinstance(answer, dict) or (answer.get("index"), answer.get("size")) != (index, size):
        raise VerificationError(f"{where} did not answer the proof it was asked for")
    return decode_strict(answer.get("leaf_hash"), f"{where}: leaf_hash"), _hashes(answer, where)


def consistency_proof(client: httpx.Client, old: int, new: int) -> list[bytes]:
    """The proof the server serves that its tree of `new` entries extends that of `old`."""
    where = f"/log/proof/consistency?old={old}&new={new}"
    answer = get_json(client, "/log/proof/consistency", {"old": old, "new": new})
    if not isinstance(answer, dict) or (answer.get("old"), answer.get("new")) != (old, new):
        raise VerificationError(f"{where} did not answer the proof it was asked for")
    return _hashes(answer, where)


def _hashes(answer: dict, where: str) -> list[bytes]:
    proof = answer.get("proof")
    if not isinstance(proof, list):
        raise VerificationError(f"{where}: proof is not a list of hashes")
    return [decode_strict(h, f"{where}: proof[{i}]") for i, h in enumerate(proof)]
