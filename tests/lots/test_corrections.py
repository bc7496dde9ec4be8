"""Corrections and the certificate as signed records (protocol §11), and a record sent twice."""

from __future__ import annotations

import pytest

from tests.factories import Farm
from tests.orchard import certify
from tests.troubles import seed


def post(farm: Farm, actor, lot: str, type_: str, data: dict, status: int, **extra) -> dict:
    body = {"type": type_, "occurred_at": "2026-09-20T09:00:00+08:00", "data": data, **extra}
    response = farm.client.post(f"/api/v1/batches/{lot}/events", json=body, headers=actor.headers)
    assert response.status_code == status, response.text
    return response.json()


def anomalies(farm: Farm, regulator, lot: str) -> list[dict]:
    response = farm.client.get("/api/v1/audit/anomalies", params={"lot": lot}, headers=regulator.headers)
    assert response.status_code == 200, response.text
    return response.json()["anomalies"]


def test_a_certificate_is_refused_with_the_reason_and_issued_once_the_record_is_corrected(farm: Farm):
    t = seed(farm)
    refused = certify(farm, t.grower, t.interval, status=422)["error"]
    assert refused["code"] == "certificate_refused"
    assert "harvested on 2026-09-16, 3 days after 吡虫啉 was sprayed on 2026-09-13" in refused["message"]
    assert "interval is 7 days (safe from 2026-09-20)" in refused["message"]
    # The harvest was in fact on the 21st: the grower corrects the date, with a reason.
    seq = t.interval_harvest["seq"]
    replacement = {"occurred_at": "2026-09-21T09:00:00+08:00"}
    post(
        farm,
        t.grower,
        t.interval,
        "correction",
        {"corrects": seq, "reason": "记错日子了", "replacement": replacement},
        201,
    )
    certify(farm, t.grower, t.interval)
    # The regulators' list shows the interval finding, resolved by the correction.
    [found] = [a for a in anomalies(farm, t.regulator, t.interval) if a["code"] == "phi_violation"]
    assert found["resolved_by"] is not None


@pytest.mark.parametrize("case", ["failed", "recalled"])
def test_a_failed_inspection_or_a_recall_refuses_the_certificate(farm: Farm, case: str):
    t = seed(farm)
    lot = getattr(t, case)
    refused = certify(farm, t.grower, lot, status=422)["error"]
    assert refused["code"] == "certificate_refused"
    assert ("failed the inspection '农药残留快速检测'" if case == "failed" else "recalled on 2026-09-19") in refused[
        "message"
    ]
    # The grower cannot lift it by correcting the regulator's record.
    seq = 2
    error = post(farm, t.grower, lot, "correction", {"corrects": seq, "reason": "不对"}, 403)["error"]
    assert error["code"] == "not_your_record"


def test_a_source_lots_recall_refuses_the_packed_lots_certificate(farm: Farm):
    t = seed(farm)
    packed = farm.batch(t.grower, "苹果礼盒", inputs=[{"lot": t.recalled, "quantity": 10, "unit": "kg"}])["lot"]
    farm.event(t.grower, packed, "packing", {"quantity": 10, "unit": "kg", "package_count": 2})
    refused = certify(farm, t.grower, packed, status=422)["error"]
    assert f"lot {t.recalled}: recalled on 2026-09-19" in refused["message"]


def test_a_regulator_corrects_its_own_inspection_and_only_that(farm: Farm):
    t = seed(farm)
    other = farm.regulator("张三", "宜川县农业农村局")
    error = post(farm, other, t.failed, "correction", {"corrects": 2, "reason": "录错"}, 403)["error"]
    assert error["code"] == "not_your_record"
    error = post(farm, t.regulator, t.failed, "correction", {"corrects": 1, "reason": "录错"}, 403)["error"]
    assert error["code"] == "not_your_record"  # the grower's harvest is the grower's to correct
    fixed = {"test": "农药残留快速检测", "result": "pass", "lab": "洛川县农产品质量安全检测站"}
    body = {"corrects": 2, "reason": "录入时选错了结果", "replacement": {"data": fixed}}
    post(farm, t.regulator, t.failed, "correction", body, 201)
    certify(farm, t.grower, t.failed)


