"""What clients send to register and revoke growers, regulators and cooperatives (protocol §4)."""

from __future__ import annotations

from pydantic import Field

from ..fields import In, Name, Note, Phone, PublicKey


class GrowerIn(In):
    name: Name
    region: Name
    phone: Phone | None = None
    public_key: PublicKey | None = Field(
        default=None,
        description="Base64 of the raw 32-byte Ed25519 public key of a key the grower holds (protocol §9): "
        "the server then holds no key for them and never signs in their name; they send records they sign "
        "to POST /api/v1/records",
    )


class DeviceKeyIn(In):
    """A phone's key, made with WebCrypto after a card sign-in."""

    public_key: PublicKey


class RegulatorIn(In):
    name: Name
    agency: Name
    region: Name | None = None


class CooperativeIn(In):
    name: Name
    region: Name


class RevokeIn(In):
    reason: Note
