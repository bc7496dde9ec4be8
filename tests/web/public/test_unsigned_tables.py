"""An attacker with a copy of the database edits what no signature covers (issue #11, item 6).

The public page takes every fact it shows from the signed entries, and chooses a lot's
records from their signed payloads: each edit below either leaves the page as it was or
makes it say that the records failed verification. Each page is read by a server started
after the edit, with nothing cached, as after a restart.

Left out, and said in docs/design.md: the photo warnings and the count of photos with a
time and place, which come from what the server found in the photo files when they were
uploaded (advice about files, not facts of the record).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.orchard import Orchard, grow, recall
from tests.pages import text_of
from traceability.services import Services, open_services
from traceability.web.app import create_app

FAILED = "记录未通过核验"


def page_of(services: Services, lot: str) -> str:
    """The page as a freshly started server renders it (its own index and cache)."""
    fresh = open_services(services.settings, services.clock)
    try:
        with TestClient(create_app(fresh)) as client:
            response = client.get(f"/b/{lot}", params={"lang": "zh"})
            assert response.status_code == 200, response.text
            # The checkpoint is signed anew by each start; what the page says of the lot is the rest.
            return re.sub(r"<pre>.*?</pre>", "", text_of(response.text), flags=re.S)
    finally:
        fresh.close()


def edit(services: Services, statement: str, **values: object) -> None:
    with services.sessions() as session:
        result = session.execute(text(statement), values)
        session.commit()
    assert getattr(result, "rowcount", 0), statement  # the edit changed something


@pytest.fixture
def orchard(farm) -> Orchard:
    orchard = grow(farm)
    recall(farm, orchard, orchard.field_lot)
    return orchard


EDITS = {
    "the product": "UPDATE batches SET product = '有机苹果', variety = '特级' WHERE lot IN (:field, :packed)",
    "the grower's name and region": "UPDATE identities SET name = '张大户', region = '北京市' WHERE role = 'grower'",
    "the regulator's name and agency": "UPDATE identities SET name = '某人', agency = '某局' WHERE role = 'regulator'",
    "the contact": "UPDATE identities SET phone = '13900000000' WHERE role = 'grower'",
    "the plot": "UPDATE plots SET name = '有机示范园', lat = 30.0, lon = 120.0",
    "the lot owner": "UPDATE batches SET owner_id = (SELECT id FROM identities WHERE role = 'regulator') WHERE lot = :packed",
    "the GTIN": "UPDATE batches SET gtin = '00000000000017' WHERE lot = :packed",
    "the tip of a chain": "UPDATE batches SET last_seq = 0 WHERE lot IN (:field, :packed)",
    "what a lot was made from": "UPDATE batch_inputs SET input_lot = :packed, quantity = 1 WHERE lot = :packed",
    "the recall's lot column": "UPDATE log_entries SET lot = :packed, seq = 99 WHERE event_type = 'recall'",
    "every record's lot column": "UPDATE log_entries SET lot = NULL, event_type = NULL WHERE lot = :field",
    "who signed, by column": "UPDATE log_entries SET signer_keyid = 'ab' WHERE lot IS NOT NULL",
    "the stored findings of records": "DELETE FROM findings WHERE sha256 IS NULL",
}


@pytest.mark.parametrize("what", list(EDITS))
def test_an_edit_of_an_unsigned_table_leaves_the_page_as_it_was(services, orchard, what):
    lots = {"field": orchard.field_lot, "packed": orchard.packed_lot}
    before = {lot: page_of(services, lot) for lot in lots.values()}
    assert "已召回" in before[orchard.packed_lot] and "王秀英" in before[orchard.packed_lot]
    edit(services, EDITS[what], **lots)
    for lot in lots.values():
        assert page_of(services, lot) == before[lot], (what, lot)


TAMPERING = {
    "a record's bytes": "UPDATE log_entries SET entry = REPLACE(entry, CAST('1200' AS BLOB), CAST('9200' AS BLOB)) WHERE lot = :field",
    "the recall's bytes": "UPDATE log_entries SET entry = REPLACE(entry, CAST('农药' AS BLOB), CAST('化肥' AS BLOB)) WHERE event_type = 'recall'",
    "a key entry's name": "UPDATE log_entries SET entry = REPLACE(entry, CAST('王秀英' AS BLOB), CAST('张大户' AS BLOB)) WHERE kind = 'key'",
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_an_edit_of_the_signed_entries_makes_the_page_say_it_failed(services, orchard, what):
    assert FAILED not in page_of(services, orchard.packed_lot)
    edit(services, TAMPERING[what], field=orchard.field_lot)
    seen = page_of(services, orchard.packed_lot)
    assert FAILED in seen and "记录完整" not in seen
