"""A lot as its public page shows it: the view objects `public_pages` renders."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from public_pages.views import (
    Certificate,
    LotLink,
    LotView,
    PhotoSummary,
    PhotoView,
    Recall,
    Step,
    Verification,
)
from signing.bundle import verify_bundle
from signing.canonical import canonical_json
from signing.encoding import b64encode
from signing.errors import VerificationError
from signing.note import Verifier
from signing.payloads import LotRecord

from ..accounts import parties
from ..ledger import records
from ..ledger.bundles import bundle
from ..ledger.log import TransparencyLog
from ..ledger.records import unknown_lot
from ..lots.lineage import ancestors
from ..lots.urls import lot_url
from ..storage.models import Batch, Identity, Photo, StoredFinding


def lot_view(
    session: Session, log: TransparencyLog, public_url: str, lot: str, lineage: tuple[str, ...] | None = None
) -> LotView:
    """`lineage`: the lot and every lot it was made from, when the caller already has it."""
    batch = session.get(Batch, lot)
    if batch is None:
        raise unknown_lot(lot)
    chain = records.of_lot(session, lot)
    names = parties.display_names(session, {record.signer for record in chain})
    owner = session.get_one(Identity, batch.owner_id)
    registrar = session.get(Identity, owner.registered_by)
    photo_findings = _photo_findings(session, lot)
    steps = tuple(
        Step(
            record,
            tuple(PhotoView(sha256, photo_findings.get(sha256, ())) for sha256 in record.evidence),
            names.get(record.signer, ""),
        )
        for record in chain
    )
    lineage = lineage or (lot, *ancestors(session, lot))
    recalls = _recalls(session, lineage)
    first = chain[0]
    plot = first.data.get("plot")
    return LotView(
        lot=lot,
        product=batch.product,
        variety=batch.variety,
        gtin=batch.gtin,
        grower=owner.name,
        region=owner.region,
        registered_by=registrar.name if registrar else None,
        plot=plot["name"] if plot else None,
        steps=steps,
        inputs=_inputs(session, first, {recall.lot for recall in recalls}),
        recalls=recalls,
        photos=_photo_summary(session, steps),
        verification=_verify(session, log, lot),
        certificate=_certificate(batch, plot, steps, owner),
        public_url=lot_url(public_url, lot, batch.gtin),
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


def _inputs(session: Session, made: LotRecord, recalled: set[str]) -> tuple[LotLink, ...]:
    """The lots this one was made from, as its batch record names them, with when each was picked."""
    inputs = made.data.get("inputs") or []
    if not inputs:
        return ()
    lots = [item["lot"] for item in inputs]
    products = dict(session.execute(select(Batch.lot, Batch.product).where(Batch.lot.in_(lots))).all())
    # Its latest harvest: when what is in this package was picked.
    harvested = {record.lot: record.occurred_at for record in records.of_type(session, "harvest", lots)}
    return tuple(
        LotLink(
            item["lot"],
            products[item["lot"]],
            item["quantity"],
            item["unit"],
            item["lot"] in recalled,
            harvested.get(item["lot"]),
        )
        for item in inputs
    )


def _recalls(session: Session, lots: tuple[str, ...]) -> tuple[Recall, ...]:
    found = records.of_type(session, "recall", lots)
    names = parties.display_names(session, {record.signer for record in found})
    return tuple(
        Recall(
            record.lot,
            record.data["reason"],
            record.occurred_at,
            names.get(record.signer, ""),
        )
        for record in found
    )


def _certificate(batch: Batch, plot: dict | None, steps: tuple[Step, ...], owner: Identity) -> Certificate | None:
    packing = next((step.record for step in reversed(steps) if step.record.type == "packing"), None)
    if packing is None:
        return None
    tested = any(
        s.record.type == "inspection" and s.record.data.get("result") == "pass" and s.record.data.get("lab")
        for s in steps
    )
    origin = " · ".join(part for part in (owner.region, plot["name"] if plot else None) if part)
    return Certificate(
        product=" ".join(part for part in (batch.product, batch.variety) if part),
        quantity=packing.data["quantity"],
        unit=packing.data["unit"],
        package_count=packing.data["package_count"],
        origin=origin,
        issued_at=packing.occurred_at,
        issuer=owner.name,
        contact=owner.phone,
        basis="commissioned_test" if tested else "self_control",
    )


def _verify(session: Session, log: TransparencyLog, lot: str) -> Verification:
    """The checks an offline verifier runs on the lot's proof bundle, run here on the same bytes."""
    log_key = log.signer.verifier_key()
    served = bundle(session, log, lot)
    checkpoint = served["checkpoint"]
    unverified = Verification(False, None, 0, 0, log.origin, 0, "", checkpoint, log_key)
    try:
        verified = verify_bundle(canonical_json(served), Verifier.from_key_string(log_key))
    except VerificationError as exc:
        return replace(unverified, problem=str(exc))
    return replace(
        unverified,
        ok=True,
        records=len(verified.records),
        keys=verified.keys_checked,
        checkpoint_size=verified.checkpoint.size,
        root_hash=b64encode(verified.checkpoint.root_hash),
    )
