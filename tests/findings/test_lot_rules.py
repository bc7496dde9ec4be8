"""Anomalies computed when records are appended, and what regulators read (protocol §5, issue #5)."""

from __future__ import annotations

import pytest
from alembic import command

from tests.conftest import BOTH_DATABASES
from tests.factories import Farm
from traceability.storage.database import alembic_config

both_databases = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)
# The test clock reads 2026-09-20T02:00Z; these dates are within a week of it.
SPRAYED = "2026-09-14T08:00:00+08:00"


def anomalies(farm: Farm, regulator, **params) -> list[dict]:
    response = farm.client.get("/api/v1/audit/anomalies", params=params, headers=regulator.headers)
    assert response.status_code == 200, response.text
    return response.json()["anomalies"]


def pesticide(farm, grower, lot, at=SPRAYED, phi=14):
    return farm.event(grower, lot, "input", {"product": "阿维菌素乳油", "kind": "pesticide", "phi_days": phi}, at)


@both_databases
def test_a_harvest_inside_the_pre_harvest_interval_is_flagged(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    pesticide(farm, grower, lot)
    harvest = farm.event(grower, lot, "harvest", {"quantity": 100, "unit": "kg"}, "2026-09-17T08:00:00+08:00")
    assert [w["code"] for w in harvest["warnings"]] == ["phi_violation"]  # the grower is told too
    [found] = anomalies(farm, regulator, code="phi_violation")
    assert (found["lot"], found["index"], found["grower"]) == (lot, harvest["index"], grower.id)
    assert "3 days after 阿维菌素乳油 was sprayed on 2026-09-14" in found["message"]
    assert "pre-harvest interval is 14 days (safe from 2026-09-28)" in found["message"]


def test_a_spray_recorded_after_the_harvest_it_preceded_is_flagged_too(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 100, "unit": "kg"}, "2026-09-18T08:00:00+08:00")
    spray = pesticide(farm, grower, lot)
    [found] = anomalies(farm, regulator, lot=lot)
    assert (found["code"], found["index"]) == ("phi_violation", spray["index"])


def test_a_harvest_after_the_interval_and_a_fertiliser_raise_nothing(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "planting", {"method": "直播"}, "2026-09-14T07:00:00+08:00")
    pesticide(farm, grower, lot, phi=3)
    farm.event(grower, lot, "input", {"product": "有机肥", "kind": "fertiliser"}, "2026-09-16T08:00:00+08:00")
    farm.event(grower, lot, "harvest", {"quantity": 100, "unit": "kg"}, "2026-09-17T08:00:00+08:00")  # exactly 3 days
    packed = farm.batch(grower, "苹果礼盒", inputs=[{"lot": lot, "quantity": 150, "unit": "jin"}])["lot"]
    farm.event(grower, packed, "packing", {"quantity": 75, "unit": "kg", "package_count": 15})
    assert anomalies(farm, regulator) == []


def test_a_harvest_dated_before_its_planting_is_flagged(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "planting", {"method": "嫁接苗"}, "2026-09-15T08:00:00+08:00")
    harvest = farm.event(grower, lot, "harvest", {"quantity": 10, "unit": "kg"}, "2026-09-14T08:00:00+08:00")
    [found] = anomalies(farm, regulator, code="harvest_before_planting")
    assert found["index"] == harvest["index"] and "2026-09-14" in found["message"] and "2026-09-15" in found["message"]


def test_a_record_dated_long_before_it_was_received_is_backdated(farm, services):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "observation", {"note": "on time"}, "2026-09-14T08:00:00+08:00")  # 6 days before
    late = farm.event(grower, lot, "observation", {"note": "late"}, "2026-09-01T08:00:00+08:00")
    [found] = anomalies(farm, regulator, code="backdated")
    assert found["index"] == late["index"] and "19 days after the date it claims (2026-09-01)" in found["message"]


def test_packing_more_than_was_harvested_is_flagged(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 1000, "unit": "jin"})  # 500 kg
    first = farm.event(grower, lot, "packing", {"quantity": 300, "unit": "kg", "package_count": 30})
    assert anomalies(farm, regulator) == []
    second = farm.event(grower, lot, "packing", {"quantity": 250, "unit": "kg", "package_count": 25})
    [found] = anomalies(farm, regulator, code="quantity_exceeds_harvest")
    assert found["index"] == second["index"]
    assert f"550 kg has left lot {lot} (before it: log entries {first['index']})" in found["message"]
    assert "only 500 kg" in found["message"]


