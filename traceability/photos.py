"""Photo evidence: ingest, and the credibility checks of protocol §4.

Warnings never block a grower: they come back with the upload or the event, are stored
for regulators, and are summarised on the public page.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from public_pages.i18n import N_
from signing.ledger import LOT_OWNER_ROLES

from .actors import Actor
from .context import Context
from .errors import ApiError
from .evidence.exif import PhotoMetadata, read_metadata
from .evidence.images import (
    NEAR_DUPLICATE_DISTANCE,
    hash_distance,
    open_image,
    perceptual_hash,
    public_copies,
)
from .findings import Finding, store
from .log import Appender
from .models import (
    Photo,
    PhotoCitation,
    PhotoNeighbour,
    PhotoUpload,
)
from .writes import Outcome

# Photos without an offset are taken to be in China Standard Time (no daylight saving).
CAMERA_ZONE = timezone(timedelta(hours=8))
CLOCK_MARGIN = timedelta(minutes=1)


def ingest(context: Context, actor: Actor, data: bytes) -> Outcome:
    """Store an uploaded photo (once per content) and say what it shows and what looks wrong.
    Content addressing makes a retried upload harmless: it needs no idempotency key."""
    if actor.role not in LOT_OWNER_ROLES:
        raise ApiError(403, "forbidden", f"only a grower or cooperative uploads photos; this token belongs to a {actor.role}")
    sha256 = hashlib.sha256(data).hexdigest()
    with context.sessions() as session:
        known = session.get(Photo, sha256) is not None
    if not known:
        opened = open_image(data)
        metadata = read_metadata(data)
        context.photos.save(sha256, data, *public_copies(opened))
        scanned_at = context.clock.now()
        fresh = Photo(
            sha256=sha256,
            media_type=opened.media_type,
            size_bytes=len(data),
            width=opened.width,
            height=opened.height,
            taken_at=metadata.taken_at.isoformat() if metadata.taken_at else None,
            lat=metadata.lat,
            lon=metadata.lon,
            make=metadata.make,
            model=metadata.model,
            perceptual_hash=perceptual_hash(opened),
            created_at=scanned_at,
        )
        # Compared with every earlier photo once, here, outside the append lock; photos
        # that arrive meanwhile are compared again under it.
        neighbours = _scan_neighbours(context, fresh)
    else:
        fresh, neighbours, scanned_at = None, {}, None

    def work(session: Session, log: Appender) -> dict:
        photo = session.get(Photo, sha256)
        if photo is None:
            photo = fresh
            session.add(photo)
            # Hosts' clocks differ a little: a margin costs a few extra comparisons, no misses.
            late = session.execute(
                select(Photo.sha256, Photo.perceptual_hash).where(Photo.created_at >= scanned_at - CLOCK_MARGIN)
            ).all()
            neighbours.update(_near(photo, late))
            session.add_all(
                PhotoNeighbour(sha256=a, neighbour=b, distance=d)
                for other, d in neighbours.items()
                for a, b in ((sha256, other), (other, sha256))
            )
        first_upload = session.get(PhotoUpload, (sha256, actor.id)) is None
        if first_upload:
            session.add(PhotoUpload(sha256=sha256, uploader_id=actor.id, created_at=log.now))
        session.flush()
        findings = _missing_metadata(photo) + _uploaded_by_others(session, sha256, actor.id)
        if first_upload:
            store(session, findings, actor.id, log.now, sha256=sha256)
        return {
            "sha256": sha256,
            "media_type": photo.media_type,
            "exif": metadata_json(photo),
            "warnings": [f.as_json() for f in findings],
        }

    return context.sequencer.run(actor, None, work)


def check_evidence(
    session: Session, context: Context, actor: Actor, lot: str, occurred: datetime, plot: tuple[float, float] | None, cited: list[str]
) -> tuple[list[dict], list[Finding]]:
    """The `evidence` of an event and its warnings; refuses photos the actor never uploaded."""
    evidence, findings = [], []
    for sha256 in cited:
        photo = session.get(Photo, sha256)
        if photo is None or session.get(PhotoUpload, (sha256, actor.id)) is None:
            raise ApiError(422, "unknown_photo", f"photo {sha256} is not one of your uploads; upload it with POST /api/v1/photos first")
        evidence.append({"sha256": sha256, "media_type": photo.media_type})
        raised = (
            _missing_metadata(photo)
            + _time_mismatch(photo, occurred, context.settings.photo_time_tolerance_hours)
            + _far_from_plot(photo, plot, context.settings.photo_distance_tolerance_km)
            + _cited_elsewhere(session, photo, lot, actor.id)
        )
        findings += [replace(finding, sha256=sha256) for finding in raised]
    return evidence, findings


def record_citations(session: Session, cited: list[str], lot: str, index: int, grower_id: str) -> None:
    session.add_all(PhotoCitation(sha256=sha, idx=index, lot=lot, grower_id=grower_id) for sha in cited)


def public_copy(context: Context, sha256: str, *, thumbnail: bool) -> Path:
    """The path of a public copy, remade from the original if it was lost."""
    store = context.photos
    path = store.thumbnail(sha256) if thumbnail else store.display(sha256)
    if path.exists():
        return path
    original = store.original(sha256)
    if not original.exists():
        raise ApiError(404, "unknown_photo", "there is no photo with this hash")
    data = original.read_bytes()
    store.save(sha256, data, *public_copies(open_image(data)))
    return path


def metadata_json(photo: Photo) -> dict:
    """The upload answer's `exif`, from the stored row (a repeated upload reads no file)."""
    taken_at = datetime.fromisoformat(photo.taken_at) if photo.taken_at else None
    return PhotoMetadata(taken_at=taken_at, lat=photo.lat, lon=photo.lon, make=photo.make, model=photo.model).as_json()


