"""Photo evidence: taking an upload in, citing photos as a record's evidence, and serving
their public copies (protocol §4).

A photo is stored once by content; its findings (`findings.photo_rules`) never block a
grower: they come back with the upload or the record, are stored for regulators, and are
summarised on the public page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, sessionmaker

from signing.ledger import LOT_OWNER_ROLES
from signing.photos import PhotoFile

from ..accounts.actors import Actor, require_role
from ..clock import Clock
from ..errors import Invalid, NotFound
from ..findings import photo_rules
from ..findings.finding import Finding, store
from ..ledger.log import Appender
from ..ledger.sequencer import Outcome, Sequencer
from ..storage.models import Photo, PhotoCitation, PhotoNeighbour, PhotoUpload
from .copies import evidence_item, genuine_copy
from .exif import PhotoMetadata, read_metadata
from .files import PhotoFiles
from .images import NEAR_DUPLICATE_DISTANCE, hash_distance, open_image, perceptual_hash, public_copies

# Hosts' clocks differ a little: a margin costs a few extra comparisons, no misses.
CLOCK_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Tolerances:
    """When a photo's capture time or place counts as far from the record that cites it."""

    time_hours: float
    distance_km: float


@dataclass(frozen=True)
class PhotoDisagrees:
    """A photo taken at another time or place than the record says: each value is set when it is far."""

    sha256: str
    taken_at: datetime | None
    place: tuple[float, float] | None


class PhotoService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        sequencer: Sequencer,
        files: PhotoFiles,
        clock: Clock,
        tolerances: Tolerances,
    ) -> None:
        self._sessions = sessions
        self._sequencer = sequencer
        self.files = files
        self._clock = clock
        self._tolerances = tolerances

    def ingest(self, actor: Actor, data: bytes) -> Outcome:
        """Store an uploaded photo (once per content) and say what it shows and what looks wrong.
        Content addressing makes a retried upload harmless: it needs no idempotency key."""
        require_role(actor, LOT_OWNER_ROLES, "upload photos")
        sha256 = hashlib.sha256(data).hexdigest()
        with self._sessions() as session:
            known = session.get(Photo, sha256) is not None
        fresh: Photo | None = None
        neighbours: dict[str, int] = {}
        if not known:
            opened = open_image(data)
            metadata = read_metadata(data)
            display, thumb = public_copies(opened)
            self.files.save(sha256, data, display, thumb)
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
                display_sha256=hashlib.sha256(display).hexdigest(),
                thumb_sha256=hashlib.sha256(thumb).hexdigest(),
                # After the slow part: photos stored since then are compared again under the lock.
                created_at=self._clock.now(),
            )
            # Compared with every earlier photo once, here, outside the append lock; photos
            # that arrive meanwhile are compared again under it.
            with self._sessions() as session:
                neighbours = _near(fresh, session.execute(select(Photo.sha256, Photo.perceptual_hash)))

        def work(session: Session, log: Appender) -> dict[str, Any]:
            photo = session.get(Photo, sha256)
            if photo is None:
                assert fresh is not None  # stored by nobody yet, so this request read and hashed it
                photo = fresh
                session.add(photo)
                late = session.execute(
                    select(Photo.sha256, Photo.perceptual_hash).where(
                        Photo.created_at >= fresh.created_at - CLOCK_MARGIN
                    )
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
            findings = photo_rules.at_upload(session, photo, actor.id)
            if first_upload:
                store(session, findings, actor.id, log.now, sha256=sha256)
            return {
                "sha256": sha256,
                "media_type": photo.media_type,
                "exif": metadata_json(photo),
                "warnings": [f.as_json() for f in findings],
                # What a record signed elsewhere (protocol §9) puts in its `evidence` for this photo.
                "evidence": evidence_item(photo),
            }

        return self._sequencer.run(actor, None, work)

    def evidence(
        self,
        session: Session,
        actor: Actor,
        *,
        lot: str,
        grower_id: str,
        occurred: datetime,
        plot: tuple[float, float] | None,
        cited: Iterable[str],
    ) -> tuple[list[dict[str, str]], list[Finding]]:
        """A record's `evidence` (each photo with its copies' hashes, so the signature covers what
        the page shows) and what its photos show; refuses photos the actor never uploaded."""
        evidence, findings = [], []
        for sha256 in cited:
            photo = session.get(Photo, sha256)
            if photo is None or session.get(PhotoUpload, (sha256, actor.id)) is None:
                raise Invalid(
                    "unknown_photo",
                    f"photo {sha256} is not one of your uploads; upload it with POST /api/v1/photos first",
                )
            evidence.append(evidence_item(photo))
            findings += photo_rules.as_evidence(
                session,
                photo,
                lot=lot,
                grower_id=grower_id,
                occurred=occurred,
                plot=plot,
                time_tolerance_hours=self._tolerances.time_hours,
                distance_tolerance_km=self._tolerances.distance_km,
            )
        return evidence, findings

    def disagreement(
        self, session: Session, cited: Iterable[str], occurred: datetime, place: tuple[float, float] | None
    ) -> PhotoDisagrees | None:
        """The first cited photo whose time or place is further from what the form holds than
        the tolerances: the app asks which to keep rather than choosing behind the grower's back."""
        for sha256 in cited:
            photo = session.get(Photo, sha256)
            if photo is None:
                continue
            taken = photo_rules.taken_time(photo)
            far_in_time = taken is not None and abs(occurred - taken) > timedelta(hours=self._tolerances.time_hours)
            spot = (photo.lat, photo.lon) if photo.lat is not None and photo.lon is not None else None
            far_away = (
                spot is not None
                and place is not None
                and photo_rules.distance_km(spot, place) > self._tolerances.distance_km
            )
            if far_in_time or far_away:
                return PhotoDisagrees(sha256, taken if far_in_time else None, spot if far_away else None)
        return None

    def place(self, session: Session, cited: Iterable[str]) -> tuple[float, float] | None:
        """Where the first cited photo that says so was taken."""
        for sha256 in cited:
            photo = session.get(Photo, sha256)
            if photo is not None and photo.lat is not None and photo.lon is not None:
                return photo.lat, photo.lon
        return None

    @staticmethod
    def cite(session: Session, cited: Iterable[str], lot: str, index: int, grower_id: str) -> None:
        """Remember that the record at `index` cites these photos, for the reuse checks."""
        session.add_all(PhotoCitation(sha256=sha, idx=index, lot=lot, grower_id=grower_id) for sha in cited)

    def public_copy(self, sha256: str, copy: PhotoFile) -> bytes:
        """The bytes of a public copy, as the records citing the photo bind them (see `copies`)."""
        with self._sessions() as session:
            photo = session.get(Photo, sha256)
        if photo is None:
            raise NotFound("unknown_photo", "there is no photo with this hash")
        return genuine_copy(self.files, evidence_item(photo), copy)


def metadata_json(photo: Photo) -> dict[str, Any]:
    """The upload answer's `exif`, from the stored row (a repeated upload reads no file)."""
    taken_at = datetime.fromisoformat(photo.taken_at) if photo.taken_at else None
    return PhotoMetadata(taken_at=taken_at, lat=photo.lat, lon=photo.lon, make=photo.make, model=photo.model).as_json()


def _near(photo: Photo, candidates: Iterable[Row[str, str]]) -> dict[str, int]:
    near = {}
    for sha, phash in candidates:
        if sha != photo.sha256 and (distance := hash_distance(phash, photo.perceptual_hash)) <= NEAR_DUPLICATE_DISTANCE:
            near[sha] = distance
    return near
