"""`suyuan verify --server`: audit a whole log from its public endpoints (protocol §7).

Trusts only the verifier key it is given. With a state file it is a monitor, run on a
schedule: it keeps the last checkpoint it verified, with what it learnt from the entries
up to it (registered keys, each lot's chain tip, the tree's compact range), refuses a log
that does not extend that checkpoint, and checks only the entries added since. Either way it
then checks a sample of the proofs the server serves (`served_proofs`).
"""

from __future__ import annotations

import base64
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import NoReturn

import httpx

from signing.checkpoint import Checkpoint, verify_checkpoint
from signing.cosignature import WitnessPolicy
from signing.errors import VerificationError
from signing.ledger import LedgerChecker, SignatureCheck
from signing.merkle import RootAccumulator, leaf_hash, verify_consistency
from signing.note import Verifier

from . import log_client
from .served_proofs import ProofsChecked, check_served_proofs, consistency_sizes

# Measured on two cores (bench.verify_log): three beat two and four.
SIGNATURE_THREADS = 3


@dataclass(frozen=True)
class AuditReport:
    checkpoint: Checkpoint
    entries: int  # checked in this run
    keys: int
    lots: int
    previous_size: int | None
    proofs: ProofsChecked  # the server's proofs checked against the entries
    cosigned_by: tuple[str, ...] = ()  # the witnesses whose cosignatures verified, when asked for


@dataclass(frozen=True)
class MonitorState:
    signed_checkpoint: str
    checkpoint: Checkpoint
    # None in a state file written before incremental runs: the next run checks every entry.
    checker: LedgerChecker | None
    tree: RootAccumulator | None


def audit_log(
    client: httpx.Client,
    log_key: Verifier,
    state_file: Path | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    witnesses: WitnessPolicy | None = None,
) -> AuditReport:
    # 1. The current checkpoint is signed by the trusted key for its origin (and, when
    # witnesses are given, cosigned by their quorum: no split view without their collusion).
    signed_checkpoint = log_client.get(client, "/log/checkpoint").text
    cosigned_by: tuple[str, ...] = ()
    if witnesses is None:
        checkpoint = verify_checkpoint(signed_checkpoint, log_key)
    else:
        cosigned = witnesses.verify(signed_checkpoint, log_key)
        checkpoint, cosigned_by = cosigned.checkpoint, tuple(cosigned.witnesses)
    # 2. It extends the checkpoint this monitor saw last time (no rewritten history).
    previous = _load_state(state_file, log_key) if state_file else None
    if previous is not None:
        _check_extends(client, previous.checkpoint, checkpoint)
    # 3. Every entry obeys the record rules, in order: those after the last checkpoint
    # this monitor verified, or all of them ...
    if previous is not None and previous.checker is not None and previous.tree is not None:
        first, checker, leaves = previous.checkpoint.size, previous.checker, _Leaves(previous.tree)
    else:
        first, checker, leaves = 0, LedgerChecker(log_key.public_key), _Leaves(RootAccumulator())
    with ThreadPoolExecutor(SIGNATURE_THREADS) as verifiers:
        # Three things overlap: the server reads the next page, other threads check the
        # canonical form and signatures of the last one (Ed25519 releases the GIL), and
        # this one checks the rules, which follow the log's order, of the current one.
        unverified: deque[list[Future]] = deque()
        for start, end, entries in _prefetched_pages(log_client.EntryReader(client, checkpoint.size), first):
            checks, problem = _check_page(checker, leaves, start, entries, checkpoint.size)
            unverified.append([verifiers.submit(_run_all, part) for part in _split(checks, SIGNATURE_THREADS)])
            last = problem is not None or end >= checkpoint.size
            while len(unverified) > (0 if last else 1):
                for part in unverified.popleft():
                    if (failure := part.result()) is not None:
                        _blame(client, leaves, checkpoint, failure)
            if problem:
                _blame(client, leaves, checkpoint, problem)
            on_progress(len(leaves) - first, checkpoint.size - first)
    if len(leaves) < checkpoint.size:
        _blame(client, leaves, checkpoint, _missing(len(leaves), checkpoint.size))
    # 4. ... and the entries hash to the root the checkpoint signs.
    tree, roots = leaves.tree_and_roots(len(leaves), consistency_sizes(first, checkpoint.size))
    if tree.root() != checkpoint.root_hash:
        _blame(client, leaves, checkpoint, "the entries served do not hash to the checkpoint's root")
    # 5. The proofs the server serves to everyone else agree with those entries.
    proofs = check_served_proofs(client, checkpoint, leaves.leaf, roots)
    if state_file:
        _save_state(state_file, log_key, signed_checkpoint, checker, tree)
    return AuditReport(
        checkpoint,
        checkpoint.size - first,
        len(checker.keys),
        len(checker.lots),
        previous.checkpoint.size if previous else None,
        proofs,
        cosigned_by,
    )


