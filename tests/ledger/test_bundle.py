"""Proof bundles: `suyuan verify BUNDLE --log-key VKEY` checks one lot offline."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from signing.bundle import verify_bundle
from signing.errors import VerificationError
from signing.note import Verifier
from tests.conftest import BOTH_DATABASES
from traceability.cli import app
from traceability.cli.bundle_report import Outcome

pytestmark = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


@pytest.fixture
def lot_bundle(farm, client):
    wang, other = farm.grower("王秀英"), farm.grower()
    regulator = farm.regulator()
    lot = farm.batch(wang, variety="红富士")["lot"]
    farm.batch(other)  # unrelated records in between
    farm.event(wang, lot, "input", {"product": "阿维菌素", "kind": "pesticide", "phi_days": 14})
    farm.harvest(wang, lot, 300, "kg")
    farm.event(regulator, lot, "recall", {"reason": "农残超标 residue over the limit"})
    response = client.get(f"/b/{lot}/proof.json")
    assert response.status_code == 200
    return lot, response.content, client.get("/log/key").text


def test_a_bundle_verifies_offline_with_only_the_log_key(lot_bundle):
    lot, document, vkey = lot_bundle
    result = verify_bundle(document, Verifier.from_key_string(vkey))
    assert result.lot == lot
    assert [r.type for r in result.records] == ["batch", "input", "harvest", "recall"]
    assert result.keys_checked == 2  # the grower's and the regulator's registrations
    bundle = json.loads(document)
    kinds = [json.loads(__import__("base64").b64decode(e["entry"]))["payload"]["kind"] for e in bundle["entries"]]
    assert kinds.count("key") == 2 and bundle["log_key"] == vkey


def test_the_cli_says_what_it_checked(lot_bundle, tmp_path):
    lot, document, vkey = lot_bundle
    path = tmp_path / "proof.json"
    path.write_bytes(document)
    result = CliRunner().invoke(app, ["verify", str(path), "--log-key", vkey])
    assert result.exit_code == Outcome.RECALLED, result.output  # the lot is recalled
    assert f"lot {lot} verified" in result.output
    start = document.index(b'"entry":"') + len(b'"entry":"')
    path.write_bytes(document[:start] + b"f" + document[start + 1 :])  # eyJ... ({"...) becomes fyJ...
    result = CliRunner().invoke(app, ["verify", str(path), "--log-key", vkey])
    assert result.exit_code == 1
    assert "verification failed" in result.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_byte_of_a_bundle_makes_it_fail(lot_bundle, data):
    _, document, vkey = lot_bundle
    position = data.draw(st.integers(0, len(document) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != document[position]), label="value")
    altered = document[:position] + bytes([value]) + document[position + 1 :]
    with pytest.raises(VerificationError):
        verify_bundle(altered, Verifier.from_key_string(vkey))


def test_a_bundle_from_another_log_is_refused(lot_bundle):
    from signing.keys import generate_private_key
    from signing.note import Signer

    _, document, _ = lot_bundle
    other = Verifier.from_key_string(Signer("testserver/log", generate_private_key()).verifier_key())
    with pytest.raises(VerificationError, match="log key"):
        verify_bundle(document, other)


def test_unknown_lot_has_no_bundle(client):
    assert client.get("/b/NOSUCHLOT/proof.json").status_code == 404