def test_taking_more_into_derived_lots_than_was_harvested_is_flagged(farm):
    grower, regulator = farm.grower(), farm.regulator()
    field = farm.batch(grower)["lot"]
    farm.event(grower, field, "harvest", {"quantity": 100, "unit": "kg"})
    farm.batch(grower, "苹果礼盒", inputs=[{"lot": field, "quantity": 60, "unit": "kg"}])
    second = farm.batch(grower, "苹果礼盒", inputs=[{"lot": field, "quantity": 100, "unit": "jin"}])
    assert [w["code"] for w in second["warnings"]] == ["quantity_exceeds_harvest"]
    [found] = anomalies(farm, regulator)
    assert (found["lot"], found["index"]) == (second["lot"], second["index"])
    assert f"110 kg has left lot {field} (before it: log entries " in found["message"]


def test_what_a_lot_packs_itself_and_what_lots_made_from_it_take_add_up(farm):
    """The issue's case: 120 kg packed from the lot itself and 150 kg taken into a packed lot,
    out of a 200 kg harvest."""
    grower, regulator = farm.grower(), farm.regulator()
    field = farm.batch(grower)["lot"]
    farm.event(grower, field, "harvest", {"quantity": 200, "unit": "kg"})
    packing = farm.event(grower, field, "packing", {"quantity": 120, "unit": "kg", "package_count": 12})
    assert anomalies(farm, regulator) == []
    packed = farm.batch(grower, "苹果礼盒", inputs=[{"lot": field, "quantity": 150, "unit": "kg"}])
    [found] = anomalies(farm, regulator, code="quantity_exceeds_harvest")
    assert found["index"] == packed["index"]
    assert f"270 kg has left lot {field} (before it: log entries {packing['index']})" in found["message"]


def test_shipping_counts_once_with_the_packing_it_ships(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 100, "unit": "kg"})
    farm.event(grower, lot, "packing", {"quantity": 100, "unit": "kg", "package_count": 10})
    farm.event(grower, lot, "shipping", {"to": "西安", "quantity": 100, "unit": "kg"})
    assert anomalies(farm, regulator) == []  # what is shipped was packed first
    farm.event(grower, lot, "shipping", {"to": "北京", "quantity": 50, "unit": "kg"})
    [found] = anomalies(farm, regulator, code="quantity_exceeds_harvest")
    assert "150 kg has left lot" in found["message"] and "only 100 kg" in found["message"]


def test_boxes_are_not_weighed_against_kilograms(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 100, "unit": "kg"})
    farm.event(grower, lot, "packing", {"quantity": 500, "unit": "box", "package_count": 500})
    assert anomalies(farm, regulator) == []


def test_photo_warnings_of_records_are_anomalies_too(farm, gps_photo_bytes):
    grower, other, regulator = farm.grower(), farm.grower(), farm.regulator()
    sha = farm.photo(grower, gps_photo_bytes)
    farm.event(
        grower, farm.batch(grower)["lot"], "harvest", {"quantity": 5, "unit": "kg"}, "2026-09-18T09:00:00+08:00", [sha]
    )
    farm.photo(other, gps_photo_bytes)  # the same bytes, cited again by another grower
    lot = farm.batch(other)["lot"]
    farm.event(other, lot, "harvest", {"quantity": 5, "unit": "kg"}, "2026-09-18T09:00:00+08:00", [sha])
    codes = {a["code"] for a in anomalies(farm, regulator, lot=lot)}
    assert "photo_reused" in codes and all(a["photo"] == sha for a in anomalies(farm, regulator, code="photo_reused"))


@pytest.fixture
def gps_photo_bytes() -> bytes:
    from tests.orchard import HARVEST_PHOTO

    return HARVEST_PHOTO.read_bytes()


