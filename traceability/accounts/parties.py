"""Who signed what: the registered parties behind keys, looked up in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..storage.models import Identity, MemberKey


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    role: str
    region: str | None = None
    agency: str | None = None
    phone: str | None = None

    @property
    def display(self) -> str:
        """The name a page shows: a regulator with the agency they act for."""
        return f"{self.name} ({self.agency})" if self.agency else self.name


def by_keyid(session: Session, keyids: Iterable[str]) -> dict[str, Party]:
    """The party behind each key that one of them registered (a key the log does not know is left out)."""
    rows = session.execute(
        select(MemberKey.keyid, Identity)
        .join(Identity, Identity.id == MemberKey.identity_id)
        .where(MemberKey.keyid.in_(set(keyids)))
    )
    return {kid: of(identity) for kid, identity in rows}


def display_names(session: Session, keyids: Iterable[str]) -> dict[str, str]:
    """The name a page shows for who signed with each key."""
    return {keyid: party.display for keyid, party in by_keyid(session, keyids).items()}


def of(identity: Identity) -> Party:
    return Party(identity.id, identity.name, identity.role, identity.region, identity.agency, identity.phone)
