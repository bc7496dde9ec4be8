"""Findings about a lot's records, made when a record is appended (protocol §5).

Each is a point-in-time finding about the record that raised it: what the lot's history
showed when that record arrived. The rules:

- `backdated`: `occurred_at` more than SUYUAN_BACKDATED_DAYS (7) before the receive time.
- `phi_violation`: a harvest inside a pesticide's pre-harvest interval, whichever of the
  two records came second.
- `harvest_before_planting`: a harvest dated before a planting of the same lot.
- `quantity_exceeds_harvest`: more left a lot than entered it. What leaves is its own
  packing or its shipments, whichever is more (what is shipped was packed first), plus what
  lots made from it took; what enters is its harvests and the lots it was made from.
  Quantities are compared by `units.family`: masses in kilograms, boxes and pieces only
  with their own kind. The finding names the log entries of what left.

The same rules, read from the signed records alone, are `signing.lot_state`: that reading
is what pages show and certificates wait on; these are the findings answered to whoever
appends a record and listed for regulators. They read `lot_facts`, one indexed row per
planting, spray, harvest, packing and shipment, so a check costs the same on a lot's
thousandth record as on its first. A correction rewrites its record's fact (`refact`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from public_pages.i18n import N_
from signing import units
from signing.ledger import REGULATOR_EVENT_TYPES
from signing.payloads import LotRecord
from signing.units import family, totals

from ..storage.models import Batch, BatchInput, LotFact
from .finding import Finding


def fact_of(
    lot: str, index: int | None, event_type: str, occurred: datetime, data: Mapping[str, Any]
) -> LotFact | None:
    """The row the rules keep of a record, if they need one (its index may come after the append)."""
    at = occurred.astimezone(UTC)
    if event_type == "planting":
        return LotFact(lot=lot, kind="planting", idx=index, occurred_at=at)
    if event_type == "input" and data.get("kind") == "pesticide" and data.get("phi_days") is not None:
        return LotFact(
            lot=lot,
            kind="pesticide",
            idx=index,
            occurred_at=at,
            safe_from=at + timedelta(days=data["phi_days"]),
            label=data["product"][:200],
        )
    if event_type in ("harvest", "packing", "shipping") and data.get("quantity") is not None:
        kind, amount = family(data["quantity"], data["unit"])
        return LotFact(lot=lot, kind=event_type, idx=index, occurred_at=at, amount=amount, family=kind)
    return None


def refact(session: Session, lot: str, corrected: LotRecord, replacement: Mapping[str, Any] | None) -> None:
    """A corrected record's fact becomes its replacement's; a voided record has none."""
    session.execute(delete(LotFact).where(LotFact.lot == lot, LotFact.idx == corrected.index))
    if replacement is None:
        return
    occurred = (
        datetime.fromisoformat(replacement["occurred_at"]) if "occurred_at" in replacement else corrected.occurred_at
    )
    fact = fact_of(lot, corrected.index, corrected.type, occurred, replacement.get("data", corrected.data))
    if fact is not None:
        session.add(fact)


def event_findings(
    session: Session,
    lot: str,
    event_type: str,
    occurred: datetime,
    fact: LotFact | None,
    received: datetime,
    backdated_days: int,
) -> list[Finding]:
    """What is wrong with a new record of `lot`; `fact` is its own `fact_of`, not stored yet."""
    findings = []
    late = received - occurred
    # A lab's result or a recall comes after the fact by nature, and is not the grower's record.
    if late > timedelta(days=backdated_days) and event_type not in REGULATOR_EVENT_TYPES:
        findings.append(
            Finding(
                "backdated",
                N_(
                    "this %(type)s was recorded %(days)d days after the date it claims (%(date)s); records are meant to be made when the work is done"
                ),
                {"type": event_type, "days": late.days, "date": str(occurred.date())},
            )
        )
    if fact is None:
        return findings
    facts = select(LotFact).where(LotFact.lot == lot)
    if fact.kind == "harvest":
        at = fact.occurred_at
        spray = session.execute(
            facts.where(LotFact.kind == "pesticide", LotFact.occurred_at <= at, LotFact.safe_from > at)
            .order_by(LotFact.idx)
            .limit(1)
        ).scalar()
        if spray is not None:
            findings.append(_phi(occurred, spray, occurred.tzinfo))
        planting = session.execute(
            facts.where(LotFact.kind == "planting", LotFact.occurred_at > at).order_by(LotFact.idx).limit(1)
        ).scalar()
        if planting is not None:
            template = N_("harvest dated %(harvest)s, before the planting dated %(planting)s")
            findings.append(_before_planting(template, occurred, planting.occurred_at, occurred.tzinfo))
    elif fact.kind == "pesticide":
        harvest = session.execute(
            facts.where(
                LotFact.kind == "harvest", LotFact.occurred_at >= fact.occurred_at, LotFact.occurred_at < fact.safe_from
            )
            .order_by(LotFact.idx)
            .limit(1)
        ).scalar()
        if harvest is not None:
            findings.append(_phi(harvest.occurred_at, fact, occurred.tzinfo))
    elif fact.kind == "planting":
        harvest = session.execute(
            facts.where(LotFact.kind == "harvest", LotFact.occurred_at < fact.occurred_at)
            .order_by(LotFact.idx)
            .limit(1)
        ).scalar()
        if harvest is not None:
            template = N_("planting dated %(planting)s, after a harvest dated %(harvest)s")
            findings.append(_before_planting(template, harvest.occurred_at, occurred, occurred.tzinfo))
    elif fact.kind in ("packing", "shipping"):
        findings += _exceeds(session, lot, fact, {})
    return findings


def batch_findings(session: Session, lot: str, inputs: list[dict[str, Any]]) -> list[Finding]:
    """A lot made from inputs: did it take more from any of them than it held?"""
    findings = []
    wanted: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for item in inputs:  # one lot may name the same source twice: what counts is the whole draw
        wanted[item["lot"]].append((item["quantity"], item["unit"]))
    for source, amounts in wanted.items():
        findings += _exceeds(session, source, None, totals(amounts), into=lot)
    return findings


_EXCEEDS = {
    "none": N_(
        "with this record %(amount)s has left lot %(lot)s (before it: log entries %(entries)s), which has no harvest record and no input lots"
    ),
    "less": N_(
        "with this record %(amount)s has left lot %(lot)s (before it: log entries %(entries)s), which holds only %(held)s by its harvest records and inputs"
    ),
}


def _exceeds(
    session: Session, lot: str, new: LotFact | None, new_taken: dict[str, float], into: str | None = None
) -> list[Finding]:
    """Does more leave `lot` than entered it, with `new` (its packing or shipment, not stored
    yet) or `new_taken` (what lot `into`, being made, takes from it)?"""
    own: dict[str, dict[str, float]] = {kind: _sums(session, lot, kind) for kind in ("packing", "shipping")}
    if new is not None:
        assert new.family is not None and new.amount is not None  # a packing's or shipment's fact has its amount
        own[new.kind][new.family] = own[new.kind].get(new.family, 0.0) + new.amount
    taken_rows = session.execute(
        select(BatchInput.lot, BatchInput.quantity, BatchInput.unit).where(BatchInput.input_lot == lot)
    ).all()
    taken = totals((quantity, unit) for _, quantity, unit in taken_rows)
    for kind, amount in new_taken.items():
        taken[kind] = taken.get(kind, 0.0) + amount
    leaving = {
        kind: max(own["packing"].get(kind, 0.0), own["shipping"].get(kind, 0.0)) + taken.get(kind, 0.0)
        for kind in {*own["packing"], *own["shipping"], *taken}
    }
    available = _available(session, lot)
    for kind, amount in sorted(leaving.items()):
        # Boxes against kilograms say nothing either way.
        if available and (kind not in available or amount <= available[kind] + 1e-9):
            continue
        # What left before: its packings and shipments, and the batch records of lots made from it.
        left = session.execute(
            select(LotFact.idx)
            .where(LotFact.lot == lot, LotFact.kind.in_(("packing", "shipping")))
            .union(select(Batch.created_index).where(Batch.lot.in_({row.lot for row in taken_rows} - {into})))
        ).scalars()
        entries = ", ".join(str(i) for i in sorted(left)) or "-"
        params = {"amount": units.amount(amount, kind), "lot": lot, "entries": entries}
        if not available:
            return [Finding("quantity_exceeds_harvest", _EXCEEDS["none"], params)]
        params["held"] = units.amount(available[kind], kind)
        return [Finding("quantity_exceeds_harvest", _EXCEEDS["less"], params)]
    return []


def _available(session: Session, lot: str) -> dict[str, float]:
    """What a lot holds: its harvests and what it was made from, by unit family."""
    held = _sums(session, lot, "harvest")
    taken_in = session.execute(select(BatchInput.quantity, BatchInput.unit).where(BatchInput.lot == lot)).all()
    for kind, amount in totals((quantity, unit) for quantity, unit in taken_in).items():
        held[kind] = held.get(kind, 0.0) + amount
    return held


def _sums(session: Session, lot: str, kind: str) -> dict[str, float]:
    rows = session.execute(
        select(LotFact.family, func.sum(LotFact.amount))
        .where(LotFact.lot == lot, LotFact.kind == kind)
        .group_by(LotFact.family)
    )
    return {kind: total for kind, total in rows if kind is not None and total is not None}


def _before_planting(template: str, harvested: datetime, planted: datetime, zone: tzinfo | None) -> Finding:
    """Dates in the offset of the record that raised it, as `_phi`'s."""
    dates = {"harvest": str(harvested.astimezone(zone).date()), "planting": str(planted.astimezone(zone).date())}
    return Finding("harvest_before_planting", template, dates)


def _phi(harvested: datetime, spray: LotFact, zone: tzinfo | None) -> Finding:
    """Dates in the offset of the record that raised it: the grower's own days. `spray` is a
    pesticide's fact, which has its product and the end of its interval."""
    assert spray.label is not None and spray.safe_from is not None
    product, sprayed, safe_from = spray.label, spray.occurred_at, spray.safe_from
    days = round((safe_from - sprayed).total_seconds() / 86400)
    waited = (harvested - sprayed).days
    harvested, sprayed, safe_from = (moment.astimezone(zone) for moment in (harvested, sprayed, safe_from))
    return Finding(
        "phi_violation",
        N_(
            "harvested on %(harvested)s, %(waited)d days after %(product)s was sprayed on %(sprayed)s; its pre-harvest interval is %(days)d days (safe from %(safe)s)"
        ),
        {
            "harvested": str(harvested.date()),
            "waited": waited,
            "product": product,
            "sprayed": str(sprayed.date()),
            "days": days,
            "safe": str(safe_from.date()),
        },
    )
