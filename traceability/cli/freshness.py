"""How old a proof bundle is, and where to fetch a newer one.

A bundle proves what the log held at its checkpoint, never that nothing came after it: a
recall logged since cannot be in it. Its checkpoint carries no time, but it is at least as new
as the newest record the bundle holds (`VerifiedBundle.as_of`); past `--max-age` the report
says so and shows where the lot's current bundle is served.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address
from urllib.parse import urlsplit

from signing.bundle import VerifiedBundle

DEFAULT_MAX_AGE = "1d"
_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_DURATION = re.compile(r"(?:\d+[wdhms])+")
_PART = re.compile(r"(\d+)([wdhms])")


def parse_duration(text: str) -> timedelta:
    """`1d`, `12h`, `1d12h`, `30m`, `2w`, `90s`; raises ValueError with the accepted forms."""
    if not _DURATION.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not a duration: use a number and a unit, like 1d, 12h, 30m or 1d12h")
    return sum((int(n) * _UNITS[unit] for n, unit in _PART.findall(text)), timedelta())


def in_words(age: timedelta) -> str:
    """An age the way a person says it: its largest whole unit."""
    seconds = max(int(age.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


@dataclass(frozen=True)
class Freshness:
    as_of: datetime  # the checkpoint is at least this new
    now: datetime
    max_age: timedelta
    max_age_text: str  # as the user gave it
    fresh_url: str | None  # where the lot's current bundle is, when the origin tells

    @classmethod
    def of(cls, verified: VerifiedBundle, now: datetime, max_age: timedelta, max_age_text: str) -> Freshness:
        return cls(
            verified.as_of, now, max_age, max_age_text, fresh_bundle_url(verified.checkpoint.origin, verified.lot)
        )

    @property
    def age(self) -> timedelta:
        return self.now - self.as_of

    @property
    def stale(self) -> bool:
        return self.age > self.max_age

    def fetch_command(self, lot: str) -> str:
        url = self.fresh_url or f"https://<the address on the lot's label>/b/{lot}/proof.json"
        return f"curl -o {shlex.quote(f'{lot}-proof.json')} {shlex.quote(url)}"


def fresh_bundle_url(origin: str, lot: str) -> str | None:
    """Where the lot's current bundle is served, from the log's origin, or None when it does not tell.

    The default origin is `<host of SUYUAN_PUBLIC_URL>/log` (protocol §2), and the bundle is
    `<SUYUAN_PUBLIC_URL>/b/{lot}/proof.json` (§3); an origin of another form was set by its
    operator and names no address. The origin keeps the host but not the scheme: a public
    server is https (production refuses anything else), a loopback one is a development
    server on http, as `suyuan demo` runs it.
    """
    host, slash, path = origin.partition("/")
    if not (slash and path == "log" and host):
        return None
    hostname = urlsplit(f"//{host}").hostname or ""
    return f"{'http' if _loopback(hostname) else 'https'}://{host}/b/{lot}/proof.json"


def _loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ip_address(hostname).is_loopback
    except ValueError:
        return False
