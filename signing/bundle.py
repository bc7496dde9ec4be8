"""Offline verification of one lot's proof bundle (protocol §3).

    {"lot", "log_key", "checkpoint", "entries": [{"index", "entry", "inclusion_proof"}]}

The only trust material is the log's verifier key, passed in by the caller; the
bundle's own `log_key` field is a hint and must name that same key. Integrity comes from
the signatures and the inclusion proofs, not from the wrapper's whitespace: the same
bundle saved by a browser or passed through `jq .` verifies alike.

Beside the lot's own chain a bundle holds the chains of the lots it was made from (their
recalls and findings are the lot's concern too), the batch records of lots made from it
(what they took from it), and the `key` entries of everyone who signed. What the records
say is read from them by `lot_state.read_lots`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from .b64 import decode_strict
from .checkpoint import Checkpoint, verify_checkpoint
from .cosignature import WitnessPolicy
from .errors import VerificationError
from .ledger import LedgerChecker
from .lot_state import LotState, read_lots
from .merkle import leaf_hash, verify_inclusion
from .note import Verifier
from .payloads import LotRecord, signed_how


@dataclass(frozen=True)
class VerifiedBundle:
    lot: str
    checkpoint: Checkpoint
    records: list[LotRecord]  # the lot's records, in chain order
    keys_checked: int
    chains: dict[str, list[LotRecord]]  # the lot's and each of its sources' records
    derived: list[LotRecord]  # batch records of lots made from it
    subjects: dict[str, dict]  # keyid -> who its signed key entry names (id, name, region ...)
    how: dict[str, str]  # keyid -> how its records were signed, as its key entry says (`payloads.signed_how`)
    state: LotState
    as_of: datetime  # the newest receive time in the bundle: its checkpoint is no older
    cosigned_by: tuple[str, ...] = ()  # the witnesses whose cosignatures verified, when asked for

    @property
    def recalled(self) -> bool:
        return bool(self.state.recalls)


def verify_bundle(document: bytes, log_key: Verifier, witnesses: WitnessPolicy | None = None) -> VerifiedBundle:
    """`witnesses`: when given, the checkpoint must be cosigned by their quorum (protocol §8)."""
    # 1. The document is one JSON object in canonical form, with the four fields.
    bundle = _load(document)
    if not isinstance(bundle, dict) or set(bundle) != {"lot", "log_key", "checkpoint", "entries"}:
        raise VerificationError("not a proof bundle: expected exactly lot, log_key, checkpoint and entries")
    lot = bundle["lot"]
    if not isinstance(lot, str) or not isinstance(bundle["entries"], list):
        raise VerificationError("not a proof bundle: lot must be a string and entries a list")
    # 2. It is for the log the caller trusts.
    if bundle["log_key"] != log_key.key_string():
        raise VerificationError(
            f"the bundle is for log key {bundle['log_key']!r}, not the trusted {log_key.key_string()!r}"
        )
    # 3. The checkpoint is signed by that log, and cosigned by the quorum of witnesses asked for.
    if not isinstance(bundle["checkpoint"], str):
        raise VerificationError("checkpoint must be the signed checkpoint text")
    cosigned_by: tuple[str, ...] = ()
    if witnesses is None:
        checkpoint = verify_checkpoint(bundle["checkpoint"], log_key)
    else:
        cosigned = witnesses.verify(bundle["checkpoint"], log_key)
        checkpoint, cosigned_by = cosigned.checkpoint, tuple(cosigned.witnesses)
    checker = LedgerChecker(log_key.public_key, partial=True)
    chains: dict[str, list[LotRecord]] = {}
    subjects: dict[str, dict] = {}
    how: dict[str, str] = {}
    times: list[datetime] = []
    previous = -1
    for position, item in enumerate(bundle["entries"]):
        index, entry, proof = _entry_fields(position, item)
        # 4. Entries are in log order and inside the checkpoint's tree ...
        if index <= previous:
            raise VerificationError(f"entry {index}: entries are not in increasing log order")
        if index >= checkpoint.size:
            raise VerificationError(f"entry {index}: beyond the checkpoint's tree of size {checkpoint.size}")
        previous = index
        # 5. ... each proved included in it ...
        leaf = leaf_hash(entry)
        try:
            verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root_hash)
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: not included in the checkpoint's tree: {exc}") from None
        # 6. ... and each obeying the record rules: registered signers, an unbroken chain.
        record = checker.check(index, entry)
        payload = record["payload"]
        times.append(datetime.fromisoformat(payload["time"]))
        if payload["kind"] == "key":
            subjects[payload["keyid"]] = payload["subject"]
            how[payload["keyid"]] = signed_how(payload)
        elif payload["kind"] != "key_revoke":
            chains.setdefault(payload["lot"], []).append(LotRecord.from_record(index, record, leaf))
    # 7. The lot's chain starts at its batch record ...
    records = chains.pop(lot, [])
    if not records or records[0].type != "batch":
        raise VerificationError(f"the bundle holds no batch record for lot {lot}")
    # 8. ... and every other record belongs to a lot it was made from, or makes a lot from it.
    sources = _sources(lot, records, chains)
    derived = []
    for other, chain in chains.items():
        if other in sources:
            continue
        made = chain[0]
        if len(chain) != 1 or made.type != "batch" or lot not in {i["lot"] for i in made.data.get("inputs", ())}:
            raise VerificationError(f"entry {made.index}: a record of lot {other}, which is unrelated to lot {lot}")
        derived.append(made)
    chains = {lot: records, **{source: chains[source] for source in sources}}
    state = read_lots(lot, chains, derived)
    return VerifiedBundle(
        lot, checkpoint, records, len(checker.keys), chains, derived, subjects, how, state, max(times), cosigned_by
    )


def _sources(lot: str, records: list[LotRecord], chains: dict[str, list[LotRecord]]) -> set[str]:
    """The lots in `chains` that `lot` was made from, at any depth, each with its whole chain from its batch record."""
    found: set[str] = set()
    todo = [item["lot"] for item in records[0].data.get("inputs", ())]
    while todo:
        source = todo.pop()
        chain = chains.get(source)
        if source in found or not chain:
            continue
        if chain[0].type != "batch" or [r.seq for r in chain] != list(range(len(chain))):
            raise VerificationError(
                f"the records of lot {source}, which lot {lot} was made from, are not its whole chain"
            )
        found.add(source)
        todo += [item["lot"] for item in chain[0].data.get("inputs", ())]
    return found


def _load(document: bytes) -> object:
    try:
        return json.loads(document)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerificationError(f"the bundle is not JSON: {exc}") from None


def _entry_fields(position: int, item: object) -> tuple[int, bytes, list[bytes]]:
    if not isinstance(item, dict) or set(item) != {"index", "entry", "inclusion_proof"}:
        raise VerificationError(f"entries[{position}] must have exactly index, entry and inclusion_proof")
    index, entry, proof = item["index"], item["entry"], item["inclusion_proof"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise VerificationError(f"entries[{position}].index is not a log index")
    if not isinstance(proof, list):
        raise VerificationError(f"entry {index}: inclusion_proof must be a list")
    return (
        index,
        decode_strict(entry, f"entry {index}"),
        [decode_strict(p, f"entry {index} inclusion_proof") for p in proof],
    )