def test_filters_and_pages(farm, services):
    growers = [farm.grower(), farm.grower()]
    regulator = farm.regulator()
    lots = [farm.batch(g)["lot"] for g in growers]
    for grower, lot in zip(growers, lots, strict=True):
        for day in range(1, 4):
            farm.event(grower, lot, "observation", {"note": "late"}, f"2026-08-0{day}T08:00:00+08:00")
    assert len(anomalies(farm, regulator)) == 6
    assert {a["lot"] for a in anomalies(farm, regulator, grower=growers[1].id)} == {lots[1]}
    assert len(anomalies(farm, regulator, lot=lots[0], code="backdated")) == 3
    assert anomalies(farm, regulator, code="phi_violation") == []
    first = farm.client.get("/api/v1/audit/anomalies", params={"limit": 4}, headers=regulator.headers).json()
    rest = farm.client.get("/api/v1/audit/anomalies", params={"after": first["next"]}, headers=regulator.headers).json()
    assert len(first["anomalies"]) == 4 and len(rest["anomalies"]) == 2 and rest["next"] is None
    recorded = anomalies(farm, regulator)[0]["recorded_at"]
    assert len(anomalies(farm, regulator, **{"from": recorded})) == 6
    assert anomalies(farm, regulator, to=recorded) == []


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"code": "nonsense"}, 422),
        ({"lot": "lower"}, 422),
        ({"from": "yesterday"}, 422),
        ({"from": "2026-09-01T00:00:00"}, 422),
        ({"limit": 0}, 422),
        ({"after": -1}, 422),
    ],
)
def test_bad_filters_say_what_is_wrong(farm, params, status):
    response = farm.client.get("/api/v1/audit/anomalies", params=params, headers=farm.regulator().headers)
    assert response.status_code == status and response.json()["error"]["message"]


def test_only_regulators_read_anomalies_and_recalls(farm):
    grower = farm.grower()
    for path in ("/api/v1/audit/anomalies", "/api/v1/audit/recalls"):
        assert farm.client.get(path).status_code == 401
        assert farm.client.get(path, headers=grower.headers).status_code == 403


@both_databases
def test_a_log_from_before_lot_facts_gets_them_from_its_records(farm, services):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "harvest", {"quantity": 100, "unit": "kg"}, "2026-09-18T08:00:00+08:00")
    config = alembic_config(services.engine)
    command.downgrade(config, "0004")  # a database from before lot_facts
    command.upgrade(config, "head")
    # Both rules below see the harvest only through the facts the migration made of it.
    farm.event(grower, lot, "packing", {"quantity": 80, "unit": "kg", "package_count": 8})
    spray = pesticide(farm, grower, lot, at="2026-09-15T08:00:00+08:00")
    assert [(a["code"], a["index"]) for a in anomalies(farm, regulator, lot=lot)] == [("phi_violation", spray["index"])]


def test_time_filters_mean_the_same_instant_in_any_offset(farm, services):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(grower, lot, "observation", {"note": "late"}, "2026-09-01T08:00:00+08:00")  # recorded 2026-09-20T02:00Z
    for start in ("2026-09-20T01:00:00Z", "2026-09-20T09:00:00+08:00", "2026-09-19T20:00:00-05:00"):
        assert len(anomalies(farm, regulator, **{"from": start})) == 1, start
    for start in ("2026-09-20T03:00:00Z", "2026-09-20T11:00:00+08:00"):
        assert anomalies(farm, regulator, **{"from": start}) == [], start


def test_a_regulators_late_lab_result_is_not_the_growers_backdated_record(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    farm.event(regulator, lot, "inspection", {"test": "农残检测", "result": "pass"}, "2026-09-05T08:00:00+08:00")
    assert anomalies(farm, regulator) == []


def test_one_lot_taking_twice_from_the_same_source_is_counted_whole(farm):
    grower = farm.grower()
    field = farm.batch(grower)["lot"]
    farm.event(grower, field, "harvest", {"quantity": 10, "unit": "kg"})
    made = farm.batch(
        grower,
        "礼盒",
        inputs=[{"lot": field, "quantity": 6, "unit": "kg"}, {"lot": field, "quantity": 6, "unit": "kg"}],
    )
    assert [w["code"] for w in made["warnings"]] == ["quantity_exceeds_harvest"]


def test_the_interval_message_speaks_in_the_growers_own_days(farm):
    grower, regulator = farm.grower(), farm.regulator()
    lot = farm.batch(grower)["lot"]
    pesticide(farm, grower, lot, at="2026-09-14T07:00:00+08:00", phi=7)  # 2026-09-13T23:00Z
    farm.event(grower, lot, "harvest", {"quantity": 1, "unit": "kg"}, "2026-09-18T08:00:00+08:00")
    [found] = anomalies(farm, regulator, code="phi_violation")
    assert "sprayed on 2026-09-14" in found["message"] and "safe from 2026-09-21" in found["message"]
