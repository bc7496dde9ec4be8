"""Who holds a member's key, as its `key` entry says (protocol §9), and the rule that keeps the
operator from signing for a member who holds their own keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from signing.errors import VerificationError
from signing.keys import generate_private_key, keyid, raw_public_key
from signing.ledger import LedgerChecker
from signing.payloads import CUSTODIAL, DEVICE, PHONE, batch_payload, key_payload, signed_how
from signing.records import sign_entry

NOW = datetime(2026, 9, 20, 2, 0, tzinfo=UTC)
OPERATOR = generate_private_key()
SUBJECT = {"id": "g-1", "name": "王", "region": "洛川"}


def key_entry(member, custody: str | None = CUSTODIAL, holder: str | None = None, subject=SUBJECT) -> bytes:
    payload = key_payload(NOW, keyid(member), raw_public_key(member), "grower", subject, custody or CUSTODIAL, holder)
    if custody is None:  # as written before custody was recorded
        del payload["custody"]
    return sign_entry(payload, OPERATOR)


def replay(*entries: bytes) -> LedgerChecker:
    checker = LedgerChecker(raw_public_key(OPERATOR))
    for index, entry in enumerate(entries):
        checker.check(index, entry)
    return checker


def test_a_key_entry_says_who_holds_the_key_and_a_page_says_it_in_words():
    phone, client, server = generate_private_key(), generate_private_key(), generate_private_key()
    checker = replay(key_entry(server, None), key_entry(phone, DEVICE, PHONE), key_entry(client, DEVICE))
    assert [checker.keys[keyid(k)].custody for k in (server, phone, client)] == [CUSTODIAL, DEVICE, DEVICE]
    assert signed_how({}) == "platform"  # an entry from before custody was recorded
    assert signed_how({"custody": DEVICE, "holder": PHONE}) == "phone"
    assert signed_how({"custody": DEVICE, "holder": "client"}) == signed_how({"custody": DEVICE}) == "own_key"


@pytest.mark.parametrize(
    ("custody", "holder", "complaint"),
    [("escrow", None, "unknown custody"), (CUSTODIAL, PHONE, "only a device key"), (DEVICE, "watch", "holder")],
)
def test_custody_and_holder_take_only_their_values(custody, holder, complaint):
    with pytest.raises(VerificationError, match=complaint):
        replay(key_entry(generate_private_key(), custody, holder))


def test_a_member_whose_first_key_is_their_own_never_gets_one_the_operator_holds():
    own, planted, phone = generate_private_key(), generate_private_key(), generate_private_key()
    first = key_entry(own, DEVICE)
    replay(first, key_entry(phone, DEVICE, PHONE))  # more keys of their own: yes
    with pytest.raises(VerificationError, match="holds its own keys"):
        replay(first, key_entry(planted, CUSTODIAL))
    with pytest.raises(VerificationError, match="holds its own keys"):
        replay(first, key_entry(planted, None))
    # A member who started custodial may add a phone, and the server keeps signing as a fallback.
    replay(
        key_entry(planted, CUSTODIAL, subject={**SUBJECT, "id": "g-2"}),
        key_entry(phone, DEVICE, PHONE, {**SUBJECT, "id": "g-2"}),
    )


def test_a_monitor_state_keeps_custody_so_the_rule_holds_on_the_next_run():
    own, planted = generate_private_key(), generate_private_key()
    state = replay(key_entry(own, DEVICE)).state()
    restored = LedgerChecker.from_state(raw_public_key(OPERATOR), state)
    assert restored.keys[keyid(own)].custody == DEVICE
    with pytest.raises(VerificationError, match="holds its own keys"):
        restored.check(1, key_entry(planted))
    # A state saved before custody was recorded lists custodial keys with five fields.
    old = {"keys": {k: v[:5] for k, v in state["keys"].items()}, "lots": {}}
    assert LedgerChecker.from_state(raw_public_key(OPERATOR), old).keys[keyid(own)].custody == CUSTODIAL


def test_records_signed_by_a_device_key_obey_the_same_rules():
    phone = generate_private_key()
    batch = batch_payload(NOW, "LOT1", product="苹果", variety=None, plot=None, grower_id="g-1", inputs=[])
    replay(key_entry(phone, DEVICE, PHONE), sign_entry(batch, phone))
    with pytest.raises(VerificationError, match="names grower"):
        replay(key_entry(phone, DEVICE, PHONE), sign_entry(batch | {"grower": {"id": "g-2"}}, phone))
