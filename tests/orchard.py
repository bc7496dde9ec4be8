"""One orchard's season, made through the API: the lot a consumer scans, and the field lot it came from."""

from __future__ import annotations

from dataclasses import dataclass

from tests.corpus import GPS_PHOTO
from tests.factories import Account, Farm, exif_place_and_time

HARVEST_PHOTO = GPS_PHOTO
GTIN = "06901234567892"


@dataclass
class Orchard:
    grower: Account
    regulator: Account
    field_lot: str
    packed_lot: str
    photo: str
    harvested_at: str


def grow(farm: Farm, *, grower_name: str = "王秀英", variety: str = "红富士", certified: bool = True) -> Orchard:
    """Planting, a pesticide with its interval, a harvest with a photo, an inspection, packing,
    the grower's certificate for the packed lot (unless not `certified`) and shipping."""
    lat, lon, taken = exif_place_and_time(HARVEST_PHOTO)
    grower = farm.grower(grower_name, region="陕西省延安市洛川县")
    regulator = farm.regulator()
    plot = farm.plot(grower, "后山果园", lat=lat + 0.005, lon=lon)
    field_lot = farm.batch(grower, "苹果", variety=variety, plot_id=plot)["lot"]
    farm.event(grower, field_lot, "planting", {"method": "嫁接苗"}, "2008-03-20T08:00:00+08:00")
    farm.event(
        grower,
        field_lot,
        "input",
        {
            "product": "阿维菌素乳油",
            "kind": "pesticide",
            "active_ingredient": "阿维菌素",
            "dose": "3000倍液",
            "phi_days": 14,
        },
        "2008-09-20T07:30:00+08:00",
    )
    harvested_at = taken + "+02:00"
    photo = farm.photo(grower, HARVEST_PHOTO.read_bytes())
    farm.event(
        grower, field_lot, "harvest", {"quantity": 1200, "unit": "jin", "note": "晴天采摘"}, harvested_at, [photo]
    )
    farm.event(
        regulator,
        field_lot,
        "inspection",
        {"test": "农药残留快速检测", "result": "pass", "lab": "洛川县农产品质量安全检测站"},
        "2008-10-23T10:00:00+08:00",
    )
    packed_lot = farm.batch(
        grower, "苹果礼盒", variety=variety, gtin=GTIN, inputs=[{"lot": field_lot, "quantity": 200, "unit": "jin"}]
    )["lot"]
    farm.event(
        grower,
        packed_lot,
        "packing",
        {"quantity": 200, "unit": "jin", "package_count": 20},
        "2008-10-24T09:00:00+08:00",
    )
    if certified:
        certify(farm, grower, packed_lot)
    farm.event(
        grower,
        packed_lot,
        "shipping",
        {"to": "西安", "carrier": "顺丰", "quantity": 20, "unit": "box"},
        "2008-10-25T09:00:00+08:00",
    )
    return Orchard(grower, regulator, field_lot, packed_lot, photo, harvested_at)


def recall(
    farm: Farm, orchard: Orchard, lot: str, reason: str = "农药残留超标 pesticide residue above the limit"
) -> dict:
    return farm.event(orchard.regulator, lot, "recall", {"reason": reason}, "2008-10-26T15:00:00+08:00")


def certify(farm: Farm, grower: Account, lot: str, contact: str | None = "0911-7654321", status: int = 201) -> dict:
    """The grower issues the lot's 承诺达标合格证."""
    data = {"basis": ["自控自检", "委托检测"], "quantity": 200, "unit": "jin"} | (
        {"contact": contact} if contact else {}
    )
    body = {"type": "certificate", "occurred_at": "2008-10-24T10:00:00+08:00", "data": data}
    return farm._post(f"/api/v1/batches/{lot}/events", body, grower.headers, status)
