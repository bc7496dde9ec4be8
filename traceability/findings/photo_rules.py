"""Findings about photos (protocol §4): what a photo's own metadata, its place and time
against the record that cites it, and its earlier uses say about it."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from public_pages.i18n import N_

from ..storage.models import Photo, PhotoCitation, PhotoNeighbour, PhotoUpload
from .finding import Finding

# Photos without an offset are taken to be in China Standard Time (no daylight saving).
CAMERA_ZONE = timezone(timedelta(hours=8))


def at_upload(session: Session, photo: Photo, uploader_id: str) -> list[Finding]:
    """What an upload shows: missing metadata, and the same picture from another grower."""
    return _missing_metadata(photo) + _uploaded_by_others(session, photo.sha256, uploader_id)


def as_evidence(
    session: Session,
    photo: Photo,
    *,
    lot: str,
    grower_id: str,
    occurred: datetime,
    plot: tuple[float, float] | None,
    time_tolerance_hours: float,
    distance_tolerance_km: float,
) -> list[Finding]:
    """What a photo cited by a record of `lot` shows against it."""
    raised = (
        _missing_metadata(photo)
        + _time_mismatch(photo, occurred, time_tolerance_hours)
        + _far_from_plot(photo, plot, distance_tolerance_km)
        + _cited_elsewhere(session, photo, lot, grower_id)
    )
    return [Finding(f.code, f.template, f.params, photo.sha256) for f in raised]


_MISSING = {
    (True, True): N_(
        "the photo carries no capture time or place (common for forwarded photos; not suspicious by itself)"
    ),
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


def taken_time(photo: Photo) -> datetime | None:
    """When the photo says it was taken; a camera that gives no offset is taken to keep China's time."""
    if photo.taken_at is None:
        return None
    taken = datetime.fromisoformat(photo.taken_at)
    return taken if taken.tzinfo is not None else taken.replace(tzinfo=CAMERA_ZONE)


def _time_mismatch(photo: Photo, occurred: datetime, tolerance_hours: float) -> list[Finding]:
    taken = taken_time(photo)
    if taken is None:
        return []
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


def _similar_findings(session: Session, sha256: str, used_elsewhere: Select[str], where: str) -> list[Finding]:
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


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
