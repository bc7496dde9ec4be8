"""`suyuan verify`: the whole-log audit names the first bad entry, whatever was done to it."""

from __future__ import annotations

import json
import shutil

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from signing.errors import VerificationError
from signing.note import Verifier
from tests.conftest import ADMIN_TOKEN, BOTH_DATABASES, make_settings
from tests.factories import Farm
from traceability.cli.monitor import audit_log
from traceability.services import open_services
from traceability.storage.models import LogEntry
from traceability.web.app import create_app

both_databases = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


@pytest.fixture
def seeded(farm, client):
    """A small but varied log: keys, two growers, lots, a packed lot, a regulator's inspection."""
    wang, zhao = farm.grower("王秀英"), farm.grower("赵大山")
    regulator = farm.regulator()
    apples = farm.batch(wang, variety="红富士")["lot"]
    honey = farm.batch(zhao, product="蜂蜜")["lot"]
    farm.event(wang, apples, "input", {"product": "阿维菌素", "kind": "pesticide", "phi_days": 14})
    farm.event(zhao, honey, "harvest", {"quantity": 40, "unit": "kg"})
    farm.harvest(wang, apples, 1200, "jin")
    farm.event(regulator, apples, "inspection", {"test": "快检", "result": "pass"})
    packed = farm.batch(wang, product="苹果礼盒", inputs=[{"lot": apples, "quantity": 100, "unit": "jin"}])["lot"]
    farm.event(wang, packed, "packing", {"quantity": 100, "unit": "jin", "package_count": 10})
    farm.event(zhao, honey, "shipping", {"to": "杭州"})
    return Verifier.from_key_string(client.get("/log/key").text)


def stored_entries(services) -> list[bytes]:
    with services.sessions() as session:
        return [bytes(e) for e in session.execute(select(LogEntry.entry).order_by(LogEntry.idx)).scalars()]


def set_entry(services, index: int, entry: bytes) -> None:
    with services.sessions() as session:
        session.execute(update(LogEntry).where(LogEntry.idx == index).values(entry=entry))
        session.commit()


@both_databases
def test_an_honest_log_verifies(client, seeded, tmp_path):
    report = audit_log(client, seeded)
    assert report.entries == 12 and report.keys == 3 and report.lots == 3


def failure(client, key) -> str:
    with pytest.raises(VerificationError) as failed:
        audit_log(client, key)
    return str(failed.value)


@both_databases
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_byte_of_any_entry_is_caught_and_named(client, services, seeded, data):
    entries = stored_entries(services)
    index = data.draw(st.integers(0, len(entries) - 1), label="index")
    original = entries[index]
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != original[position]), label="value")
    set_entry(services, index, original[:position] + bytes([value]) + original[position + 1 :])
    try:
        assert failure(client, seeded).startswith(f"entry {index}:")
    finally:
        set_entry(services, index, original)


@both_databases
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_swapping_two_entries_is_caught_and_names_the_first(client, services, seeded, data):
    entries = stored_entries(services)
    first = data.draw(st.integers(0, len(entries) - 2), label="first")
    second = data.draw(st.integers(first + 1, len(entries) - 1), label="second")
    set_entry(services, first, entries[second])
    set_entry(services, second, entries[first])
    try:
        assert failure(client, seeded).startswith(f"entry {first}:")
    finally:
        set_entry(services, first, entries[first])
        set_entry(services, second, entries[second])


@both_databases
@settings(max_examples=13, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_dropping_an_entry_is_caught_and_named(client, services, seeded, data):
    entries = stored_entries(services)
    index = data.draw(st.integers(0, len(entries) - 1), label="index")
    with services.sessions() as session:
        row = session.get(LogEntry, index)
        saved = {c.name: getattr(row, c.name) for c in LogEntry.__table__.columns}
        session.execute(delete(LogEntry).where(LogEntry.idx == index))
        session.commit()
    try:
        assert failure(client, seeded).startswith(f"entry {index}:")
    finally:
        with services.sessions() as session:
            session.add(LogEntry(**saved))
            session.commit()


@both_databases
def test_a_log_signed_by_another_key_is_refused(client, seeded):
    from signing.keys import generate_private_key
    from signing.note import Signer

    impostor = Verifier.from_key_string(Signer("testserver/log", generate_private_key()).verifier_key())
    assert "signature" in failure(client, impostor) or "verif" in failure(client, impostor)


def test_monitor_state_accepts_growth_and_refuses_a_rewritten_history(farm, client, services, clock, seeded, tmp_path):
    state = tmp_path / "monitor.json"
    first = audit_log(client, seeded, state)
    assert first.previous_size is None
    farm.batch(farm.grower())
    second = audit_log(client, seeded, state)
    assert second.previous_size == first.checkpoint.size and second.checkpoint.size == first.checkpoint.size + 2
    assert json.loads(state.read_text())["log_key"] == seeded.key_string()

    # A copy of the log, with the same key, that goes its own way from here: the operator
    # showing this monitor a different history than before (a fork, or a split view).
    services.close()
    shutil.copytree(services.settings.data_dir, tmp_path / "fork")
    fork_context = open_services(make_settings(tmp_path / "fork"), clock)
    with TestClient(create_app(fork_context)) as fork_client:
        fork = Farm(fork_client, ADMIN_TOKEN)
        fork.batch(fork.grower("另一个历史"))
        farm.batch(farm.grower("真实的历史"))
        assert audit_log(client, seeded, state).checkpoint.size == second.checkpoint.size + 2
        with pytest.raises(VerificationError, match=r"not an extension|different tree"):
            audit_log(fork_client, seeded, state)
        # The state still holds the last checkpoint that verified.
        assert audit_log(client, seeded, state).previous_size == second.checkpoint.size + 2
    fork_context.close()
