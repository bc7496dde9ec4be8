"""Ed25519 keys and their key IDs (protocol §1)."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

KEY_SIZE = 32


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != KEY_SIZE:
        raise ValueError(f"Ed25519 seed is {len(seed)} bytes, want {KEY_SIZE}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def raw_seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def keyid(public_key: bytes | Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Lowercase hex SHA-256 of the raw 32-byte public key."""
    if isinstance(public_key, bytes):
        raw = public_key
        if len(raw) != KEY_SIZE:
            raise ValueError(f"Ed25519 public key is {len(raw)} bytes, want {KEY_SIZE}")
    else:
        raw = raw_public_key(public_key)
    return hashlib.sha256(raw).hexdigest()
