"""A farm whose records show each thing a buyer must hear of first (issue #11): a harvest
inside a pesticide's interval, a harvest before planting, a failed inspection, more sold than
harvested, and a recall. Each case is its own lot, logged through the API as a grower would."""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import Account, Farm


@dataclass
class Troubles:
    grower: Account
    regulator: Account
    interval: str  # harvested 3 days after 吡虫啉, whose label asks for 7
    interval_harvest: dict  # the append's answer for that harvest
    before_planting: str
    failed: str
    oversold: str  # packed 120 kg itself and gave 150 kg to `oversold_into`, out of 200 kg
    oversold_into: str
    recalled: str


def seed(farm: Farm) -> Troubles:
    grower, regulator = farm.grower("王秀英"), farm.regulator()
    plot = farm.plot(grower, "后山果园")

    interval = farm.batch(grower, "苹果", variety="红富士", plot_id=plot)["lot"]
    spray = {"product": "吡虫啉", "kind": "pesticide", "active_ingredient": "吡虫啉", "phi_days": 7}
    farm.event(grower, interval, "input", spray, "2026-09-13T08:00:00+08:00")
    harvest = farm.event(grower, interval, "harvest", {"quantity": 300, "unit": "kg"}, "2026-09-16T09:00:00+08:00")

    before = farm.batch(grower, "苹果", plot_id=plot)["lot"]
    farm.event(grower, before, "planting", {"method": "嫁接苗"}, "2026-09-18T08:00:00+08:00")
    farm.event(grower, before, "harvest", {"quantity": 50, "unit": "kg"}, "2026-09-15T08:00:00+08:00")

    failed = farm.batch(grower, "苹果", plot_id=plot)["lot"]
    farm.event(grower, failed, "harvest", {"quantity": 80, "unit": "kg"}, "2026-09-17T08:00:00+08:00")
    test = {"test": "农药残留快速检测", "result": "fail", "lab": "洛川县农产品质量安全检测站"}
    farm.event(regulator, failed, "inspection", test, "2026-09-19T10:00:00+08:00")

    oversold = farm.batch(grower, "苹果", plot_id=plot)["lot"]
    farm.event(grower, oversold, "harvest", {"quantity": 200, "unit": "kg"}, "2026-09-15T08:00:00+08:00")
    farm.event(
        grower, oversold, "packing", {"quantity": 120, "unit": "kg", "package_count": 12}, "2026-09-16T08:00:00+08:00"
    )
    into = farm.batch(grower, "苹果礼盒", inputs=[{"lot": oversold, "quantity": 150, "unit": "kg"}])["lot"]

    recalled = farm.batch(grower, "苹果", plot_id=plot)["lot"]
    farm.event(grower, recalled, "harvest", {"quantity": 60, "unit": "kg"}, "2026-09-15T08:00:00+08:00")
    farm.event(regulator, recalled, "recall", {"reason": "农药残留超标"}, "2026-09-19T15:00:00+08:00")
    return Troubles(grower, regulator, interval, harvest, before, failed, oversold, into, recalled)
