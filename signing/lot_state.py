"""What a lot's records say (protocol §5, §11), read from verified records alone.

The same reading serves the public page, the grower app, the regulators' pages and the
offline verifier, so that none of them can look better than the records:

- the *effective* records: each corrected record replaced by its correction's replacement,
  or left out when the correction voids it; nothing is deleted from `records`;
- the *concerns* a buyer must hear of first, judged on the effective records: a harvest
  inside a pesticide's pre-harvest interval, a harvest before planting, a failed
  inspection, more leaving the lot than entered it, a recall; and the blocking ones
  (interval, failed inspection, recall) of every lot it was made from;
- the concerns the logged records raised that a correction has cleared;
- the certificate (承诺达标合格证), if the grower issued one, and whether a blocking
  concern has withdrawn it since.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from .payloads import LotRecord
from .units import family

PHI_VIOLATION = "phi_violation"
BEFORE_PLANTING = "harvest_before_planting"
FAILED_INSPECTION = "failed_inspection"
EXCEEDED = "quantity_exceeds_harvest"
RECALLED = "recalled"
# Concerns that refuse a certificate and withdraw one already issued (protocol §11).
BLOCKING = frozenset({PHI_VIOLATION, FAILED_INSPECTION, RECALLED})
# Records that are about other records, not facts of the lot.
_ABOUT_RECORDS = frozenset({"correction"})


@dataclass(frozen=True)
class Concern:
    code: str
    lot: str  # the lot whose records show it: this one, or one it was made from
    seqs: tuple[int, ...]  # the records of that lot it concerns
    params: Mapping[str, Any]  # the values its sentence needs: ISO dates, days, names, amounts

    @property
    def blocking(self) -> bool:
        return self.code in BLOCKING

    @property
    def key(self) -> tuple[str, str, tuple[int, ...]]:
        return self.code, self.lot, self.seqs

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "lot": self.lot, "records": list(self.seqs), **self.params}


@dataclass(frozen=True)
class Cleared:
    """A concern the logged records raised, which the corrections of its records removed."""

    concern: Concern
    corrections: tuple[LotRecord, ...]


@dataclass(frozen=True)
class LotState:
    lot: str
    records: tuple[LotRecord, ...]  # as logged, in chain order
    effective: tuple[LotRecord, ...]  # corrections applied, corrections themselves left out
    corrections: Mapping[int, LotRecord]  # seq of a corrected record -> the correction that holds
    concerns: tuple[Concern, ...]
    cleared: tuple[Cleared, ...]
    certificate: LotRecord | None

    @property
    def blocking(self) -> tuple[Concern, ...]:
        return tuple(concern for concern in self.concerns if concern.blocking)

    @property
    def recalls(self) -> tuple[Concern, ...]:
        return tuple(concern for concern in self.concerns if concern.code == RECALLED)

    @property
    def certificate_withdrawn(self) -> bool:
        return self.certificate is not None and bool(self.blocking)

    def as_json(self) -> dict[str, Any]:
        """What the verifier reports of the lot, beside the integrity result."""
        certificate = None
        if self.certificate is not None:
            certificate = {
                "seq": self.certificate.seq,
                "issued_at": self.certificate.occurred_at.isoformat(),
                "withdrawn": self.certificate_withdrawn,
                **self.certificate.data,
            }
        return {
            "lot": self.lot,
            "recalled": bool(self.recalls),
            "concerns": [concern.as_json() for concern in self.concerns],
            "cleared": [
                {**c.concern.as_json(), "by_corrections": [r.seq for r in c.corrections]} for c in self.cleared
            ],
            "corrected_records": sorted(self.corrections),
            "certificate": certificate,
        }


def read_lot(
    records: Sequence[LotRecord], sources: Iterable[LotState] = (), taken: Iterable[LotRecord] = ()
) -> LotState:
    """`records`: the lot's whole chain. `sources`: the states of the lots it was made from.
    `taken`: the batch records of lots made from this one, which take from it."""
    lot = records[0].lot
    taken = tuple(taken)
    corrections = holding_corrections(records)
    effective = tuple(_corrected(records, corrections))
    logged = tuple(r for r in records if r.type not in _ABOUT_RECORDS)
    own = _concerns(lot, effective, taken)
    before = _concerns(lot, logged, taken)
    keys = {concern.key for concern in own}
    cleared = tuple(
        Cleared(concern, tuple(corrections[seq] for seq in concern.seqs if seq in corrections))
        for concern in before
        if concern.key not in keys
    )
    inherited: dict[tuple, Concern] = {}
    for source in sources:
        for concern in source.blocking:
            inherited.setdefault(concern.key, concern)
    certificates = [r for r in effective if r.type == "certificate"]
    return LotState(
        lot=lot,
        records=tuple(records),
        effective=effective,
        corrections=corrections,
        concerns=(*own, *(c for k, c in inherited.items() if k not in keys)),
        cleared=cleared,
        certificate=certificates[-1] if certificates else None,
    )


def read_lots(lot: str, chains: Mapping[str, Sequence[LotRecord]], derived: Iterable[LotRecord] = ()) -> LotState:
    """The state of `lot` from the chains of it and of every lot it was made from (as a proof
    bundle holds them); `derived`: batch records of lots made from `lot`."""
    states: dict[str, LotState] = {}

    def state_of(code: str, visiting: frozenset[str]) -> LotState | None:
        if code in states:
            return states[code]
        chain = chains.get(code)
        if not chain or code in visiting:  # a source the caller does not hold says nothing
            return None
        made_from = [item["lot"] for item in chain[0].data.get("inputs") or ()]
        sources = [s for s in (state_of(source, visiting | {code}) for source in made_from) if s is not None]
        states[code] = read_lot(chain, sources, derived if code == lot else ())
        return states[code]

    state = state_of(lot, frozenset())
    if state is None:
        raise ValueError(f"no records of lot {lot}")
    return state


def corrected(records: Sequence[LotRecord]) -> tuple[LotRecord, ...]:
    """A chain's effective records (see the module's description)."""
    return tuple(_corrected(records, holding_corrections(records)))


def holding_corrections(records: Sequence[LotRecord]) -> dict[int, LotRecord]:
    """The correction that holds for each corrected record of a chain (in chain order): the
    latest. A correction of a correction, or of the record that made the lot, is not one (the
    server refuses both)."""
    by_seq = {record.seq: record for record in records}
    found: dict[int, LotRecord] = {}
    for record in records:
        if record.type == "correction":
            target = by_seq.get(record.data.get("corrects", -1))
            if target is not None and target.type not in ("batch", *_ABOUT_RECORDS):
                found[target.seq] = record
    return found


def apply_correction(record: LotRecord, correction: LotRecord) -> LotRecord | None:
    """`record` as `correction` leaves it: its replacement, or None when it voids the record."""
    replacement = correction.data.get("replacement")
    if replacement is None:
        return None
    return replace(
        record,
        occurred_at=datetime.fromisoformat(replacement.get("occurred_at", record.occurred_at.isoformat())),
        data=replacement.get("data", record.data),
    )


def _corrected(records: Sequence[LotRecord], corrections: Mapping[int, LotRecord]) -> Iterable[LotRecord]:
    for record in records:
        if record.type in _ABOUT_RECORDS:
            continue
        correction = corrections.get(record.seq)
        effective = record if correction is None else apply_correction(record, correction)
        if effective is not None:  # else voided
            yield effective


def _concerns(lot: str, records: Sequence[LotRecord], taken: Sequence[LotRecord]) -> list[Concern]:
    found: list[Concern] = []
    harvests = [r for r in records if r.type == "harvest"]
    sprays = [r for r in records if r.type == "input" and r.data.get("kind") == "pesticide" and _days(r) is not None]
    plantings = [r for r in records if r.type == "planting"]
    for harvest in harvests:
        for spray in sprays:
            days = _days(spray)
            assert days is not None
            safe_from = spray.occurred_at + timedelta(days=days)
            if spray.occurred_at <= harvest.occurred_at < safe_from:
                zone = harvest.occurred_at.tzinfo
                found.append(
                    Concern(
                        PHI_VIOLATION,
                        lot,
                        (spray.seq, harvest.seq),
                        {
                            "harvested": _day(harvest.occurred_at, zone),
                            "sprayed": _day(spray.occurred_at, zone),
                            "safe_from": _day(safe_from, zone),
                            "product": str(spray.data.get("product", "")),
                            "days": days,
                            "waited": (harvest.occurred_at - spray.occurred_at).days,
                        },
                    )
                )
        for planting in plantings:
            if harvest.occurred_at < planting.occurred_at:
                zone = harvest.occurred_at.tzinfo
                found.append(
                    Concern(
                        BEFORE_PLANTING,
                        lot,
                        (planting.seq, harvest.seq),
                        {"harvested": _day(harvest.occurred_at, zone), "planted": _day(planting.occurred_at, zone)},
                    )
                )
    for record in records:
        if record.type == "inspection" and record.data.get("result") == "fail":
            found.append(
                Concern(
                    FAILED_INSPECTION,
                    lot,
                    (record.seq,),
                    {"date": _day(record.occurred_at), "test": str(record.data.get("test", ""))},
                )
            )
        elif record.type == "recall":
            found.append(
                Concern(
                    RECALLED,
                    lot,
                    (record.seq,),
                    {
                        "date": _day(record.occurred_at),
                        "reason": str(record.data.get("reason", "")),
                        "by": record.signer,
                    },
                )
            )
    found += _mass_balance(lot, records, taken)
    return found


def _mass_balance(lot: str, records: Sequence[LotRecord], taken: Sequence[LotRecord]) -> list[Concern]:
    """Everything that left the lot against everything that entered it, by unit family: its
    own packing or shipments (whichever is more: what is shipped was packed first) and what
    lots made from it took, against its harvests and the lots it was made from."""
    held: dict[str, float] = defaultdict(float)
    for record in records:
        if record.type == "harvest":
            _add(held, record.data)
        elif record.type == "batch":
            for item in record.data.get("inputs") or ():
                _add(held, item)
    own: dict[str, dict[str, float]] = {"packing": defaultdict(float), "shipping": defaultdict(float)}
    leaving: dict[str, list[LotRecord]] = defaultdict(list)
    for record in records:
        if record.type in own and _add(own[record.type], record.data):
            leaving[_family(record.data)].append(record)
    out: dict[str, float] = defaultdict(float)
    for kind in set(own["packing"]) | set(own["shipping"]):
        out[kind] = max(own["packing"][kind], own["shipping"][kind])
    into: dict[str, list[str]] = defaultdict(list)
    for batch in taken:
        for item in batch.data.get("inputs") or ():
            if item.get("lot") == lot and _add(out, item):
                into[_family(item)].append(batch.lot)
    concerns = []
    for kind, amount in sorted(out.items()):
        available = held.get(kind)
        if held and available is None:
            continue  # boxes against kilograms say nothing either way
        if available is None or amount > available + 1e-9:
            concerns.append(
                Concern(
                    EXCEEDED,
                    lot,
                    tuple(r.seq for r in leaving[kind]),
                    {
                        "out": round(amount, 6),
                        "held": round(available or 0.0, 6),
                        "unit": kind,
                        "entries": [r.index for r in leaving[kind]],
                        "into": sorted(set(into[kind])),
                    },
                )
            )
    return concerns


def _add(totals: dict[str, float], data: Mapping[str, Any]) -> bool:
    quantity, unit = data.get("quantity"), data.get("unit")
    if not isinstance(quantity, int | float) or isinstance(quantity, bool) or not isinstance(unit, str):
        return False
    try:
        kind, amount = family(quantity, unit)
    except KeyError:
        return False
    totals[kind] += amount
    return True


def _family(data: Mapping[str, Any]) -> str:
    return family(data["quantity"], data["unit"])[0]


def _days(spray: LotRecord) -> int | None:
    days = spray.data.get("phi_days")
    return days if isinstance(days, int) and not isinstance(days, bool) and days >= 0 else None


def _day(moment: datetime, zone: Any = None) -> str:
    """The calendar day, in the offset of the record that raises the concern: the grower's own day."""
    return moment.astimezone(zone or moment.tzinfo).date().isoformat()


def describe(concern: Concern) -> str:
    """A concern in an English sentence: for the verifier's report and the API's refusals.
    Pages say it in the reader's language from the same values."""
    p = concern.params
    where = f"lot {concern.lot}: "
    if concern.code == PHI_VIOLATION:
        return where + (
            f"harvested on {p['harvested']}, {p['waited']} days after {p['product']} was sprayed on {p['sprayed']}; "
            f"its pre-harvest interval is {p['days']} days (safe from {p['safe_from']})"
        )
    if concern.code == BEFORE_PLANTING:
        return where + f"harvested on {p['harvested']}, before the planting on {p['planted']}"
    if concern.code == FAILED_INSPECTION:
        return where + f"failed the inspection {p['test']!r} on {p['date']}"
    if concern.code == RECALLED:
        return where + f"recalled on {p['date']}: {p['reason']}"
    held = f"only {p['held']:g} {p['unit']}" if p["held"] else f"no {p['unit']}"
    return where + f"{p['out']:g} {p['unit']} left it (log entries {p['entries']}), but {held} entered it"
