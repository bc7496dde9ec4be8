"""Configuration from the environment (protocol §7).

Development gets safe-enough defaults so `suyuan demo` works on a fresh clone; production
refuses to start on the ones that would be unsafe there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from signing.cosignature import WitnessPolicy
from signing.errors import VerificationError

# `<vkey>@<URL>`: a key name holds no '+', and base64 no '@', so the vkey ends at the first '@' after it.
_WITNESS = re.compile(r"(?P<vkey>[^+]+\+[0-9a-fA-F]{8}\+[A-Za-z0-9+/]+=*)@(?P<url>https?://[^\s,]+)")


@dataclass(frozen=True)
class WitnessConfig:
    """The witnesses the log submits its checkpoints to: who they are (`policy`, in the
    order given) and where each takes submissions (`urls`, the tlog-witness URL prefixes)."""

    policy: WitnessPolicy
    urls: tuple[str, ...]


def parse_witnesses(text: str, quorum: int | None) -> WitnessConfig | None:
    """SUYUAN_WITNESSES, `<vkey>@<submission URL prefix>` separated by commas; None when empty.
    Raises ValueError naming the entry that is wrong and how."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        if quorum is not None:
            raise ValueError("SUYUAN_WITNESS_QUORUM is set but SUYUAN_WITNESSES lists no witness")
        return None
    vkeys, urls = [], []
    for position, item in enumerate(items, 1):
        match = _WITNESS.fullmatch(item)
        if match is None:
            raise ValueError(
                f"SUYUAN_WITNESSES entry {position} ({item[:60]!r}) is not <witness vkey>@<http(s) URL prefix>"
            )
        vkeys.append(match["vkey"])
        urls.append(match["url"].rstrip("/"))
    if len(set(vkeys)) != len(vkeys):
        raise ValueError("SUYUAN_WITNESSES lists a witness twice: give each witness once")
    try:
        policy = WitnessPolicy.of(vkeys, quorum)
    except VerificationError as exc:
        raise ValueError(f"SUYUAN_WITNESSES holds a key that is not a witness's cosignature key: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"SUYUAN_WITNESS_QUORUM: {exc}") from None
    return WitnessConfig(policy, tuple(urls))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUYUAN_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./suyuan-data")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    admin_token: SecretStr | None = None
    log_origin: str | None = None
    # base64 of 32 bytes; when unset the key lives in the data dir (file mode 0600).
    master_key: SecretStr | None = None
    # JSON bodies larger than this are refused while streaming (entries are at most 64 KiB).
    max_json_bytes: int = Field(default=256 * 1024, ge=1024)
    # Photo uploads are refused past this size while they stream in.
    max_photo_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # How long an Idempotency-Key is remembered: long enough for a phone that was offline
    # for weeks to retry safely, short enough that the table does not grow without end.
    idempotency_days: int = Field(default=30, ge=1)
    # Credibility warnings (protocol §4): capture time or place this far from the claim.
    photo_time_tolerance_hours: float = Field(default=48, gt=0)
    photo_distance_tolerance_km: float = Field(default=5, gt=0)
    # Findings (protocol §5): a record dated this long before it was received is `backdated`.
    backdated_days: int = Field(default=7, ge=1)
    # Witnesses (protocol §8): `<vkey>@<submission URL prefix>`, comma-separated; the quorum
    # defaults to all of them.
    witnesses: str = ""
    witness_quorum: int | None = None

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        self.public_url = self.public_url.rstrip("/")
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"SUYUAN_PUBLIC_URL must be an http(s) URL, got {self.public_url!r}")
        parse_witnesses(self.witnesses, self.witness_quorum)  # a bad list stops the start, saying why
        if self.env == "production":
            token = self.admin_token.get_secret_value() if self.admin_token else ""
            if len(token) < 32:
                raise ValueError("production needs SUYUAN_ADMIN_TOKEN of at least 32 random characters")
            if parts.scheme != "https":
                raise ValueError("production needs an https SUYUAN_PUBLIC_URL (session cookies and QR links)")
        return self

    @cached_property
    def witness_config(self) -> WitnessConfig | None:
        return parse_witnesses(self.witnesses, self.witness_quorum)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'suyuan.db').resolve()}"

    @cached_property
    def origin(self) -> str:
        if self.log_origin:
            return self.log_origin
        parts = urlsplit(self.public_url)
        host = parts.hostname or "localhost"
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"{host}/log"
