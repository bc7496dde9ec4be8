"""The demo farm `suyuan demo` seeds: a Luochuan apple grower, a packed lot with its
certificate, an inspection, and a lot of pears picked inside a pesticide's interval, which
its page says first.

It is written through the same services as the API, so it is real signed data in the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..accounts.actors import ADMIN, Actor
from ..lots import inputs
from ..lots.inputs import BatchIn, InputLot, PlotIn
from ..services import Services
from ..storage.secrets import write_secret

DEMO_FILE = "demo.json"


@dataclass(frozen=True)
class Seeded:
    lots: dict[str, str]
    tokens_file: Path
    note: str


def seed(services: Services) -> Seeded:
    """Seed once; later runs find the demo file and leave the log as it is."""
    path = services.settings.data_dir / DEMO_FILE
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        return Seeded(saved["lots"], path, "seeded earlier")
    accounts, lots = services.accounts, services.lots
    tokens = {}
    grower = accounts.register(
        ADMIN, "grower", {"name": "王秀英", "region": "陕西省延安市洛川县"}, "13800000000", None
    ).body
    regulator = accounts.register(
        ADMIN, "regulator", {"name": "李建国", "agency": "洛川县农业农村局", "region": "陕西省延安市洛川县"}, None, None
    ).body
    tokens["grower"], tokens["regulator"] = grower["token"], regulator["token"]
    wang = services.authenticator.authenticate(grower["token"])
    li = services.authenticator.authenticate(regulator["token"])
    plot = lots.create_plot(wang, PlotIn(name="凤栖镇后山果园", lat=35.7621, lon=109.4251, area_mu=8), None).body
    field_lot = lots.create_batch(
        wang, BatchIn(product="苹果 Apples", variety="红富士 Red Fuji", plot_id=plot["plot_id"]), None
    ).body["lot"]
    now = services.clock.now().astimezone()
    day = timedelta(days=1)

    def log(actor: Actor, lot: str, type_: str, days_ago: float, data: dict) -> None:
        at = (now - days_ago * day).replace(microsecond=0).isoformat()
        event = inputs.event({"type": type_, "occurred_at": at, "data": data})
        lots.append_event(actor, lot, event, None)

    log(wang, field_lot, "planting", 200, {"method": "嫁接苗 grafted seedlings", "area_mu": 8})
    log(wang, field_lot, "input", 120, {"product": "有机肥 organic manure", "kind": "fertiliser", "dose": "2000 kg/亩"})
    log(
        wang,
        field_lot,
        "input",
        45,
        {
            "product": "阿维菌素 abamectin 1.8% EC",
            "kind": "pesticide",
            "active_ingredient": "abamectin",
            "dose": "3000倍液",
            "phi_days": 14,
        },
    )
    log(wang, field_lot, "irrigation", 30, {"method": "滴灌 drip", "amount": 12, "unit": "m3"})
    log(wang, field_lot, "harvest", 6, {"quantity": 1200, "unit": "jin", "note": "晴天采摘 picked on a dry day"})
    log(
        li,
        field_lot,
        "inspection",
        5,
        {
            "test": "农药残留快速检测 pesticide residue rapid test",
            "result": "pass",
            "lab": "洛川县农产品质量安全检测站",
        },
    )
    packed = lots.create_batch(
        wang,
        BatchIn(
            product="苹果礼盒 Apple gift box",
            variety="红富士 Red Fuji",
            gtin="06901234567892",
            inputs=[InputLot(lot=field_lot, quantity=200, unit="jin")],
        ),
        None,
    ).body["lot"]
    log(wang, packed, "packing", 4, {"quantity": 200, "unit": "jin", "package_count": 20})
    certificate = {"basis": ["自控自检", "委托检测"], "quantity": 200, "unit": "jin", "contact": "13800000000"}
    log(wang, packed, "certificate", 4, certificate)
    log(wang, packed, "shipping", 3, {"to": "西安 Xi'an", "carrier": "顺丰 SF Express", "quantity": 20, "unit": "box"})
    pears = lots.create_batch(wang, BatchIn(product="酥梨 Pears", plot_id=plot["plot_id"]), None).body["lot"]
    imidacloprid = {"product": "吡虫啉 imidacloprid", "kind": "pesticide", "dose": "2000倍液", "phi_days": 7}
    log(wang, pears, "input", 5, imidacloprid)
    log(wang, pears, "harvest", 2, {"quantity": 300, "unit": "kg"})
    seeded = {"field lot (apples)": field_lot, "packed lot (gift boxes)": packed, "pears, picked too early": pears}
    write_secret(path, json.dumps({"lots": seeded, "tokens": tokens}, ensure_ascii=False, indent=2) + "\n")
    return Seeded(seeded, path, "seeded now")


def sign_in_card(services: Services, seeded: Seeded) -> str:
    """A fresh sign-in card for the demo grower (it ends the sessions of the last one)."""
    token = json.loads(seeded.tokens_file.read_text(encoding="utf-8"))["tokens"]["grower"]
    grower = services.authenticator.authenticate(token)
    return services.browser_sessions.issue_login_link(ADMIN, grower.id)["card"]
