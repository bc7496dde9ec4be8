"""`suyuan verify --server` checks the proofs the server serves, not only the entries (issue
item 6): an honest log behind a proof endpoint that answers wrong proofs fails the audit,
named. The lie is told by the real app, through an ASGI middleware in front of it."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import traceability.cli
from signing.errors import VerificationError
from signing.note import Verifier
from tests.cli.test_monitor import season
from traceability.cli import app
from traceability.cli.monitor import audit_log
from traceability.cli.served_proofs import SAMPLE, sample
from traceability.web.app import create_app

Change = Callable[[dict[str, int], dict], dict]


class Lying:
    """Passes everything to the app, but rewrites the JSON answers of `path` with `change`
    (given the query's numbers and the honest answer)."""

    def __init__(self, app, path: str, change: Change) -> None:
        self.app, self.path, self.change = app, path, change

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        query = {k: int(v[0]) for k, v in parse_qs(scope["query_string"].decode()).items()}
        start: dict = {}
        body = bytearray()

        async def rewrite(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            answer = json.loads(body)
            if start["status"] == 200:
                answer = self.change(query, answer)
            served = json.dumps(answer).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(served)).encode())]})
            await send({"type": "http.response.body", "body": served})

        await self.app(scope, receive, rewrite)


def flipped(hash_b64: str) -> str:
    raw = bytearray(base64.b64decode(hash_b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.fixture
def lying(services):
    """A client of the real app behind `Lying(path, change)`."""
    opened: list[TestClient] = []

    def open_(path: str, change: Change) -> TestClient:
        client = TestClient(Lying(create_app(services), path, change))
        opened.append(client.__enter__())
        return client

    yield open_
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def log_key(farm, client) -> Verifier:
    season(farm, lots=4)
    return Verifier.from_key_string(client.get("/log/key").text)


def test_the_sample_spreads_over_the_log_and_ends_with_the_last_entry():
    assert sample(5) == [0, 1, 2, 3, 4]
    spread = sample(1000)
    assert len(spread) == SAMPLE and spread[0] == 0 and spread[-1] == 999
    assert max(b - a for a, b in itertools.pairwise(spread)) <= 1000 // (SAMPLE - 1) + 1
    assert sample(0) == []


def test_an_honest_server_s_proofs_are_checked(client, log_key):
    report = audit_log(client, log_key)
    assert report.proofs.inclusion == min(SAMPLE, report.checkpoint.size)
    assert report.proofs.consistency == report.proofs.inclusion - 1  # from each sampled size but the whole tree


def test_a_wrong_inclusion_proof_fails_the_audit_named(client, log_key, lying):
    size = audit_log(client, log_key).checkpoint.size
    target = sample(size)[len(sample(size)) // 2]

    def wrong(query, answer):
        if query["index"] == target:
            answer["proof"][0] = flipped(answer["proof"][0])
        return answer

    with pytest.raises(VerificationError) as failed:
        audit_log(lying("/log/proof/inclusion", wrong), log_key)
    assert str(failed.value).startswith(f"entry {target}: the inclusion proof the server serves")
    assert f"/log/proof/inclusion?index={target}&size={size}" in str(failed.value)


def test_an_inclusion_proof_for_another_entry_fails_the_audit_named(client, log_key, lying):
    size = audit_log(client, log_key).checkpoint.size

    def borrowed(query, answer):
        if query["index"] == size - 1:  # the newest entry, proved with its neighbour's leaf and proof
            return {**client.get("/log/proof/inclusion", params={"index": size - 2, "size": size}).json(), **query}
        return answer

    with pytest.raises(
        VerificationError, match=rf"^entry {size - 1}: the server's inclusion proof .* is for leaf hash"
    ):
        audit_log(lying("/log/proof/inclusion", borrowed), log_key)


def test_a_wrong_consistency_proof_fails_the_audit_named(client, log_key, lying):
    def wrong(query, answer):
        answer["proof"][-1] = flipped(answer["proof"][-1])
        return answer

    with pytest.raises(VerificationError, match=r"^the consistency proof the server serves from tree size \d+ to \d+"):
        audit_log(lying("/log/proof/consistency", wrong), log_key)


def test_a_monitor_with_nothing_new_still_checks_the_proofs(farm, client, log_key, lying, tmp_path):
    """Its entries were checked by the last run; the proofs served today are checked today."""
    state = tmp_path / "monitor.json"
    audit_log(client, log_key, state)

    def wrong(query, answer):
        answer["leaf_hash"] = base64.b64encode(hashlib.sha256(b"not an entry").digest()).decode()
        return answer

    with pytest.raises(VerificationError, match=r"^entry 0: the inclusion proof the server serves .* is wrong"):
        audit_log(lying("/log/proof/inclusion", wrong), log_key, state)


def test_the_command_fails_on_a_wrong_proof_and_says_what_it_checked_otherwise(log_key, services, monkeypatch):
    def run(change: Change):
        # The command opens (and closes) its client as it would a server's.
        served = lambda server: TestClient(Lying(create_app(services), "/log/proof/inclusion", change))  # noqa: E731
        monkeypatch.setattr(traceability.cli, "open_log_client", served)
        command = ["verify", "--server", "http://testserver", "--log-key", log_key.key_string()]
        return CliRunner().invoke(app, command, env={"COLUMNS": "300"})

    result = run(lambda query, answer: answer)
    assert result.exit_code == 0, result.output
    assert re.search(r"the server's proofs agree with its entries: \d+ inclusion proofs", result.output)

    def wrong(query, answer):
        answer["proof"] = answer["proof"][1:]
        return answer

    result = run(wrong)
    assert result.exit_code == 1
    assert "verification failed" in result.stderr and "the inclusion proof the server serves" in result.stderr
    assert "log verified" not in result.output
