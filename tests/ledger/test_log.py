"""The log's public endpoints and guarantees (protocol §2)."""

from __future__ import annotations

import base64
import math

import pytest
from sqlalchemy import event

from signing.checkpoint import verify_checkpoint
from signing.merkle import leaf_hash, verify_consistency, verify_inclusion
from signing.note import Verifier
from tests.conftest import BOTH_DATABASES
from traceability.errors import TooLarge

pytestmark = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def grow_log(farm, events: int) -> list[dict]:
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    return [farm.event(grower, lot, "observation", {"note": f"第{i}天"}) for i in range(events)]


def test_checkpoint_is_signed_by_the_log_key_and_covers_every_acknowledged_append(farm, client):
    key = Verifier.from_key_string(client.get("/log/key").text)
    assert key.name == "testserver/log"
    grower = farm.grower()
    lot = farm.batch(grower)
    for _ in range(3):
        acknowledged = farm.harvest(grower, lot["lot"])
        response = client.get("/log/checkpoint")
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        checkpoint = verify_checkpoint(response.text, key)
        assert checkpoint.origin == "testserver/log"
        # Served at once, not after a batching delay.
        assert checkpoint.size == acknowledged["index"] + 1


def test_entries_are_the_records_in_log_order(farm, client):
    grow_log(farm, 3)
    page = client.get("/log/entries", params={"start": 0, "end": 100}).json()
    assert page["start"] == 0
    kinds = [__import__("json").loads(b64(e))["payload"]["kind"] for e in page["entries"]]
    assert kinds == ["key", "batch", "event", "event", "event"]
    assert client.get("/log/entries", params={"start": 2, "end": 3}).json()["entries"] == page["entries"][2:3]
    assert client.get("/log/entries", params={"start": -1, "end": 3}).status_code == 422


def test_inclusion_and_consistency_proofs_verify_for_every_index_and_size(farm, client):
    grow_log(farm, 11)
    key = Verifier.from_key_string(client.get("/log/key").text)
    entries = [b64(e) for e in client.get("/log/entries", params={"start": 0, "end": 100}).json()["entries"]]
    roots = {}
    size = len(entries)
    checkpoint = verify_checkpoint(client.get("/log/checkpoint").text, key)
    assert checkpoint.size == size
    from signing.merkle import root_hash

    for n in range(1, size + 1):
        roots[n] = root_hash([leaf_hash(e) for e in entries[:n]])
    assert roots[size] == checkpoint.root_hash
    for n in range(1, size + 1):
        for i in range(n):
            proof = client.get("/log/proof/inclusion", params={"index": i, "size": n}).json()
            assert b64(proof["leaf_hash"]) == leaf_hash(entries[i])
            verify_inclusion(leaf_hash(entries[i]), i, n, [b64(p) for p in proof["proof"]], roots[n])
        for m in range(1, n + 1):
            proof = client.get("/log/proof/consistency", params={"old": m, "new": n}).json()
            verify_consistency(m, n, [b64(p) for p in proof["proof"]], roots[m], roots[n])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/log/proof/inclusion", {"index": 5, "size": 5}),
        ("/log/proof/inclusion", {"index": 0, "size": 999}),
        ("/log/proof/consistency", {"old": 3, "new": 2}),
        ("/log/proof/consistency", {"old": 1, "new": 999}),
        ("/log/proof/consistency", {"old": 0, "new": 2}),
        ("/log/proof/inclusion", {"index": "x", "size": 2}),
        ("/log/proof/inclusion", {"index": 0, "size": 2**70}),
        ("/log/entries", {"start": 538295445177776340992, "end": 428}),
        ("/log/proof/consistency", {"old": 1, "new": 2**64}),
    ],
)
def test_impossible_proof_requests_are_4xx_with_a_reason(farm, client, path, params):
    grow_log(farm, 3)
    response = client.get(path, params=params)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["message"]


def test_a_proof_reads_only_log_n_stored_hashes(farm, services):
    """Counted at the database: proofs never read or rehash the leaves."""
    grow_log(farm, 150)
    log = services.log
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    with services.sessions() as session:
        size = log.head(session).size
        event.listen(services.engine, "before_cursor_execute", record)
        try:
            for index in (0, 77, size - 1):
                statements.clear()
                log.inclusion_proof(session, index, size)
                node_reads = [p for s, p in statements if "log_nodes" in s]
                assert len(node_reads) == 1
                assert len(_flatten(node_reads[0])) <= 2 * math.ceil(math.log2(size)) + 1
            statements.clear()
            log.consistency_proof(session, 37, size)
            node_reads = [p for s, p in statements if "log_nodes" in s]
            assert len(node_reads) == 1
            assert len(_flatten(node_reads[0])) <= 2 * math.ceil(math.log2(size)) + 1
        finally:
            event.remove(services.engine, "before_cursor_execute", record)


def _flatten(parameters) -> list:
    values = list(parameters.values()) if isinstance(parameters, dict) else list(parameters)
    flat: list = []
    for value in values:
        flat.extend(value if isinstance(value, (list, tuple)) else [value])
    return flat


def test_an_oversized_record_is_refused_before_it_reaches_the_log(services):
    with services.sessions() as session:
        log = services.log.begin(session, services.clock.now())
        payload = {"v": 1, "kind": "event", "note": "x" * 70_000}
        with pytest.raises(TooLarge) as refused:
            log.append(payload, services.log.signer.private_key)
        log.finish()
        assert refused.value.code == "record_too_large"
        session.rollback()
        assert services.log.head(session).size == 0
