"""The grower app's forms (protocol §6) turned into the same typed events the API takes.

A form says what a grower types; the record says what the protocol signs. Errors come
back per form field, so the page can put each next to its field in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError

from signing.lot_state import LotState
from signing.payloads import LotRecord
from signing.units import UNITS, WATER_UNITS

from ...lots import inputs
from ...lots.inputs import BatchIn, EventIn

# One big button each, in the order of a season.
KINDS = ("planting", "fertiliser", "pesticide", "irrigation", "observation", "harvest", "packing", "shipping")
# Fields of each kind's form beyond the common ones (occurred_at, place, note, photo).
FIELDS = {
    "planting": ("method", "area_mu"),
    "fertiliser": ("product", "dose"),
    "pesticide": ("product", "active_ingredient", "dose", "phi_days"),
    "irrigation": ("method", "amount", "unit"),
    "observation": (),
    "harvest": ("quantity", "unit"),
    "packing": ("quantity", "unit", "package_count"),
    "shipping": ("to", "carrier", "tracking", "quantity", "unit"),
}
# The units a grower picks from, in the order they sell by (`units` says what each is).
GROWER_UNITS = ("jin", "kg", "box", "piece")
IRRIGATION_UNITS = WATER_UNITS
assert set(GROWER_UNITS) <= set(UNITS)
# Pre-harvest intervals printed on common pesticide labels, in days.
COMMON_PHI_DAYS = (1, 3, 5, 7, 10, 14, 21, 28, 30)
NUMBERS = {"area_mu", "amount", "quantity", "package_count", "phi_days"}
# China Standard Time when the phone did not say (no JavaScript).
DEFAULT_OFFSET_MINUTES = 480


class FormErrors(Exception):
    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def event_from_form(kind: str, form: Mapping[str, str], evidence: list[str]) -> EventIn:
    if kind not in KINDS:
        raise FormErrors(["type"])
    data: dict = {}
    for name in (*FIELDS[kind], "note"):
        value = (form.get(name) or "").strip()
        if value:
            data[name] = value
    if kind in ("fertiliser", "pesticide"):
        data["kind"] = kind
    if kind == "pesticide" and "phi_days" not in data and (other := (form.get("phi_days_other") or "").strip()):
        data["phi_days"] = other  # a label's interval that is not among the common ones
    if "quantity" not in data and kind == "shipping":
        data.pop("unit", None)  # the unit buttons always have one chosen; without a quantity it means nothing
    if kind == "observation" and "note" not in data:
        raise FormErrors(["note"])
    place = _place(form)
    if place is not None:
        data["place"] = place
    body = {
        "type": "input" if kind in ("fertiliser", "pesticide") else kind,
        "occurred_at": occurred_at(form),
        "data": data,
        "evidence": evidence,
        # The grower answered "it really happened twice" to a record like one logged minutes ago.
        "again": form.get("again") == "1",
    }
    return _event(body)


def _event(body: dict[str, Any]) -> EventIn:
    try:
        return inputs.event(body)
    except ValidationError as exc:
        raise FormErrors(_fields(exc)) from None


def correctable(state: LotState) -> dict[int, LotRecord]:
    """The records a grower may correct from the app: their own kinds of work, by seq."""
    return {r.seq: r for r in state.records if r.work in KINDS}


def form_of(record: LotRecord) -> dict[str, str]:
    """A record as its form holds it: to correct it, the grower changes what was wrong."""
    local = record.occurred_at
    offset = local.utcoffset()
    form = {
        "occurred_at": local.strftime("%Y-%m-%dT%H:%M"),
        "tz_offset": str(int(offset.total_seconds() // 60)) if offset is not None else "",
    }
    for name in (*FIELDS[record.work], "note"):
        value = record.data.get(name)
        if value is not None:
            form[name] = f"{value:g}" if isinstance(value, float) else str(value)
    place = record.data.get("place")
    if place:
        form["lat"], form["lon"] = f"{place['lat']:.6f}", f"{place['lon']:.6f}"
    return form


def correction_from_form(record: LotRecord, form: Mapping[str, str], now: str) -> EventIn:
    """Protocol §11: the corrected record's new values (from its own form), or its withdrawal, with a reason."""
    reason = (form.get("reason") or "").strip()
    if not reason:
        raise FormErrors(["reason"])
    data: dict[str, Any] = {"corrects": record.seq, "reason": reason}
    if form.get("void") != "1":
        corrected = event_from_form(record.work, form, [])
        data["replacement"] = {
            "occurred_at": corrected.occurred_at,
            "data": corrected.data.model_dump(by_alias=True, exclude_none=True),
        }
    return _event({"type": "correction", "occurred_at": occurred_at({"occurred_at": now}), "data": data})


