"""What clients send to make plots, lots and events (protocol §1, §4): one typed `data` per
event type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError

from signing.units import UnitCode, WaterUnitCode

from ..errors import Invalid
from ..fields import GTIN, Area, In, Latitude, Longitude, LotCode, Name, Note, Quantity, Sha256, Time


class PlotIn(In):
    name: Name
    lat: Latitude
    lon: Longitude
    area_mu: Area | None = None


class InputLot(In):
    lot: LotCode
    quantity: Quantity
    unit: UnitCode


class BatchIn(In):
    product: Name
    variety: Name | None = None
    plot_id: str | None = None
    gtin: GTIN | None = None
    inputs: Annotated[list[InputLot], Field(max_length=50)] = Field(default_factory=list)


# -- events: one typed `data` per type (protocol §1) -------------------------------------------


class Place(In):
    lat: Latitude
    lon: Longitude


class _Placed(In):
    place: Place | None = Field(
        default=None, description="Where it happened: from the photo or the phone, as the grower confirmed it"
    )


class PlantingData(_Placed):
    method: Name | None = Field(default=None, description="e.g. 嫁接苗 grafted seedlings, 直播 direct seeding")
    area_mu: Area | None = None
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
    unit: WaterUnitCode | None = None
    note: Note | None = None


class ObservationData(_Placed):
    note: Note


class HarvestData(_Placed):
    quantity: Quantity
    unit: UnitCode
    note: Note | None = None


class PackingData(_Placed):
    quantity: Quantity
    unit: UnitCode
    package_count: Annotated[int, Field(ge=1, le=10_000_000)]
    note: Note | None = None


class _Counted(_Placed):
    """A quantity is optional here, but never without its unit."""

    quantity: Quantity | None = None
    unit: UnitCode | None = None

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


class Replacement(In):
    occurred_at: Time | None = None
    data: dict[str, Any] | None = Field(
        default=None, description="The corrected record's whole data, checked as that record's type"
    )

    def model_post_init(self, _context: object) -> None:
        if self.occurred_at is None and self.data is None:
            raise ValueError("a replacement gives occurred_at, data or both; to void the record, leave it out")


class CorrectionData(In):
    """Protocol §11: corrects (with a replacement) or voids (without) an earlier record of the lot."""

    corrects: Annotated[int, Field(ge=1, description="The seq of the record corrected")]
    reason: Note
    replacement: Replacement | None = None


# What a 承诺达标合格证 may rest on (农业农村部令2025年第4号); the grower chooses one or more.
CERTIFICATE_BASES = ("自控自检", "委托检测", "内部质量控制", "自我承诺")


class CertificateData(In):
    """Protocol §11: the grower's 承诺达标合格证 for the lot."""

    basis: Annotated[list[Literal[CERTIFICATE_BASES]], Field(min_length=1, max_length=4)]  # type: ignore[valid-type]
    quantity: Quantity
    unit: UnitCode
    contact: Name | None = None


Evidence = Annotated[list[Sha256], Field(max_length=20, description="SHA-256 of photos uploaded first")]


class Event(In):
    """What every event carries; each type has its own subclass, with its own `data`."""

    type: str
    occurred_at: Time
    data: In
    evidence: Evidence = Field(default_factory=list)
    again: bool = Field(
        default=False,
        description="Append even though the same record was appended minutes ago (answered 409 repeated without it)",
    )


def _event(type_name: str, data_model: type[In]) -> type[Event]:
    return type(
        f"{data_model.__name__.removesuffix('Data')}Event",
        (Event,),
        {"__annotations__": {"type": Literal[type_name], "data": data_model}, "__module__": __name__},
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
    "correction": CorrectionData,
    "certificate": CertificateData,
}
if TYPE_CHECKING:
    EventIn = Event
else:
    # One model per type, told apart by `type`: a harvest's data is checked as a harvest's.
    EventIn = Annotated[
        Union[tuple(_event(name, model) for name, model in EVENT_DATA.items())],  # noqa: UP007
        Field(discriminator="type"),
    ]


def event(body: object) -> EventIn:
    """An event from what a client sent as JSON-like values; pydantic.ValidationError says what is wrong."""
    return _EVENTS.validate_python(body)


_EVENTS: TypeAdapter[EventIn] = TypeAdapter(EventIn)


def problems(exc: ValidationError) -> str:
    """What is wrong with a value, field by field, in one line."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}" for e in exc.errors())


# -- what a record signed elsewhere says, as the same inputs (protocol §9) ----------------------


def batch_of(payload: dict[str, Any]) -> BatchIn:
    """The API's request to create the lot a signed batch payload creates: the same checks
    apply. Invalid if they refuse it."""
    plot = payload.get("plot")
    if plot is not None and not isinstance(plot, dict):
        raise Invalid("invalid", "payload.plot is the lot's plot {id, name, location}, or null")
    body = {
        "product": payload.get("product"),
        "variety": payload.get("variety"),
        "plot_id": plot.get("id") if plot else None,
        "gtin": payload.get("gtin"),
        "inputs": payload.get("inputs", []),
    }
    try:
        return BatchIn.model_validate(body)
    except ValidationError as exc:
        raise Invalid("invalid", f"the payload is not a lot the API would create: {problems(exc)}") from None


def event_of(payload: dict[str, Any], again: bool) -> EventIn:
    """The API's request to append the event a signed event payload holds. Invalid if the API
    would refuse it: a device record carries nothing the API would not take."""
    evidence = payload.get("evidence", [])
    if not isinstance(evidence, list) or not all(isinstance(item, dict) for item in evidence):
        raise Invalid("invalid", "payload.evidence is a list of {sha256, media_type, ...} objects")
    body = {
        "type": payload.get("type"),
        "occurred_at": payload.get("occurred_at"),
        "data": payload.get("data"),
        "evidence": [item.get("sha256") for item in evidence],
        "again": again,
    }
    try:
        return event(body)
    except ValidationError as exc:
        raise Invalid("invalid", f"the payload is not an event the API would take: {problems(exc)}") from None
