"""What clients send to register and revoke growers, regulators and cooperatives (protocol §4)."""

from __future__ import annotations

from ..fields import In, Name, Note, Phone


class GrowerIn(In):
    name: Name
    region: Name
    phone: Phone | None = None


class RegulatorIn(In):
    name: Name
    agency: Name
    region: Name | None = None


class CooperativeIn(In):
    name: Name
    region: Name


class RevokeIn(In):
    reason: Note
