"""The database schema (created only by the Alembic migrations in `migrations/`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database. SQLite keeps no offset: values are written in
    UTC (a comparison with 09:00+08:00 means 01:00Z there too) and read back marked UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: object, _dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LogHead(Base):
    """The one row every append locks: it serialises appends across processes and hosts."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(255))
    operator_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Roots of the perfect subtrees of the current tree, largest first (a compact range):
    # enough to append and compute the new root without reading any stored node.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogEntry(Base):
    __tablename__ = "log_entries"
    # created_at: exports by time range; event_type: recalls, and a lot's history by type.
    __table_args__ = (
        UniqueConstraint("lot", "seq"),
        Index("ix_log_entries_created_at", "created_at"),
        Index("ix_log_entries_event_type_lot", "event_type", "lot"),
    )

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(16))
    lot: Mapped[str | None] = mapped_column(String(20))
    seq: Mapped[int | None] = mapped_column(Integer)
    event_type: Mapped[str | None] = mapped_column(String(16))
    signer_keyid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogNode(Base):
    """Hash of every perfect subtree: `pos` = level << 56 | index within the level."""

    __tablename__ = "log_nodes"

    pos: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Identity(Base):
    """A grower, regulator or cooperative; its signing keys are `MemberKey`s."""

    __tablename__ = "identities"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    agency: Mapped[str | None] = mapped_column(String(200))
    # Personal data: kept here, never written to the public log.
    phone: Mapped[str | None] = mapped_column(String(40))
    # The log index of the first key_revoke of the account's revocation (all its keys went then).
    revoked_index: Mapped[int | None] = mapped_column(BigInteger)
    registered_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberKey(Base):
    """A member's signing key, as its `key` entry registered it (protocol §9). A custodial key
    is sealed with the master key; of a device key (a grower's phone, an API client's own key)
    the server has the public half only."""

    __tablename__ = "member_keys"

    keyid: Mapped[str] = mapped_column(String(64), primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    custody: Mapped[str] = mapped_column(String(16))  # custodial, device
    holder: Mapped[str | None] = mapped_column(String(16))  # a device key's: phone, client
    private_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # custodial keys only
    key_index: Mapped[int] = mapped_column(BigInteger)
    revoked_index: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Token(Base):
    """Bearer tokens and browser sessions, stored only as SHA-256 hashes (shown once)."""

    __tablename__ = "tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "api" for a bearer token, "session" for a browser's cookie, which expires.
    kind: Mapped[str] = mapped_column(String(16), server_default="api")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Plot(Base):
    __tablename__ = "plots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    area_mu: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Batch(Base):
    """A lot: its owner, what it is, and the tip of its hash chain."""

    __tablename__ = "batches"

    lot: Mapped[str] = mapped_column(String(20), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    variety: Mapped[str | None] = mapped_column(String(200))
    plot_id: Mapped[str | None] = mapped_column(ForeignKey("plots.id"))
    gtin: Mapped[str | None] = mapped_column(String(14))
    created_index: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BatchInput(Base):
    """What a packed or derived lot was made from (also in its signed `batch` record)."""

    __tablename__ = "batch_inputs"
    __table_args__ = (Index("ix_batch_inputs_input_lot", "input_lot"),)

    lot: Mapped[str] = mapped_column(ForeignKey("batches.lot"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    input_lot: Mapped[str] = mapped_column(ForeignKey("batches.lot"))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))


class IdempotentResponse(Base):
    """The first answer to a POST carrying an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotent_responses"

    actor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Photo(Base):
    """An original photo, stored once by content (its SHA-256 is what records cite)."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # As the camera wrote it: ISO 8601, with an offset only when the photo recorded one.
    taken_at: Mapped[str | None] = mapped_column(String(40))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    make: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    perceptual_hash: Mapped[str] = mapped_column(String(512))
    # SHA-256 of the public copies' bytes, bound next to the original's in the records that
    # cite the photo. Null only for a photo of which no genuine copy was left when migration
    # 0009 took the hashes of the photos stored before then.
    display_sha256: Mapped[str | None] = mapped_column(String(64))
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhotoNeighbour(Base):
    """Two photos that look the same (recompressed, resized, cropped): both directions stored."""

    __tablename__ = "photo_neighbours"

    sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256"), primary_key=True)
    neighbour: Mapped[str] = mapped_column(ForeignKey("photos.sha256"), primary_key=True)
    distance: Mapped[int] = mapped_column(Integer)


class PhotoUpload(Base):
    """Who uploaded which photo: a grower may cite only their own uploads."""

    __tablename__ = "photo_uploads"

    sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256"), primary_key=True)
    uploader_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhotoCitation(Base):
    """A photo cited as evidence by a record (the record's log index)."""

    __tablename__ = "photo_citations"

    sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256"), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lot: Mapped[str] = mapped_column(ForeignKey("batches.lot"), index=True)
    grower_id: Mapped[str] = mapped_column(ForeignKey("identities.id"))


class StoredFinding(Base):
    """A finding about a record or a photo (`findings.Finding`): never blocks a grower,
    informs regulators and the public page."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_lot_idx", "lot", "idx"), Index("ix_findings_created_at", "created_at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    message: Mapped[str] = mapped_column(Text)
    # The message as a translatable template and its values (JSON); null for findings stored before them.
    template: Mapped[str | None] = mapped_column(Text)
    params: Mapped[str | None] = mapped_column(Text)
    grower_id: Mapped[str] = mapped_column(ForeignKey("identities.id"), index=True)
    lot: Mapped[str | None] = mapped_column(ForeignKey("batches.lot"))
    idx: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The log index of the correction that cleared it: the records, corrected, no longer show it.
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)


class LotFact(Base):
    """What the lot rules (`findings.lot_rules`) need of a lot's records, indexed: plantings, sprays with the
    day they become safe, harvests and packings with their amount, so that a check costs
    the same on the thousandth record of a lot as on the first."""

    __tablename__ = "lot_facts"
    __table_args__ = (Index("ix_lot_facts_lot_kind_at", "lot", "kind", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    lot: Mapped[str] = mapped_column(ForeignKey("batches.lot"))
    kind: Mapped[str] = mapped_column(String(16))  # planting, pesticide, harvest, packing, shipping
    idx: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # UTC
    safe_from: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a spray: the end of its interval
    label: Mapped[str | None] = mapped_column(String(200))  # a spray: the product's name
    amount: Mapped[float | None] = mapped_column(Float)  # a harvest or packing, in `family`
    family: Mapped[str | None] = mapped_column(String(8))  # kg (every mass), box or piece


class CosignedHead(Base):
    """The newest checkpoint that reached the witnesses' quorum (protocol §8): one row, made
    by the migration with size -1 (none yet), moved only forward by a compare-and-set, so
    that every host on the database serves the same and an older one never replaces it."""

    __tablename__ = "cosigned_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)  # the log's signature line first, then the cosignatures
    cosignatures: Mapped[int] = mapped_column(Integer)  # how many: a later one of the same size may add some
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WitnessStatus(Base):
    """What the log last heard from each witness, for the regulators' pages."""

    __tablename__ = "witness_status"

    vkey: Mapped[str] = mapped_column(String(512), primary_key=True)
    cosigned_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cosigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
