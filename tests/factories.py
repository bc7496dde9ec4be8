"""Test data made through the public API, the way a client would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import exifread
import httpx

from traceability.services import Services

_names = itertools.count(1)


@dataclass
class Account:
    id: str
    token: str
    keyid: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Farm:
    def __init__(self, client: httpx.Client, admin_token: str) -> None:
        self.client = client
        self.admin = {"Authorization": f"Bearer {admin_token}"}

    def _post(self, path: str, body: dict, headers: dict, status: int = 201) -> dict:
        response = self.client.post(path, json=body, headers=headers)
        assert response.status_code == status, response.text
        return response.json()

    def grower(self, name: str | None = None, region: str = "陕西省延安市洛川县") -> Account:
        body = self._post("/api/v1/growers", {"name": name or f"果农{next(_names)}", "region": region}, self.admin)
        return Account(body["grower_id"], body["token"], body["keyid"])

    def regulator(self, name: str = "李建国", agency: str = "洛川县农业农村局") -> Account:
        body = self._post("/api/v1/regulators", {"name": name, "agency": agency}, self.admin)
        return Account(body["regulator_id"], body["token"], body["keyid"])

    def plot(self, owner: Account, name: str = "后山果园", lat: float = 35.7621, lon: float = 109.4251) -> str:
        return self._post("/api/v1/plots", {"name": name, "lat": lat, "lon": lon}, owner.headers)["plot_id"]

    def batch(self, owner: Account, product: str = "苹果", **fields) -> dict:
        return self._post("/api/v1/batches", {"product": product, **fields}, owner.headers)

    def event(
        self,
        actor: Account,
        lot: str,
        type_: str,
        data: dict,
        occurred_at: str = "2026-09-18T09:00:00+08:00",
        evidence: list[str] | None = None,
        again: bool = True,
    ) -> dict:
        """`again`: tests log the same record more than once on purpose, on a clock that stands still."""
        body = {"type": type_, "occurred_at": occurred_at, "data": data, "evidence": evidence or [], "again": again}
        return self._post(f"/api/v1/batches/{lot}/events", body, actor.headers)

    def photo(self, owner: Account, data: bytes) -> str:
        files = {"file": ("photo.jpg", data, "image/jpeg")}
        response = self.client.post("/api/v1/photos", files=files, headers=owner.headers)
        assert response.status_code == 201, response.text
        return response.json()["sha256"]

    def harvest(self, grower: Account, lot: str, quantity: float = 500, unit: str = "kg") -> dict:
        return self.event(grower, lot, "harvest", {"quantity": quantity, "unit": unit})


def exif_place_and_time(path: Path) -> tuple[float, float, str]:
    """A photo's GPS position and capture time as exifread reads them, independently of our code."""
    tags = exifread.process_file(path.open("rb"), details=False)

    def degrees(tag: str) -> float:
        d, m, s = (float(v.num) / float(v.den) for v in tags[tag].values)
        return d + m / 60 + s / 3600

    lat = degrees("GPS GPSLatitude") * (-1 if str(tags["GPS GPSLatitudeRef"]) == "S" else 1)
    lon = degrees("GPS GPSLongitude") * (-1 if str(tags["GPS GPSLongitudeRef"]) == "W" else 1)
    taken = str(tags["EXIF DateTimeOriginal"]).replace(":", "-", 2).replace(" ", "T")
    return lat, lon, taken


def grow_log_raw(services: Services, size: int) -> None:
    """Append placeholder entries straight through the log, in one transaction, until it holds
    `size`: tens of thousands a second, for tests of the log's shape rather than its records."""
    with services.sessions() as session:
        log = services.log.begin(session, services.clock.now())
        while log.size < size:
            log.add(f'{{"entry":{log.size}}}'.encode(), {"kind": "test"}, "test")
        log.finish()
        session.commit()
