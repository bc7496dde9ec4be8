"""The log's public endpoints (protocol §2, §10) as a verifier reads them.

Each answer's shape is checked here, so that a server answering nonsense fails with the
endpoint named, never with a traceback. What the answers prove is for the callers to check:
nothing here trusts the server.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from signing.b64 import decode_strict
from signing.errors import VerificationError
from signing.tiles import TILE_WIDTH, Tile, unbundle

PAGE = 1000  # entries per request: the most the server answers (protocol §2)
BUNDLES_PER_PAGE = 4  # entries read from tile/entries bundles come in pages of 1,024


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
    """An entry as read: raw from a bundle, base64 from `/log/entries`."""
    if isinstance(encoded, bytes):
        return encoded
    return decode_strict(encoded, f"entry {index}")


class EntryReader:
    """The entries of the tree of `size`, from `tile/entries` bundles (protocol §10) while the
    server serves them, otherwise from `/log/entries`.

    Bundles are fewer requests (256 entries each), and all but the last are immutable, so a
    cache or a CDN answers them. Whichever way they come, the caller checks every entry and
    that they hash to the checkpoint's root: nothing here trusts the server. A page whose
    bundles do not come whole is read again from `/log/entries`, so that a missing or broken
    entry is named exactly.
    """

    def __init__(self, client: httpx.Client, size: int) -> None:
        self.client = client
        self.size = size
        self.tiles = True
        self._probed: tuple[Tile, list[bytes]] | None = None

    def probe(self, first: int) -> None:
        """Ask for the bundle holding entry `first`: a server without tiles is then read by pages of JSON."""
        if first >= self.size:
            return
        tile = self._bundle(first // TILE_WIDTH)
        entries = self._read_bundle(tile)
        self.tiles = entries is not None
        if entries is not None:
            self._probed = (tile, entries)

    def pages(self, first: int) -> list[tuple[int, int]]:
        """The pages (start, end) from entry `first` to the end: with bundles, aligned to them."""
        if not self.tiles:
            return [(s, min(s + PAGE, self.size)) for s in range(first, self.size, PAGE)]
        step = BUNDLES_PER_PAGE * TILE_WIDTH
        bounds = [first, *range((first // step + 1) * step, self.size, step), self.size]
        return [(lo, hi) for lo, hi in itertools.pairwise(bounds) if lo < hi]

    def read(self, start: int, end: int) -> list:
        """Entries start <= i < end: raw bytes from bundles, or base64 (see `decode_entry`)."""
        if self.tiles:
            out: list = []
            for n in range(start // TILE_WIDTH, (end - 1) // TILE_WIDTH + 1):
                tile = self._bundle(n)
                if self._probed is not None and self._probed[0] == tile:
                    held: list[bytes] | None = self._probed[1]
                    self._probed = None
                else:
                    held = self._read_bundle(tile)
                if held is None:
                    break
                out.extend(held[max(start - tile.first, 0) : end - tile.first])
            else:
                return out
        return [e for s in range(start, end, PAGE) for e in entries(self.client, s, min(s + PAGE, end))]

    def _bundle(self, n: int) -> Tile:
        return Tile(None, n, min(TILE_WIDTH, self.size - n * TILE_WIDTH))

    def _read_bundle(self, tile: Tile) -> list[bytes] | None:
        """The bundle's entries, or None if it does not come whole."""
        try:
            response = self.client.get(f"/log/{tile.path}")
            held = unbundle(response.content) if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return held if held is not None and len(held) == tile.width else None


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
