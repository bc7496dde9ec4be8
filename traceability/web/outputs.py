"""What the API answers (protocol §4), for the OpenAPI document; the inputs are in
`accounts.inputs` and `lots.inputs`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RegisteredOut(BaseModel):
    token: str = Field(description="Bearer token, shown only in this answer")
    keyid: str
    index: int = Field(description="Log index of the `key` entry that registered the key")


class GrowerOut(RegisteredOut):
    grower_id: str


class RegulatorOut(RegisteredOut):
    regulator_id: str


class CooperativeOut(RegisteredOut):
    cooperative_id: str


class LoginLinkOut(BaseModel):
    url: str = Field(description="Opens the grower app signed in on the phone that follows it, once")
    card: str = Field(description="A printable sign-in card with the link as a QR code")
    expires_at: str


class RevokedKey(BaseModel):
    keyid: str
    index: int = Field(description="Log index of its key_revoke entry")


class RevokedOut(RevokedKey):
    id: str
    keys: list[RevokedKey] = Field(description="Every key of the identity, each revoked by its own entry")


class PlotOut(BaseModel):
    plot_id: str


class AppendedOut(BaseModel):
    index: int
    leaf_hash: str


class WarningOut(BaseModel):
    code: str
    message: str


class BatchOut(AppendedOut):
    lot: str
    warnings: list[WarningOut] = []


class EventOut(AppendedOut):
    seq: int
    warnings: list[WarningOut] = []


class TipOut(BaseModel):
    seq: int = Field(description="The seq of the lot's newest record: the next record is seq + 1")
    prev: str = Field(description="Its leaf hash (lowercase hex): the next record's prev")


class PhoneKeyOut(BaseModel):
    keyid: str
    index: int = Field(description="Log index of the `key` entry that registered the key")
    custody: str


class PhotoOut(BaseModel):
    sha256: str
    media_type: str
    exif: dict[str, Any]
    warnings: list[WarningOut]
    evidence: dict[str, str] = Field(
        description="How a record cites the photo in its `evidence`: the original's hash and type, its copies' hashes"
    )


class EntriesOut(BaseModel):
    start: int
    entries: list[str]


class InclusionOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    old: int
    new: int
    proof: list[str]