def test_a_voided_record_is_kept_and_a_certificate_can_be_withdrawn(farm: Farm):
    t = seed(farm)
    post(farm, t.grower, t.before_planting, "correction", {"corrects": 1, "reason": "种植记在了别的批次"}, 201)
    certify(farm, t.grower, t.before_planting)
    records = farm.client.get(f"/api/v1/batches/{t.before_planting}").json()["records"]
    assert [r["record"]["payload"].get("type") for r in records] == [
        None,
        "planting",
        "harvest",
        "correction",
        "certificate",
    ]
    # A later failed inspection withdraws it: the page says so, the record stays.
    post(farm, t.regulator, t.before_planting, "inspection", {"test": "农残检测", "result": "fail"}, 201)
    page = farm.client.get(f"/b/{t.before_planting}", params={"lang": "en"}).text
    assert "Withdrawn: the records above show why this lot can no longer be certified." in page


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"corrects": 0, "reason": "x"}, 422),  # the lot's own batch record
        ({"corrects": 99, "reason": "x"}, 422),
        ({"corrects": 1}, 422),
        ({"corrects": 1, "reason": "x", "replacement": {}}, 422),
        ({"corrects": 1, "reason": "x", "replacement": {"data": {"quantity": -1, "unit": "kg"}}}, 422),
        ({"corrects": 1, "reason": "x", "replacement": {"occurred_at": "2099-01-01T00:00:00+08:00"}}, 422),
        ({"corrects": 1, "reason": "x", "replacement": {"data": {"quantity": 1, "unit": "kg", "x": 1}}}, 422),
    ],
)
def test_a_bad_correction_is_refused_with_what_is_wrong_and_nothing_is_stored(farm: Farm, data: dict, code: int):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 5, "unit": "kg"})
    error = post(farm, grower, lot, "correction", data, code)["error"]
    assert error["message"]
    assert len(farm.client.get(f"/api/v1/batches/{lot}").json()["records"]) == 2


def test_a_correction_of_a_correction_is_refused(farm: Farm):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 5, "unit": "kg"})
    post(farm, grower, lot, "correction", {"corrects": 1, "reason": "写错了"}, 201)
    assert (
        post(farm, grower, lot, "correction", {"corrects": 2, "reason": "x"}, 422)["error"]["code"] == "cannot_correct"
    )


def test_the_same_record_twice_within_minutes_is_asked_about_not_appended(farm: Farm):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    harvest = {"quantity": 30, "unit": "kg"}
    first = post(farm, grower, lot, "harvest", harvest, 201)
    error = post(farm, grower, lot, "harvest", harvest, 409)["error"]
    assert error["code"] == "repeated" and f"log entry {first['index']}" in error["message"]
    assert len(farm.client.get(f"/api/v1/batches/{lot}").json()["records"]) == 2
    post(farm, grower, lot, "harvest", {"quantity": 31, "unit": "kg"}, 201)  # another harvest is another record
    post(farm, grower, lot, "harvest", harvest, 201, again=True)  # asked, and it really happened twice
    assert len(farm.client.get(f"/api/v1/batches/{lot}").json()["records"]) == 4


def test_the_certificate_needs_its_fields(farm: Farm):
    grower = farm.grower()
    lot = farm.batch(grower)["lot"]
    for data in (
        {"basis": [], "quantity": 1, "unit": "kg"},
        {"basis": ["随便"], "quantity": 1, "unit": "kg"},
        {"basis": ["自控自检"], "unit": "kg"},
    ):
        assert post(farm, grower, lot, "certificate", data, 422)["error"]["message"]
