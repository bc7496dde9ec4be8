"""The witness's HTTP interface, in-process: POST /add-checkpoint per c2sp.org/tlog-witness."""

from __future__ import annotations

import base64
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.cosignature import WitnessVerifier, verify_cosigned
from signing.keys import generate_private_key
from signing.merkle import EMPTY_ROOT
from signing.note import Signer
from tests.conftest import T0
from traceability.witness.app import MAX_BODY, create_app
from traceability.witness.state import Latest, LogState, origin_hash
from traceability.witness.witness import KEY_FILE, STATE_DIR, Witness

from .conftest import open_witness
from .witnesskit import ORIGIN, WITNESS_NAME, Log, check_cosignature


def add(client: TestClient, body: bytes) -> httpx.Response:
    return client.post("/add-checkpoint", content=body)


def cosigns(client: TestClient, log: Log, old: int, new: int) -> str:
    """Submit `old` → `new`, and check the answer is one cosignature of that checkpoint."""
    response = add(client, log.request(old, new))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    check_cosignature(response.text, log.checkpoint(new).body(), client.get("/witness/key").text)
    return response.text


def refused(response: httpx.Response, status: int, reason: str = "") -> None:
    assert response.status_code == status, response.text
    assert reason in response.text
    assert not response.text.startswith("—")


def latest(client: TestClient) -> str:
    response = client.get(f"/{origin_hash(ORIGIN)}/checkpoint")
    assert response.status_code == 200
    return response.text


def test_the_first_checkpoint_is_cosigned_from_old_size_0(client: TestClient, log: Log) -> None:
    vkey = client.get("/witness/key").text
    assert vkey.startswith(f"{WITNESS_NAME}+")
    line = cosigns(client, log, 0, 5)
    # The timestamp is the witness's clock, in POSIX seconds.
    assert check_cosignature(line, log.checkpoint(5).body(), vkey) == int(T0.timestamp())
    # What a log does with the answer: append it to its checkpoint and verify with the witness's key.
    result = verify_cosigned(log.signed(5) + line, log.key, [WitnessVerifier.from_key_string(vkey)], 1)
    assert result.checkpoint == log.checkpoint(5)
    # The monitoring endpoint serves it with the log's signature first.
    note = latest(client)
    assert note == log.signed(5) + line
    assert verify_cosigned(note, log.key, [WitnessVerifier.from_key_string(vkey)], 1).checkpoint.size == 5


def test_extensions_with_consistency_proofs(client: TestClient, log: Log) -> None:
    sizes = [1, 2, 3, 4, 7, 8, 9, 16, 17, 100, 100, 129]
    for old, new in zip([0, *sizes], sizes, strict=False):
        cosigns(client, log, old, new)
    assert Checkpoint.parse(latest(client).split("\n\n")[0] + "\n") == log.checkpoint(129)


def test_the_empty_tree(client: TestClient, log: Log) -> None:
    cosigns(client, log, 0, 0)
    cosigns(client, log, 0, 0)
    cosigns(client, log, 0, 3)
    empty_with_a_root = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), log.signer)
    refused(add(client, log.request(3, 0, note=empty_with_a_root)), 400, "old size 3 is larger")


def test_a_stale_old_size_gets_409_with_the_size_and_a_retry_succeeds(client: TestClient, log: Log) -> None:
    # A client that knows nothing asks with 0 and learns the size.
    cosigns(client, log, 0, 9)
    response = add(client, log.request(0, 12))
    assert response.status_code == 409
    assert response.headers["content-type"] == "text/x.tlog.size"
    assert response.text == "9\n"
    response = add(client, log.request(5, 12))
    assert (response.status_code, response.text) == (409, "9\n")
    cosigns(client, log, int(response.text), 12)


def test_a_witness_that_never_cosigned_has_size_0(client: TestClient, log: Log) -> None:
    response = add(client, log.request(5, 9))
    assert (response.status_code, response.headers["content-type"], response.text) == (409, "text/x.tlog.size", "0\n")


