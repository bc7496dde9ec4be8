"""A lot as its public page shows it: the view objects `public_pages` renders, and the
version that tells a cached rendering is still current."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime

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
from signing.errors import VerificationError
from signing.note import Verifier

from .batches import read_batch, what_happened
from .context import Context
from .lineage import ancestors
from .models import Batch, CredibilityWarning, Identity, LogEntry, Photo
from .proofs import bundle_of

def public_url(context: Context, lot: str, gtin: str | None) -> str:
    """What the lot's QR code holds: the GS1 Digital Link form when the lot has a GTIN."""
    base = context.settings.public_url.rstrip("/")
    return f"{base}/01/{gtin}/10/{lot}" if gtin else f"{base}/b/{lot}"


def lot_view(session: Session, context: Context, lot: str, lineage: tuple[str, ...] | None = None) -> LotView:
    """`lineage`: the lot and every lot it was made from, when the caller already has it."""
    batch = read_batch(session, lot)
    records = batch["records"]
    names = _signer_names(session, {r["record"]["signatures"][0]["keyid"] for r in records})
    owner = session.get(Identity, batch["grower"]["id"])
    registrar = session.get(Identity, owner.registered_by)
    photo_warnings = _photo_warnings(session, lot)
    steps = tuple(_step(r, names, photo_warnings) for r in records)
    lineage = lineage or (lot, *ancestors(session, lot))
    recalls = _recalls(session, lineage)
    certificate = _certificate(batch, steps, owner)
    return LotView(
        lot=lot,
        product=batch["product"],
        variety=batch["variety"],
        gtin=batch["gtin"],
        grower=owner.name,
        region=owner.region,
        registered_by=registrar.name if registrar else None,
        plot=batch["plot"]["name"] if batch["plot"] else None,
        steps=steps,
        inputs=_inputs(session, batch["inputs"], {r.lot for r in recalls}),
        recalls=recalls,
        photos=_photo_summary(session, steps),
        verification=_verify(session, context, lot),
        certificate=certificate,
        public_url=public_url(context, lot, batch["gtin"]),
    )


def _step(row: dict, names: dict[str, str], photo_warnings: dict[str, tuple[str, ...]]) -> Step:
    payload = row["record"]["payload"]
    kind, occurred, recorded, data = what_happened(payload)
    if kind == "batch":
        data = {"product": payload["product"], "variety": payload["variety"]}
    return Step(
        index=row["index"],
        seq=row["seq"],
        type=kind,
        occurred_at=occurred,
        recorded_at=recorded,
        data=data,
        photos=tuple(
            PhotoView(e["sha256"], photo_warnings.get(e["sha256"], ())) for e in payload.get("evidence", ())
        ),
        signer=names.get(row["record"]["signatures"][0]["keyid"], ""),
        leaf_hash=row["leaf_hash"],
    )


def _signer_names(session: Session, keyids: set[str]) -> dict[str, str]:
    rows = session.execute(select(Identity.keyid, Identity.name, Identity.agency).where(Identity.keyid.in_(keyids)))
    return {keyid: f"{name} ({agency})" if agency else name for keyid, name, agency in rows}


def _photo_warnings(session: Session, lot: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(CredibilityWarning.sha256, CredibilityWarning.code)
        .where(CredibilityWarning.lot == lot, CredibilityWarning.sha256.is_not(None))
        .order_by(CredibilityWarning.id)
    )
    for sha256, code in rows:
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


def _inputs(session: Session, inputs: list[dict], recalled: set[str]) -> tuple[LotLink, ...]:
    if not inputs:
        return ()
    lots = [i["lot"] for i in inputs]
    products = dict(session.execute(select(Batch.lot, Batch.product).where(Batch.lot.in_(lots))).all())
    harvested = {
        lot: datetime.fromisoformat(_payload(entry)["occurred_at"])
        for lot, entry in session.execute(
            select(LogEntry.lot, LogEntry.entry)
            .where(LogEntry.lot.in_(lots), LogEntry.event_type == "harvest")
            .order_by(LogEntry.idx)
        )
    }
    return tuple(
        LotLink(i["lot"], products[i["lot"]], i["quantity"], i["unit"], i["lot"] in recalled, harvested.get(i["lot"]))
        for i in inputs
    )


def _recalls(session: Session, lots: tuple[str, ...]) -> tuple[Recall, ...]:
    rows = session.execute(
        select(LogEntry.lot, LogEntry.entry, LogEntry.signer_keyid)
        .where(LogEntry.lot.in_(lots), LogEntry.event_type == "recall")
        .order_by(LogEntry.idx)
    ).all()
    names = _signer_names(session, {keyid for _, _, keyid in rows})
    recalls = []
    for lot, entry, keyid in rows:
        payload = _payload(entry)
        recalls.append(Recall(lot, payload["data"]["reason"], datetime.fromisoformat(payload["occurred_at"]), names.get(keyid, "")))
    return tuple(recalls)


def _payload(entry: bytes) -> dict:
    return json.loads(entry)["payload"]


def _certificate(batch: dict, steps: tuple[Step, ...], owner: Identity) -> Certificate | None:
    packing = next((step for step in reversed(steps) if step.type == "packing"), None)
    if packing is None:
        return None
    tested = any(s.type == "inspection" and s.data.get("result") == "pass" and s.data.get("lab") for s in steps)
    origin = " · ".join(part for part in (owner.region, batch["plot"]["name"] if batch["plot"] else None) if part)
    return Certificate(
        product=" ".join(part for part in (batch["product"], batch["variety"]) if part),
        quantity=packing.data["quantity"],
        unit=packing.data["unit"],
        package_count=packing.data["package_count"],
        origin=origin,
        issued_at=packing.occurred_at,
        issuer=owner.name,
        contact=owner.phone,
        basis="commissioned_test" if tested else "self_control",
    )


def _verify(session: Session, context: Context, lot: str) -> Verification:
    """The checks an offline verifier runs on the lot's proof bundle, run here on the same bytes."""
    log_key = context.log.signer.verifier_key()
    bundle = bundle_of(session, context, lot)
    document, checkpoint = canonical_json(bundle), bundle["checkpoint"]
    unverified = Verification(False, None, 0, 0, context.log.origin, 0, "", checkpoint, log_key)
    try:
        verified = verify_bundle(document, Verifier.from_key_string(log_key))
    except VerificationError as exc:
        return replace(unverified, problem=str(exc))
    return replace(
        unverified,
        ok=True,
        records=len(verified.records),
        keys=verified.keys_checked,
        checkpoint_size=verified.checkpoint.size,
        root_hash=base64.b64encode(verified.checkpoint.root_hash).decode(),
    )
