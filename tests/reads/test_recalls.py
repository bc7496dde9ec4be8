"""A regulator's recall reaches every lot made from the recalled one (protocol §5, issue #5)."""

from __future__ import annotations

from signing.bundle import verify_bundle
from signing.note import Verifier
from tests.orchard import grow, recall


def test_a_recall_is_signed_by_the_regulator_and_reaches_every_derived_lot(farm, client):
    orchard = grow(farm)
    # Two steps further down: a gift box re-packed into a mixed crate.
    crate = farm.batch(orchard.grower, "混装果箱", inputs=[{"lot": orchard.packed_lot, "quantity": 5, "unit": "box"}])[
        "lot"
    ]
    unrelated = grow(farm, grower_name="赵六")
    appended = recall(farm, orchard, orchard.field_lot)

    listed = client.get("/api/v1/audit/recalls", headers=orchard.regulator.headers).json()["recalls"]
    assert len(listed) == 1
    [entry] = listed
    assert (entry["lot"], entry["index"]) == (orchard.field_lot, appended["index"])
    assert entry["affected"] == [orchard.packed_lot, crate]
    assert entry["regulator"]["agency"] == "洛川县农业农村局" and "农药残留超标" in entry["reason"]

    for lot in (orchard.field_lot, orchard.packed_lot, crate):
        assert client.get(f"/b/{lot}").text.count('role="alert"') == 1, lot
    for lot in (unrelated.field_lot, unrelated.packed_lot):
        assert 'role="alert"' not in client.get(f"/b/{lot}").text, lot

    # The recall is the regulator's own signed record, checkable offline from the lot's bundle.
    log_key = Verifier.from_key_string(client.get("/log/key").text)
    verified = verify_bundle(client.get(f"/b/{orchard.field_lot}/proof.json").content, log_key)
    record = verified.records[-1]
    assert record.index == appended["index"] and record.type == "recall"
    assert record.signer == orchard.regulator.keyid


def test_only_a_regulator_can_recall(farm, client):
    orchard = grow(farm)
    response = client.post(
        f"/api/v1/batches/{orchard.field_lot}/events",
        json={"type": "recall", "occurred_at": "2026-09-19T09:00:00+08:00", "data": {"reason": "我想召回"}},
        headers=orchard.grower.headers,
    )
    assert response.status_code == 403 and "regulator" in response.json()["error"]["message"]
    assert client.get("/api/v1/audit/recalls", headers=orchard.regulator.headers).json() == {"recalls": []}


def test_a_recall_reaches_through_any_number_of_repackings(farm, client):
    """Lots each made from the two before: 40 levels deep, and many paths to the root."""
    orchard = grow(farm)
    chain = [orchard.field_lot, orchard.packed_lot]
    for _ in range(40):
        inputs = [{"lot": lot, "quantity": 1, "unit": "piece"} for lot in chain[-2:]]
        chain.append(farm.batch(orchard.grower, "混装果箱", inputs=inputs)["lot"])
    deepest = chain[-1]
    assert 'role="alert"' not in client.get(f"/b/{deepest}").text  # cached before the recall
    recall(farm, orchard, orchard.field_lot)
    assert client.get(f"/b/{deepest}").text.count('role="alert"') == 1
    [listed] = client.get("/api/v1/audit/recalls", headers=orchard.regulator.headers).json()["recalls"]
    assert listed["affected"] == chain[1:]


def test_labels_of_a_recalled_lot_lose_the_certificate(farm, client):
    orchard = grow(farm)
    recall(farm, orchard, orchard.field_lot)
    html = client.get(f"/b/{orchard.packed_lot}/labels", params={"count": 3}).text
    assert "承诺达标合格证" not in html and "已召回：这些标签不得使用。" in html