def _prefetched_pages(reader: log_client.EntryReader, first: int) -> Iterator[tuple[int, int, list]]:
    """Pages of entries (start, end, entries) in order, the next one always on its way while
    one is checked; from the server's entry bundles when it serves them."""
    reader.probe(first)
    bounds = iter(reader.pages(first))
    with ThreadPoolExecutor(1) as prefetch:
        pending = deque(prefetch.submit(_page, reader, lo, hi) for lo, hi in islice(bounds, 2))
        while pending:
            page = pending.popleft().result()
            pending.extend(prefetch.submit(_page, reader, lo, hi) for lo, hi in islice(bounds, 1))
            yield page


def _page(reader: log_client.EntryReader, start: int, end: int) -> tuple[int, int, list]:
    return start, end, reader.read(start, end)


def _check_page(
    checker: LedgerChecker, leaves: _Leaves, start: int, entries: list, size: int
) -> tuple[list[SignatureCheck], str | None]:
    """Check the rules of one page; return its signature checks and the first problem."""
    if start != len(leaves) or not entries:
        return [], _missing(len(leaves), size)
    verifications: list[SignatureCheck] = []
    for offset, encoded in enumerate(entries):
        index = start + offset
        try:
            entry = log_client.decode_entry(index, encoded)
            leaves.append(leaf_hash(entry))
            _, verify = checker.check_rules(index, entry)
        except VerificationError as exc:
            return verifications, str(exc)
        verifications.append(verify)
    return verifications, None


def _run_all(checks: list[SignatureCheck]) -> str | None:
    """The first failure among `checks`, in order."""
    for check in checks:
        try:
            check()
        except VerificationError as exc:
            return str(exc)
    return None


