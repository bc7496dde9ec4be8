"""Secrets in the data dir: the log operator key, the master key that seals custodial keys,
and the development admin token.

Files are created with mode 0600 at first start. The operator key is stored in Go's
note private-key form, so the key name (the log origin) is kept beside the key.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signing.keys import generate_private_key, private_key_from_seed, raw_seed
from signing.note import Signer

from ..ids import new_token
from .durable import create_file

OPERATOR_KEY_FILE = "log-key"
MASTER_KEY_FILE = "master-key"
ADMIN_TOKEN_FILE = "admin-token"


class KeyFileError(RuntimeError):
    """A key file or variable is unusable; the message says which and what to do."""


def write_secret(path: Path, text: str) -> None:
    """Create `path` with mode 0600 unless it exists, whole or not at all (the first writer wins)."""
    create_file(path, text.encode("utf-8"), 0o600)


def load_or_create_operator_signer(data_dir: Path, origin: str) -> Signer:
    return load_or_create_signer(
        data_dir / OPERATOR_KEY_FILE, origin, "a log's origin never changes: set SUYUAN_LOG_ORIGIN to the key's origin"
    )


def load_or_create_signer(path: Path, name: str, if_renamed: str) -> Signer:
    """The key named `name` kept at `path`, made at first use; `if_renamed` says what to do
    when the file holds another name's key."""
    if not path.exists():
        write_secret(path, Signer(name, generate_private_key()).private_key_string() + "\n")
    # UTF-8, as written: a key name (a witness's, say) may be 城口县市场监督管理局.
    signer = Signer.from_private_key_string(path.read_text(encoding="utf-8").strip())
    if signer.name != name:
        raise KeyFileError(f"{path} is the key of {signer.name!r} but the configured name is {name!r}; {if_renamed}")
    return signer


class Sealer:
    """AES-256-GCM for custodial private keys; the keyid is bound in as associated data."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)
        # Opened keys stay in memory beside the master key that opens them: no weaker,
        # and it spares each append a decryption and a key load.
        self.unseal = lru_cache(maxsize=10_000)(self._unseal)

    @classmethod
    def load_or_create(cls, data_dir: Path, from_env: str | None) -> Sealer:
        if from_env:
            try:
                key = base64.b64decode(from_env, validate=True)
            except binascii.Error as exc:
                raise KeyFileError("SUYUAN_MASTER_KEY must be base64") from exc
            if len(key) != 32:
                raise KeyFileError("SUYUAN_MASTER_KEY must decode to exactly 32 bytes")
            return cls(key)
        path = data_dir / MASTER_KEY_FILE
        if not path.exists():
            write_secret(path, base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n")
        key = base64.b64decode(path.read_text(encoding="ascii").strip())
        if len(key) != 32:
            raise KeyFileError(f"{path} must hold base64 of 32 bytes")
        return cls(key)

    def seal(self, private_key: Ed25519PrivateKey, keyid: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, raw_seed(private_key), keyid.encode())

    def _unseal(self, sealed: bytes, keyid: str) -> Ed25519PrivateKey:
        try:
            seed = self._aead.decrypt(sealed[:12], sealed[12:], keyid.encode())
        except InvalidTag as exc:
            raise KeyFileError(
                f"the custodial key of {keyid} does not open with this master key "
                "(was SUYUAN_MASTER_KEY or the data dir's master-key changed?)"
            ) from exc
        return private_key_from_seed(seed)


def admin_token(data_dir: Path, from_env: str | None) -> str:
    """SUYUAN_ADMIN_TOKEN, or in development one made at first start and kept in the data dir."""
    if from_env:
        return from_env
    path = data_dir / ADMIN_TOKEN_FILE
    if not path.exists():
        write_secret(path, new_token() + "\n")
    return path.read_text(encoding="ascii").strip()
