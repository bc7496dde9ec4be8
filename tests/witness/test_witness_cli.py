"""`suyuan witness key` and the checks `suyuan witness serve` makes before it listens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from typer.testing import CliRunner

from signing.cosignature import WitnessVerifier
from traceability.cli import app
from traceability.witness.witness import load_or_create_cosigner

from .witnesskit import WITNESS_NAME, Log


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["witness", *args], env={"COLUMNS": "300"})
    return result.exit_code, result.output


def test_key_is_made_once_and_printed(tmp_path: Path) -> None:
    code, printed = run("key", "--data", str(tmp_path), "--name", WITNESS_NAME)
    assert code == 0
    vkey = printed.strip()
    assert WitnessVerifier.from_key_string(vkey).name == WITNESS_NAME
    assert run("key", "--data", str(tmp_path), "--name", WITNESS_NAME) == (0, vkey + "\n")
    # The data dir's key belongs to one name.
    code, printed = run("key", "--data", str(tmp_path), "--name", "witness.example/w2")
    assert code == 2 and "is the key of 'witness.example/w1'" in printed


def test_witnesses_starting_together_make_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(16) as pool:
        keys = set(pool.map(lambda _: load_or_create_cosigner(tmp_path, WITNESS_NAME).key_string(), range(32)))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["witness-key"]


def test_serve_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    data = ["--data", str(tmp_path), "--name", WITNESS_NAME]
    code, printed = run("serve", *data, "--log", "not a vkey")
    assert code == 2 and "is not <name>+<key ID>+<key>" in printed
    log = Log().signer.verifier_key()
    code, printed = run("serve", *data, "--log", log, "--log", Log().signer.verifier_key())
    assert code == 2 and "two keys for the log" in printed
    code, printed = run("serve", "--data", str(tmp_path / "fresh"), "--name", "bad name", "--log", log)
    assert code == 2 and "invalid key name" in printed