def test_bad_consistency_proofs_get_422(client: TestClient, log: Log) -> None:
    cosigns(client, log, 0, 5)
    proof = log.proof(5, 9)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for bad in (flipped, proof[:-1], [*proof, proof[0]], [], log.proof(4, 9)):
        refused(add(client, log.request(5, 9, proof=bad)), 422, "does not extend the one of size 5")
    # An equal size: no proof, and the same root.
    refused(add(client, log.request(5, 5, proof=proof[:1])), 422, "must be empty")
    cosigns(client, log, 5, 9)


def test_a_proof_from_size_0_must_be_empty(client: TestClient, log: Log) -> None:
    refused(add(client, log.request(0, 9, proof=log.proof(4, 9))), 422, "from size 0 must be empty")


def test_a_checkpoint_of_size_0_has_the_empty_root(client: TestClient, log: Log) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), log.signer)
    refused(add(client, log.request(0, 0, note=note)), 422, "root hash of the empty tree")
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), log.signer)
    assert add(client, log.request(0, 0, note=note)).status_code == 200
    cosigns(client, log, 0, 3)


def test_checkpoints_not_signed_by_the_logs_key_get_403(client: TestClient, log: Log) -> None:
    impostor = Log(Signer(ORIGIN, generate_private_key()))
    refused(add(client, impostor.request(0, 5)), 403, "not signed by the key of")
    # A signature line by the log's key that does not verify fails the whole note.
    note = log.signed(5)
    signature = bytearray(base64.b64decode(note.rsplit(" ", 1)[1]))
    signature[10] ^= 1
    bad = note.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(signature)).decode() + "\n"
    refused(add(client, log.request(0, 5, note=bad)), 403, "invalid signature")
    # Signatures by unknown keys (another witness's, say) are ignored.
    note = log.signed(5) + impostor.signed(5).split("\n\n")[1]
    assert add(client, log.request(0, 5, note=note)).status_code == 200
    # Only the log's own signature is kept with the cosignature.
    assert latest(client).count("\n—") == 2


def test_an_unknown_log_gets_404(client: TestClient) -> None:
    stranger = Log(Signer("elsewhere.example/log", generate_private_key()))
    refused(add(client, stranger.request(0, 5)), 404, "unknown log 'elsewhere.example/log'")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no blank line"),
        (b"hello", "no blank line"),
        (b"\n\n", "is not `old <tree size>`"),
        (b"old 01\n\n", "is not `old <tree size>`"),
        (b"old -1\n\n", "is not `old <tree size>`"),
        (b"old  1\n\n", "is not `old <tree size>`"),
        (b"new 1\n\n", "is not `old <tree size>`"),
        (b"old 18446744073709551616\n\n", "is not `old <tree size>`"),
        (b"old 1\nnot base64!\n\n", "consistency proof line 1: not valid base64"),
        (b"old 1\nAAAA\n\n", "consistency proof line 1 is 3 bytes, want 32"),
        (b"old 1\n" + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + b"\n", "64 consistency proof lines"),
        (b"old 0\n\xff\n\n", "not UTF-8"),
        (b"old 0\n\norchard.example/log\n5\n", "not a signed note"),
        (b"old 0\n\norchard.example/log\nfive\nAAAA\n\n\xe2\x80\x94 x y\n", "malformed checkpoint"),
    ],
)
def test_garbage_gets_400(client: TestClient, body: bytes, reason: str) -> None:
    refused(add(client, body), 400, reason)


def test_an_old_size_past_the_checkpoint_gets_400(client: TestClient, log: Log) -> None:
    cosigns(client, log, 0, 9)
    refused(add(client, log.request(9, 5, proof=[])), 400, "old size 9 is larger than the checkpoint's size 5")