# -- the checks -------------------------------------------------------------------------------


_MISSING = {
    (True, True): N_("the photo carries no capture time or place (common for forwarded photos; not suspicious by itself)"),
    (True, False): N_("the photo carries no capture time (common for forwarded photos; not suspicious by itself)"),
    (False, True): N_("the photo carries no place (common for forwarded photos; not suspicious by itself)"),
}


def _missing_metadata(photo: Photo) -> list[Finding]:
    missing = (photo.taken_at is None, photo.lat is None)
    return [Finding("exif_missing", _MISSING[missing])] if any(missing) else []


_TAKEN = {
    ("days", "before"): N_("the photo was taken %(span)d days before the time given for the event"),
    ("days", "after"): N_("the photo was taken %(span)d days after the time given for the event"),
    ("hours", "before"): N_("the photo was taken %(span)d hours before the time given for the event"),
    ("hours", "after"): N_("the photo was taken %(span)d hours after the time given for the event"),
}


def _time_mismatch(photo: Photo, occurred: datetime, tolerance_hours: float) -> list[Finding]:
    if photo.taken_at is None:
        return []
    taken = datetime.fromisoformat(photo.taken_at)
    if taken.tzinfo is None:
        taken = taken.replace(tzinfo=CAMERA_ZONE)
    hours = abs((occurred - taken).total_seconds()) / 3600
    if hours <= tolerance_hours:
        return []
    unit, span = ("days", round(hours / 24)) if hours >= 48 else ("hours", round(hours))
    return [Finding("exif_time_mismatch", _TAKEN[unit, "before" if taken < occurred else "after"], {"span": span})]


def _far_from_plot(photo: Photo, plot: tuple[float, float] | None, tolerance_km: float) -> list[Finding]:
    if plot is None or photo.lat is None or photo.lon is None:
        return []
    km = distance_km(plot, (photo.lat, photo.lon))
    if km <= tolerance_km:
        return []
    return [Finding("gps_far_from_plot", N_("the photo was taken %(km).1f km from the lot's plot"), {"km": km})]


def _uploaded_by_others(session: Session, sha256: str, grower_id: str) -> list[Finding]:
    """At upload: the same or a near-identical picture already uploaded by another grower."""
    return _similar_findings(
        session,
        sha256,
        select(PhotoUpload.sha256).where(PhotoUpload.uploader_id != grower_id),
        "uploaded",
    )


def _cited_elsewhere(session: Session, photo: Photo, lot: str, grower_id: str) -> list[Finding]:
    """At an event: the same or a near-identical picture already evidence for another lot or grower."""
    return _similar_findings(
        session,
        photo.sha256,
        select(PhotoCitation.sha256).where((PhotoCitation.lot != lot) | (PhotoCitation.grower_id != grower_id)),
        "cited",
    )


_SEEN = {
    ("photo_reused", "uploaded"): N_("this exact photo was used before: another grower uploaded it before"),
    ("photo_reused", "cited"): N_("this exact photo was used before: it is already evidence for another lot"),
    ("photo_near_duplicate", "uploaded"): N_(
        "this picture looks the same as an earlier photo (%(photo)s…), perhaps recompressed or cropped: another grower uploaded it before"
    ),
    ("photo_near_duplicate", "cited"): N_(
        "this picture looks the same as an earlier photo (%(photo)s…), perhaps recompressed or cropped: it is already evidence for another lot"
    ),
}


def _similar_findings(session: Session, sha256: str, used_elsewhere, where: str) -> list[Finding]:
    findings = []
    if session.execute(used_elsewhere.where(used_elsewhere.selected_columns[0] == sha256).limit(1)).first():
        findings.append(Finding("photo_reused", _SEEN["photo_reused", where]))
    near = session.execute(
        select(PhotoNeighbour.neighbour)
        .where(PhotoNeighbour.sha256 == sha256, PhotoNeighbour.neighbour.in_(used_elsewhere))
        .limit(1)
    ).scalar()
    if near:
        findings.append(Finding("photo_near_duplicate", _SEEN["photo_near_duplicate", where], {"photo": near[:12]}))
    return findings


def _scan_neighbours(context: Context, photo: Photo) -> dict[str, int]:
    with context.sessions() as session:
        return _near(photo, session.execute(select(Photo.sha256, Photo.perceptual_hash)))


def _near(photo: Photo, candidates) -> dict[str, int]:
    near = {}
    for sha, phash in candidates:
        if sha != photo.sha256 and (distance := hash_distance(phash, photo.perceptual_hash)) <= NEAR_DUPLICATE_DISTANCE:
            near[sha] = distance
    return near


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
