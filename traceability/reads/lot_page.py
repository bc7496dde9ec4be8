"""A lot as its public page shows it: the view objects `public_pages` renders, built from the
lot's verified records (`reading`), never from a table no signature covers. Only the photo
warnings, which are advice about files rather than facts of the record, come from the
findings the server stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from public_pages.views import (
    Certificate,
    ConcernView,
    Correction,
    LotLink,
    LotView,
    PhotoSummary,
    PhotoView,
    Recall,
    Step,
)
from signing.lot_state import RECALLED, Concern, corrected
from signing.payloads import LotRecord

from ..ledger.log import TransparencyLog
from ..ledger.lot_index import LotIndex
from ..lots.urls import lot_url
from ..storage.models import Photo, StoredFinding
from .reading import LotReading, read_lot


def lot_view(session: Session, log: TransparencyLog, index: LotIndex, public_url: str, lot: str) -> LotView:
    reading = read_lot(session, log, index, lot)
    state = reading.state
    made = reading.made
    facts = made.data if made is not None else {}
    grower = reading.subjects.get(made.signer, {}) if made is not None else {}
    registrar = reading.subject_named(str(grower.get("registered_by", "")))
    plot = facts.get("plot")
    photo_findings = _photo_findings(session, lot)
    steps = tuple(
        Step(
            record,
            tuple(PhotoView(sha256, photo_findings.get(sha256, ())) for sha256 in record.evidence),
            reading.name(record.signer),
            _correction(reading, state.corrections.get(record.seq), record),
            reading.how.get(record.signer, ""),
        )
        for record in state.records
        if record.type != "correction"
    )
    concerns, cleared = concern_views(reading)
    return LotView(
        lot=lot,
        product=str(facts.get("product", lot)),
        variety=facts.get("variety"),
        gtin=facts.get("gtin"),
        grower=str(grower.get("name", "")),
        region=grower.get("region"),
        registered_by=str(registrar["name"]) if registrar else None,
        plot=plot["name"] if plot else None,
        steps=steps,
        inputs=_inputs(reading, facts.get("inputs") or ()),
        recalls=tuple(_recall(reading, c) for c in state.recalls),
        photos=_photo_summary(session, steps),
        verification=reading.verification,
        certificate=_certificate(reading),
        public_url=lot_url(public_url, lot, facts.get("gtin")),
        concerns=concerns,
        cleared=cleared,
    )


def concern_views(reading: LotReading) -> tuple[tuple[ConcernView, ...], tuple[ConcernView, ...]]:
    """What the records show, recalls first, and what corrections cleared: as every page says them."""
    state = reading.state
    shown = sorted(state.concerns, key=lambda c: c.code != RECALLED)
    return (
        tuple(concern_view(reading, c) for c in shown),
        tuple(concern_view(reading, c.concern, tuple(r.index for r in c.corrections)) for c in state.cleared),
    )


def _correction(reading: LotReading, correction: LotRecord | None, original: LotRecord) -> Correction | None:
    if correction is None:
        return None
    replacement = next((r for r in reading.state.effective if r.seq == original.seq), None)
    return Correction(correction, str(correction.data.get("reason", "")), replacement, reading.name(correction.signer))


def concern_view(reading: LotReading, concern: Concern, cleared_by: tuple[int, ...] = ()) -> ConcernView:
    entries = tuple(r.index for seq in concern.seqs if (r := reading.record(concern.lot, seq)) is not None)
    params = dict(concern.params)
    if "by" in params:
        params["by"] = reading.name(params["by"])
    return ConcernView(concern.code, concern.lot, params, entries, concern.blocking, cleared_by, concern.seqs)


def _recall(reading: LotReading, concern: Concern) -> Recall:
    record = reading.record(concern.lot, concern.seqs[0])
    assert record is not None  # a concern names records of the chains it was read from
    return Recall(concern.lot, str(record.data.get("reason", "")), record.occurred_at, reading.name(record.signer))


def _inputs(reading: LotReading, inputs: Sequence[Mapping[str, Any]]) -> tuple[LotLink, ...]:
    """The lots this one was made from, as its batch record names them, with when each was picked."""
    recalled = {c.lot for c in reading.state.recalls}
    links = []
    for item in inputs:
        chain = reading.chains.get(item["lot"], [])
        harvests = [r.occurred_at for r in corrected(chain) if r.type == "harvest"]
        links.append(
            LotLink(
                item["lot"],
                str(chain[0].data.get("product", "")) if chain else "",
                item["quantity"],
                item["unit"],
                item["lot"] in recalled,
                harvests[-1] if harvests else None,  # its latest: when what is in this package was picked
            )
        )
    return tuple(links)


def _certificate(reading: LotReading) -> Certificate | None:
    record, made = reading.state.certificate, reading.made
    if record is None or made is None:
        return None
    grower = reading.subjects.get(made.signer, {})
    # A packed lot's origin is where what it was made from grew.
    plots = [chain[0].data.get("plot") for chain in reading.chains.values() if chain]
    names = dict.fromkeys(plot["name"] for plot in plots if plot)
    origin = " · ".join(part for part in (grower.get("region"), "、".join(names)) if part)
    product = " ".join(part for part in (made.data.get("product"), made.data.get("variety")) if part)
    data = record.data
    return Certificate(
        product=product,
        quantity=data["quantity"],
        unit=data["unit"],
        origin=origin,
        issued_at=record.occurred_at,
        issuer=str(grower.get("name", "")),
        contact=data.get("contact"),
        basis=tuple(data["basis"]),
        index=record.index,
        withdrawn=reading.state.certificate_withdrawn,
    )


def _photo_findings(session: Session, lot: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(StoredFinding.sha256, StoredFinding.code)
        .where(StoredFinding.lot == lot, StoredFinding.sha256.is_not(None))
        .order_by(StoredFinding.id)
    )
    for sha256, code in rows:
        assert sha256 is not None
        codes = found.setdefault(sha256, [])
        if code not in codes:
            codes.append(code)
    return {sha256: tuple(codes) for sha256, codes in found.items()}


def _photo_summary(session: Session, steps: tuple[Step, ...]) -> PhotoSummary:
    photos = {photo.sha256: photo for step in steps for photo in step.photos}
    placed = session.execute(
        select(Photo.sha256).where(Photo.sha256.in_(photos), Photo.taken_at.is_not(None), Photo.lat.is_not(None))
    ).scalars()
    counts: dict[str, int] = {}
    for photo in photos.values():
        for code in photo.warnings:
            counts[code] = counts.get(code, 0) + 1
    return PhotoSummary(photos=len(photos), with_time_and_place=len(list(placed)), warnings=counts)
