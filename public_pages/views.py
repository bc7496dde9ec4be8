"""What a page shows, as plain values: the ledger builds these, the templates only read them.

Nothing here touches a database, so the pages can be rendered (and tested) from any source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from signing.payloads import LotRecord


@dataclass(frozen=True)
class PhotoView:
    sha256: str
    warnings: tuple[str, ...] = ()  # warning codes raised by this photo

    @property
    def thumb_url(self) -> str:
        return f"/p/{self.sha256}/thumb.jpg"

    @property
    def url(self) -> str:
        return f"/p/{self.sha256}.jpg"


@dataclass(frozen=True)
class Correction:
    """A signed correction of a record: the record stays, struck through, beside it."""

    record: LotRecord  # the correction itself
    reason: str
    replacement: LotRecord | None  # the record as corrected; None when the correction voids it
    signer: str


@dataclass(frozen=True)
class Step:
    """One signed record of the lot, as a line of its timeline."""

    record: LotRecord
    photos: tuple[PhotoView, ...] = ()  # the photos it cites, with what they raised
    signer: str = ""  # the name behind the signing key
    correction: Correction | None = None
    how: str = ""  # how it was signed: phone, own_key or platform (`signing.payloads.signed_how`)


@dataclass(frozen=True)
class ConcernView:
    """Something the records show that a buyer must hear of first (see `signing.lot_state`)."""

    code: str
    lot: str  # this lot, or one it was made from
    params: dict  # the concern's values, dates as ISO strings
    entries: tuple[int, ...]  # log entries of the records it concerns
    blocking: bool
    cleared_by: tuple[int, ...] = ()  # log entries of the corrections that cleared it
    seqs: tuple[int, ...] = ()  # the records it concerns, by their place in that lot's chain


@dataclass(frozen=True)
class LotLink:
    lot: str
    product: str
    quantity: float | None = None
    unit: str | None = None
    recalled: bool = False
    harvested_at: datetime | None = None  # its latest harvest: when what is in this package was picked


@dataclass(frozen=True)
class Recall:
    lot: str  # the recalled lot: this one, or one it was made from
    reason: str
    occurred_at: datetime
    by: str  # the regulator's name and agency


@dataclass(frozen=True)
class Verification:
    """The result of checking the lot's proof bundle exactly as an offline verifier would."""

    ok: bool
    problem: str | None
    records: int
    keys: int
    origin: str
    checkpoint_size: int
    root_hash: str  # base64, as in the checkpoint
    checkpoint: str  # the signed note
    log_key: str
    witnessed: bool = False  # the log has witnesses (protocol §8)
    cosigned_by: tuple[str, ...] = ()  # the witnesses whose quorum cosigned that checkpoint, by name
    # What the offline check needs to demand the same quorum: the witnesses' vkeys and K.
    witness_keys: tuple[str, ...] = ()
    quorum: int = 0


@dataclass(frozen=True)
class Certificate:
    """承诺达标合格证: the commitment the grower issued as a signed `certificate` record."""

    product: str
    quantity: float
    unit: str
    origin: str
    issued_at: datetime
    issuer: str
    contact: str | None
    basis: tuple[str, ...]  # as the record names them: 自控自检, 委托检测 ...
    index: int  # its log entry
    withdrawn: bool  # a recall, failed inspection or interval violation came after it


@dataclass(frozen=True)
class PhotoSummary:
    photos: int
    with_time_and_place: int
    warnings: dict[str, int]  # code -> number of photos that raised it


@dataclass(frozen=True)
class LotView:
    lot: str
    product: str
    variety: str | None
    gtin: str | None
    grower: str
    region: str | None
    registered_by: str | None  # a cooperative's name; None when the operator registered the grower
    plot: str | None
    steps: tuple[Step, ...]
    inputs: tuple[LotLink, ...]
    recalls: tuple[Recall, ...]
    photos: PhotoSummary
    verification: Verification
    certificate: Certificate | None  # only when the grower issued one
    public_url: str  # what the QR code holds
    concerns: tuple[ConcernView, ...] = ()  # recalls first, then the rest, as the records show them
    cleared: tuple[ConcernView, ...] = ()  # what corrections of the records cleared

    @property
    def label_certificate(self) -> Certificate | None:
        """What a label may print: a certificate that stands."""
        return self.certificate if self.certificate and not self.certificate.withdrawn else None
