"""What clients send (…In) and what they get back (…Out). Inputs forbid unknown fields,
so a misspelt field is a 422 that names it rather than data silently dropped."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from signing.ledger import LOT_PATTERN

from .ids import gs1_check_digit

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _one_line(value: str) -> str:
    if "\n" in value or "\t" in value:
        raise ValueError("must be a single line")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _rfc3339(value: str) -> str:
    if not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with an offset, like 2026-09-12T08:30:00+08:00")
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"is not a real date and time ({exc})") from None
    if moment.year < 1900:
        raise ValueError("is too long ago; check the year")
    if abs(moment.utcoffset()) > timedelta(hours=14):
        raise ValueError("has an offset beyond ±14:00, which no time zone has")
    return moment.isoformat()


def gtin14(value: str) -> str:
    if not re.fullmatch(r"[0-9]{8}|[0-9]{12,14}", value, re.ASCII):
        raise ValueError("must be a GTIN of 8, 12, 13 or 14 digits")
    digits = value.zfill(14)
    if gs1_check_digit(digits[:13]) != digits[13]:
        raise ValueError("has a wrong check digit; copy the number under the barcode again")
    return digits


def _lot(value: str) -> str:
    if not LOT_PATTERN.fullmatch(value):
        raise ValueError("must be a lot code of 1 to 20 characters from 0-9 and A-Z")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_no_control), AfterValidator(_one_line)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(_no_control)]
Quantity = Annotated[float, Field(gt=0, le=1e9), AfterValidator(_finite)]
Unit = Literal["kg", "g", "t", "jin", "box", "piece"]
Time = Annotated[str, AfterValidator(_rfc3339)]
LotCode = Annotated[str, AfterValidator(_lot)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- identities ---------------------------------------------------------------------------


class GrowerIn(In):
    name: Name
    region: Name
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 \-]{5,20}$")] | None = None


class RegulatorIn(In):
    name: Name
    agency: Name
    region: Name | None = None


class CooperativeIn(In):
    name: Name
    region: Name


class RevokeIn(In):
    reason: Note


class RegisteredOut(BaseModel):
    token: str = Field(description="Bearer token, shown only in this answer")
    keyid: str
    index: int = Field(description="Log index of the `key` entry that registered the key")


class GrowerOut(RegisteredOut):
    grower_id: str


class RegulatorOut(RegisteredOut):
    regulator_id: str


class CooperativeOut(RegisteredOut):
    cooperative_id: str


class LoginLinkOut(BaseModel):
    url: str = Field(description="Opens the grower app signed in on the phone that follows it, once")
    card: str = Field(description="A printable sign-in card with the link as a QR code")
    expires_at: str


class RevokedOut(BaseModel):
    id: str
    keyid: str
    index: int


# -- plots and batches ---------------------------------------------------------------------


class PlotIn(In):
    name: Name
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    area_mu: Annotated[float, Field(gt=0, le=1e6)] | None = None


class PlotOut(BaseModel):
    plot_id: str


class InputLot(In):
    lot: LotCode
    quantity: Quantity
    unit: Unit


class BatchIn(In):
    product: Name
    variety: Name | None = None
    plot_id: str | None = None
    gtin: Annotated[str, AfterValidator(gtin14)] | None = None
    inputs: Annotated[list[InputLot], Field(max_length=50)] = []


class AppendedOut(BaseModel):
    index: int
    leaf_hash: str


class BatchOut(AppendedOut):
    lot: str


# -- events: one typed `data` per type (protocol §1) -------------------------------------------


class Place(In):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class _Placed(In):
    place: Place | None = Field(default=None, description="Where it happened: from the photo or the phone, as the grower confirmed it")


class PlantingData(_Placed):
    method: Name | None = Field(default=None, description="e.g. 嫁接苗 grafted seedlings, 直播 direct seeding")
    area_mu: Annotated[float, Field(gt=0, le=1e6)] | None = None
    note: Note | None = None


class InputData(_Placed):
    product: Name = Field(description="Trade name of the fertiliser or pesticide")
    kind: Literal["fertiliser", "pesticide"]
    active_ingredient: Name | None = None
    dose: Name | None = Field(default=None, description="As written on the label, e.g. 1500倍液 or 20 kg/亩")
    phi_days: Annotated[int, Field(ge=0, le=365)] | None = Field(
        default=None, description="Pre-harvest interval in days (安全间隔期); required for pesticides"
    )
    note: Note | None = None

    def model_post_init(self, _context: object) -> None:
        if self.kind == "pesticide" and self.phi_days is None:
            raise ValueError("a pesticide needs phi_days, its pre-harvest interval (安全间隔期) in days from the label")


class IrrigationData(_Placed):
    method: Name | None = None
    amount: Quantity | None = None
    unit: Literal["m3", "t", "mm"] | None = None
    note: Note | None = None


class ObservationData(_Placed):
    note: Note


class HarvestData(_Placed):
    quantity: Quantity
    unit: Unit
    note: Note | None = None


class PackingData(_Placed):
    quantity: Quantity
    unit: Unit
    package_count: Annotated[int, Field(ge=1, le=10_000_000)]
    note: Note | None = None


class _Counted(_Placed):
    """A quantity is optional here, but never without its unit."""

    quantity: Quantity | None = None
    unit: Unit | None = None

    def model_post_init(self, _context: object) -> None:
        if (self.quantity is None) != (self.unit is None):
            raise ValueError("quantity and unit go together: give both, or neither")


class ShippingData(_Counted):
    to: Name = Field(description="Who or where the goods go")
    carrier: Name | None = None
    tracking: Name | None = None
    note: Note | None = None


class ReceivingData(_Counted):
    from_: Name = Field(alias="from", description="Who or where the goods came from")
    note: Note | None = None


class InspectionData(In):
    test: Name = Field(description="What was tested, e.g. 农药残留快速检测 pesticide residue rapid test")
    result: Literal["pass", "fail"]
    lab: Name | None = None
    report: Name | None = Field(default=None, description="Report or certificate number")
    note: Note | None = None


class RecallData(In):
    reason: Note


Evidence = Annotated[list[Sha256], Field(max_length=20, description="SHA-256 of photos uploaded first")]


def _event(type_name: str, data_model: type[In]) -> type[In]:
    return type(
        f"{data_model.__name__.removesuffix('Data')}Event",
        (In,),
        {
            "__annotations__": {
                "type": Literal[type_name],  # type: ignore[valid-type]
                "occurred_at": Time,
                "data": data_model,
                "evidence": Evidence,
            },
            "evidence": [],
            "__module__": __name__,
        },
    )


EVENT_DATA: dict[str, type[In]] = {
    "planting": PlantingData,
    "input": InputData,
    "irrigation": IrrigationData,
    "observation": ObservationData,
    "harvest": HarvestData,
    "packing": PackingData,
    "shipping": ShippingData,
    "receiving": ReceivingData,
    "inspection": InspectionData,
    "recall": RecallData,
}
EventIn = Annotated[
    Union[tuple(_event(name, model) for name, model in EVENT_DATA.items())],  # type: ignore[misc]
    Field(discriminator="type"),
]


class EventOut(AppendedOut):
    seq: int
    warnings: list[dict] = []