def _split(items: list, parts: int) -> list[list]:
    size = -(-len(items) // parts) or 1
    return [items[i : i + size] for i in range(0, len(items), size)]


def _missing(served: int, size: int) -> str:
    return f"entry {served}: missing (the server served only {served} of the checkpoint's {size} entries)"


class _Leaves:
    """Leaf hashes of the entries served in this run (32 bytes each), after the tree this
    monitor verified before, to locate a divergence."""

    def __init__(self, before: RootAccumulator) -> None:
        self._before = before
        self._hashes = bytearray()

    @property
    def first(self) -> int:
        return self._before.size

    def __len__(self) -> int:
        return self._before.size + len(self._hashes) // 32

    def append(self, leaf: bytes) -> None:
        self._hashes += leaf

    def leaf(self, index: int) -> bytes | None:
        """The leaf hash of entry `index`; None before this run's first."""
        offset = (index - self.first) * 32
        return bytes(self._hashes[offset : offset + 32]) if 0 <= offset < len(self._hashes) else None

    def tree(self, size: int) -> RootAccumulator:
        """The compact range of the first `size` entries (size >= first)."""
        return self.tree_and_roots(size, ())[0]

    def tree_and_roots(self, size: int, sizes: Iterable[int]) -> tuple[RootAccumulator, dict[int, bytes]]:
        """`tree(size)`, and on the way the root of the tree at each of `sizes` (first < s <= size)."""
        wanted = set(sizes)
        roots: dict[int, bytes] = {}
        size_before, hashes = self._before.state()
        accumulator = RootAccumulator.from_state(size_before, hashes)
        for offset in range(0, (size - size_before) * 32, 32):
            accumulator.append(bytes(self._hashes[offset : offset + 32]))
            if accumulator.size in wanted:
                roots[accumulator.size] = accumulator.root()
        return accumulator, roots


def _blame(client: httpx.Client, leaves: _Leaves, checkpoint: Checkpoint, problem: str) -> NoReturn:
    """Name the first entry that is not the one the checkpoint commits to, if there is one.

    A served prefix of m entries matches the checkpointed tree iff a consistency proof
    from m to the checkpoint's size verifies with the prefix's root, and a prefix of a
    matching prefix matches too, so a binary search over m finds the first altered,
    swapped or dropped entry in O(log n) proofs. Otherwise the log itself committed to
    an entry that breaks the rules, and `problem` already names it.
    """

    def matches(size: int) -> bool:
        root = leaves.tree(size).root()
        if size == checkpoint.size:
            return root == checkpoint.root_hash
        try:
            proof = log_client.consistency_proof(client, size, checkpoint.size)
            verify_consistency(size, checkpoint.size, proof, root, checkpoint.root_hash)
        except VerificationError:
            return False
        return True

    # The entries before this run's first are known good: the consistency proof from the
    # last verified checkpoint showed it.
    if len(leaves) == leaves.first or matches(len(leaves)):
        raise VerificationError(problem)
    good, bad = leaves.first, len(leaves)
    while bad - good > 1:
        middle = (good + bad) // 2
        if matches(middle):
            good = middle
        else:
            bad = middle
    raise VerificationError(
        f"entry {bad - 1}: the server served an entry that is not the one its checkpoint commits to "
        f"(altered, swapped or dropped); first symptom: {problem}"
    )


def _check_extends(client: httpx.Client, previous: Checkpoint, current: Checkpoint) -> None:
    if current.size < previous.size:
        raise VerificationError(
            f"the log shrank from {previous.size} to {current.size} entries since the last check: history was rewritten"
        )
    if current.size == previous.size:
        if current.root_hash != previous.root_hash:
            raise VerificationError(
                f"the log shows a different tree of the same size {current.size} than at the last check: "
                "history was rewritten, or this monitor is shown a split view"
            )
        return
    if previous.size == 0:
        return  # every tree extends the empty one
    proof = log_client.consistency_proof(client, previous.size, current.size)
    try:
        verify_consistency(previous.size, current.size, proof, previous.root_hash, current.root_hash)
    except VerificationError as exc:
        raise VerificationError(
            f"the log at size {current.size} is not an extension of the log this monitor saw at size "
            f"{previous.size} ({exc}): history was rewritten, or this monitor is shown a split view"
        ) from None


def _load_state(path: Path, log_key: Verifier) -> MonitorState | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state["log_key"] != log_key.key_string():
            raise VerificationError(
                f"{path} is the state of another log ({state['log_key']}); use one state file per log"
            )
        checkpoint = verify_checkpoint(state["checkpoint"], log_key)
        if "tree" not in state:
            return MonitorState(state["checkpoint"], checkpoint, None, None)
        tree = RootAccumulator.from_state(
            state["tree"]["size"], [base64.b64decode(h, validate=True) for h in state["tree"]["hashes"]]
        )
        checker = LedgerChecker.from_state(log_key.public_key, state["ledger"])
    except (ValueError, KeyError, TypeError, VerificationError) as exc:
        raise VerificationError(
            f"{path} is not a monitor state file of this log ({exc}); move it away to start afresh"
        ) from None
    if tree.size != checkpoint.size or tree.root() != checkpoint.root_hash:
        raise VerificationError(
            f"{path} is damaged: its tree does not hash to its checkpoint; move it away to start afresh"
        )
    return MonitorState(state["checkpoint"], checkpoint, checker, tree)


def _save_state(
    path: Path, log_key: Verifier, signed_checkpoint: str, checker: LedgerChecker, tree: RootAccumulator
) -> None:
    # The signed note is kept, not just the numbers: it is evidence in its own right.
    size, hashes = tree.state()
    state = {
        "log_key": log_key.key_string(),
        "checkpoint": signed_checkpoint,
        "tree": {"size": size, "hashes": [base64.b64encode(h).decode() for h in hashes]},
        "ledger": checker.state(),
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, separators=(",", ":")) + "\n", encoding="utf-8")
    os.replace(temporary, path)
