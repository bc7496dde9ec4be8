"""Anomalies a regulator should look at, found when a record is appended (protocol §5).

Each is a point-in-time finding about the record that raised it: what the lot's history
showed when that record arrived. The rules:

- `backdated`: `occurred_at` more than SUYUAN_BACKDATED_DAYS (7) before the receive time.
- `phi_violation`: a harvest inside a pesticide's pre-harvest interval, whichever of the
  two records came second.
- `harvest_before_planting`: a harvest dated before a planting of the same lot.
- `quantity_exceeds_harvest`: more packed from a lot, or more taken from it into derived
  lots, than was harvested into it (or taken into it from its own inputs). Masses are
  compared in kilograms (1 斤 = 0.5 kg); boxes and pieces only with boxes and pieces.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .findings import Finding
from .models import BatchInput, LogEntry

KILOGRAMS = {"kg": 1.0, "g": 0.001, "t": 1000.0, "jin": 0.5}
UNIT_WORDS = {"kg": "kg", "g": "g", "t": "t", "jin": "jin", "box": "boxes", "piece": "pieces"}


def event_anomalies(
    session: Session, lot: str, event_type: str, occurred: datetime, data: dict, received: datetime, backdated_days: int
) -> list[Finding]:
    findings = []
    late = received - occurred
    if late > timedelta(days=backdated_days):
        findings.append(Finding(
            "backdated",
            f"this {event_type} was recorded {late.days} days after the date it claims ({occurred.date()}); "
            "records are meant to be made when the work is done",
        ))
    if event_type in ("harvest", "input", "planting"):
        history = _history(session, lot, ("harvest", "input", "planting"))
        if event_type == "harvest":
            findings += _phi(occurred, [e for e in history if _is_pesticide(e)])
            findings += [
                Finding("harvest_before_planting", f"harvest dated {occurred.date()}, before the planting dated {_at(p).date()}")
                for p in history if p["type"] == "planting" and _at(p) > occurred
            ][:1]
        elif event_type == "input" and data.get("kind") == "pesticide":
            spray = {"type": "input", "occurred_at": occurred.isoformat(), "data": data}
            findings += [f for h in history if h["type"] == "harvest" for f in _phi(_at(h), [spray])][:1]
        elif event_type == "planting":
            findings += [
                Finding("harvest_before_planting", f"planting dated {occurred.date()}, after a harvest dated {_at(h).date()}")
                for h in history if h["type"] == "harvest" and _at(h) < occurred
            ][:1]
    if event_type == "packing":
        packed = _totals(
            [(e["data"]["quantity"], e["data"]["unit"]) for e in _history(session, lot, ("packing",))]
            + [(data["quantity"], data["unit"])]
        )
        findings += _exceeds(session, lot, packed, "packed from")
    return findings


def batch_anomalies(session: Session, lot: str, inputs: list[dict]) -> list[Finding]:
    """A lot made from inputs: did it take more from any of them than it held?"""
    findings = []
    for item in inputs:
        source = item["lot"]
        taken = session.execute(
            select(BatchInput.quantity, BatchInput.unit).where(BatchInput.input_lot == source, BatchInput.lot != lot)
        ).all()
        totals = _totals([*taken, (item["quantity"], item["unit"])])
        findings += _exceeds(session, source, totals, f"taken into lot {lot} and other lots from")
    return findings


def _exceeds(session: Session, lot: str, used: dict[str, float], doing: str) -> list[Finding]:
    available = _available(session, lot)
    for unit, amount in used.items():
        if not available:
            return [Finding(
                "quantity_exceeds_harvest",
                f"{_amount(amount, unit)} {doing} lot {lot}, which has no harvest record and no input lots",
            )]
        # Boxes against kilograms say nothing either way.
        if unit in available and amount > available[unit] + 1e-9:
            return [Finding(
                "quantity_exceeds_harvest",
                f"{_amount(amount, unit)} {doing} lot {lot}, which holds only {_amount(available[unit], unit)} "
                "by its harvest records and inputs",
            )]
    return []


def _available(session: Session, lot: str) -> dict[str, float]:
    """What a lot holds: its harvests and what it was made from, by unit family."""
    harvested = [(e["data"]["quantity"], e["data"]["unit"]) for e in _history(session, lot, ("harvest",))]
    taken_in = session.execute(select(BatchInput.quantity, BatchInput.unit).where(BatchInput.lot == lot)).all()
    return _totals([*harvested, *taken_in])


def _totals(amounts) -> dict[str, float]:
    """Sums by family: every mass in kilograms under "kg"; boxes and pieces as they are."""
    totals: dict[str, float] = defaultdict(float)
    for quantity, unit in amounts:
        if unit in KILOGRAMS:
            totals["kg"] += quantity * KILOGRAMS[unit]
        else:
            totals[unit] += quantity
    return dict(totals)


def _phi(harvested: datetime, sprays: list[dict]) -> list[Finding]:
    for spray in sprays:
        sprayed, days = _at(spray), spray["data"]["phi_days"]
        if sprayed <= harvested < sprayed + timedelta(days=days):
            waited = (harvested - sprayed).days
            return [Finding(
                "phi_violation",
                f"harvested on {harvested.date()}, {waited} days after {spray['data']['product']} was sprayed on "
                f"{sprayed.date()}; its pre-harvest interval is {days} days (safe from {(sprayed + timedelta(days=days)).date()})",
            )]
    return []


def _history(session: Session, lot: str, types: tuple[str, ...]) -> list[dict]:
    rows = session.execute(
        select(LogEntry.entry).where(LogEntry.lot == lot, LogEntry.event_type.in_(types)).order_by(LogEntry.idx)
    ).scalars()
    return [json.loads(entry)["payload"] for entry in rows]


def _is_pesticide(event: dict) -> bool:
    return event["type"] == "input" and event["data"].get("kind") == "pesticide" and event["data"].get("phi_days") is not None


def _at(event: dict) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def _amount(value: float, unit: str) -> str:
    return f"{value:g} {UNIT_WORDS.get(unit, unit)}"