def certificate_defaults(state: LotState, phone: str | None) -> dict[str, str]:
    """The certificate form filled in: the quantity last packed (or harvested), the grower's phone."""
    latest = next((r for r in reversed(state.effective) if r.type in ("packing", "harvest")), None)
    form = {"contact": phone or "", "basis": "自控自检"}
    if latest is not None:
        form |= {"quantity": f"{latest.data['quantity']:g}", "unit": str(latest.data["unit"])}
    return form


def certificate_from_form(form: Mapping[str, str], now: str) -> EventIn:
    data: dict[str, Any] = {
        "basis": [b for b in (form.get("basis") or "").split(",") if b],
        "quantity": (form.get("quantity") or "").strip(),
        "unit": form.get("unit") or "",
    }
    if contact := (form.get("contact") or "").strip():
        data["contact"] = contact
    return _event({"type": "certificate", "occurred_at": occurred_at({"occurred_at": now}), "data": data})


def batch_from_form(form: Mapping[str, str], plot_id: str | None, inputs: list[dict]) -> BatchIn:
    body = {
        "product": (form.get("product") or "").strip(),
        "variety": (form.get("variety") or "").strip() or None,
        "plot_id": plot_id,
        "inputs": inputs,
    }
    try:
        return BatchIn.model_validate(body)
    except ValidationError as exc:
        # A lot's inputs have one place on the form for what is wrong with them.
        raise FormErrors(
            ["inputs" if e["loc"][:1] == ("inputs",) else f for e, f in zip(exc.errors(), _each(exc), strict=True)]
        ) from None


def occurred_at(form: Mapping[str, str]) -> str:
    """`datetime-local` plus the phone's offset (sent by the page's script), as RFC 3339."""
    text = (form.get("occurred_at") or "").strip()
    try:
        minutes = int(form.get("tz_offset") or DEFAULT_OFFSET_MINUTES)
        local = datetime.fromisoformat(text)
        if not -14 * 60 <= minutes <= 14 * 60 or local.tzinfo is not None:
            raise ValueError
    except ValueError:
        raise FormErrors(["occurred_at"]) from None
    return local.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


def _place(form: Mapping[str, str]) -> dict | None:
    lat, lon = (form.get("lat") or "").strip(), (form.get("lon") or "").strip()
    if not lat and not lon:
        return None
    try:
        return {"lat": float(lat), "lon": float(lon)}
    except ValueError:
        raise FormErrors(["place"]) from None


_KNOWN = {
    *NUMBERS,
    "basis",
    "contact",
    "reason",
    *(f for fs in FIELDS.values() for f in fs),
    "note",
    "occurred_at",
    "product",
    "variety",
    "plot_id",
    "place",
    "inputs",
}


def _fields(exc: ValidationError) -> list[str]:
    """The form fields a validation error is about (`input.data.quantity` is `quantity`)."""
    return list(dict.fromkeys(_each(exc)))


def _each(exc: ValidationError) -> list[str]:
    fields = []
    for error in exc.errors():
        name = next((str(part) for part in reversed(error["loc"]) if str(part) in _KNOWN), None)
        if name is None:  # a rule across fields: a pesticide without its interval, a quantity without its unit
            name = next((field for field in ("phi_days", "quantity") if field in error["msg"]), "form")
        fields.append(name)
    return fields