def test_a_fork_is_never_cosigned(client: TestClient, log: Log) -> None:
    cosigns(client, log, 0, 9)
    fork = log.fork(at=4)
    # The same size with another root.
    refused(add(client, fork.request(9, 9)), 422, "different roots")
    # A larger tree that does not extend the cosigned one.
    refused(add(client, fork.request(9, 12)), 422)
    # A smaller tree: refused whatever old size is given.
    refused(add(client, fork.request(9, 5, proof=[])), 400)
    refused(add(client, fork.request(5, 5)), 409)
    refused(add(client, fork.request(0, 5)), 409)
    # The witness still stands where it was.
    cosigns(client, log, 9, 12)


def test_a_restarted_witness_keeps_its_state(witness_dir: Path, client: TestClient, log: Log) -> None:
    cosigns(client, log, 0, 9)
    vkey = client.get("/witness/key").text
    restarted = TestClient(create_app(open_witness(witness_dir, log)))
    assert restarted.get("/witness/key").text == vkey
    assert add(restarted, log.request(0, 12)).text == "9\n"
    refused(add(restarted, log.fork(at=4).request(9, 12)), 422)
    cosigns(restarted, log, 9, 12)


def test_diverging_extensions_submitted_at_once_only_one_is_cosigned(
    witness_dir: Path, client: TestClient, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    cosigns(client, log, 0, 9)
    # Widen the window between reading the latest size and storing the next one, so that
    # without the lock every request would read size 9 and be cosigned.
    read_latest = LogState.latest

    def slowly(state: LogState) -> Latest:
        latest = read_latest(state)
        time.sleep(0.02)
        return latest

    monkeypatch.setattr(LogState, "latest", slowly)
    fork = log.fork(at=10)  # agrees with the log up to size 10, so both extend size 9
    requests = [(log if i % 2 else fork).request(9, 12) for i in range(32)]
    # Two witness objects over one data dir stand for two processes (tests/witness/test_processes).
    clients = [client, TestClient(create_app(open_witness(witness_dir, log)))]
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda i: add(clients[i % 2], requests[i]), range(32)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 31
    assert all(r.text == "12\n" for r in responses if r.status_code == 409)
    (winner,) = [requests[i] for i, r in enumerate(responses) if r.status_code == 200]
    cosigned = (log if winner == log.request(9, 12) else fork).checkpoint(12)
    assert latest(client).startswith(cosigned.body())


def test_the_state_on_disk(witness_dir: Path, client: TestClient, log: Log) -> None:
    line = cosigns(client, log, 0, 9)
    assert os.stat(witness_dir / KEY_FILE).st_mode & 0o777 == 0o600
    assert (witness_dir / STATE_DIR / f"{origin_hash(ORIGIN)}.checkpoint").read_text() == log.signed(9) + line
    # Only the state and its lock: no temporary file is left behind.
    assert sorted(p.name for p in (witness_dir / STATE_DIR).iterdir()) == [
        f"{origin_hash(ORIGIN)}.checkpoint",
        f"{origin_hash(ORIGIN)}.lock",
    ]


def test_a_damaged_state_is_not_trusted(witness_dir: Path, client: TestClient, log: Log) -> None:
    cosigns(client, log, 0, 9)
    state = witness_dir / STATE_DIR / f"{origin_hash(ORIGIN)}.checkpoint"
    state.write_text(state.read_text().replace("\n9\n", "\n8\n"))
    refused(add(client, log.request(8, 12)), 500, "is not a checkpoint this witness cosigned")


def test_monitoring_and_other_requests(client: TestClient, witness: Witness) -> None:
    assert client.get(f"/{origin_hash(ORIGIN)}/checkpoint").status_code == 404
    assert client.get(f"/{origin_hash('elsewhere')}/checkpoint").status_code == 404
    assert client.get("/../witness-key/checkpoint").status_code == 404
    assert client.get("/add-checkpoint").status_code == 405
    response = add(client, b"old 0\n\n" + b"x" * MAX_BODY)
    assert (response.status_code, response.text) == (413, "the request body is over the limit of 64 KiB\n")
    assert client.get("/witness/key").text == witness.cosigner.key_string()
