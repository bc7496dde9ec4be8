"""C2SP signed notes with Ed25519 keys, behaving like golang.org/x/mod/sumdb/note.

One deliberate difference: base64 in key strings and signature lines must be in
canonical form (see `signing.encoding.b64decode`), so a signed note has exactly
one encoding. Go accepts stray padding bits; no Go signer emits them.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from signing.encoding import b64decode, b64encode
from signing.errors import VerificationError
from signing.keys import KEY_SIZE, private_key_from_seed, raw_public_key, raw_seed

_ALG_ED25519 = 0x01
_SIGNATURE_SIZE = 64
_MAX_SIGNATURES = 100
_SIGNATURE_PREFIX = "— "
_MALFORMED = "malformed note"
# Go's unicode.IsSpace: the Unicode White_Space property. (str.isspace differs,
# e.g. it counts U+001C..U+001F.)
_WHITE_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Notes must not contain ASCII control characters other than newline.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _is_utf8(text: str) -> bool:
    """Whether a str is valid UTF-8 when encoded, i.e. holds no lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_valid_name(name: str) -> bool:
    """Go's isValidName: non-empty UTF-8 with no Unicode space and no '+'."""
    return bool(name) and _is_utf8(name) and "+" not in name and not any(c in _WHITE_SPACE for c in name)


def _key_id(name: str, key_data: bytes) -> int:
    """The uint32 key ID: the first 4 bytes of SHA-256(name || 0x0A || algorithm || key)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + key_data).digest()
    return int.from_bytes(digest[:4], "big")


def _ed25519_key_data(public_key: bytes) -> bytes:
    return bytes([_ALG_ED25519]) + public_key


def _is_hex_key_id(text: str) -> bool:
    return len(text) == 8 and all(c in string.hexdigits for c in text)


def require_signer_name(name: str) -> None:
    """Raise ValueError unless `name` can sign: a valid key name without control characters."""
    if not _is_valid_name(name):
        raise ValueError(f"invalid key name {name!r}: want non-empty UTF-8 with no spaces and no '+'")
    # The name is written into every signature line, and a note holding a
    # control character cannot be opened.
    if _CONTROL.search(name):
        raise ValueError(f"invalid key name {name!r}: it contains a control character")


def verifier_key_string(name: str, public_key: bytes) -> str:
    """`<name>+<8 hex key ID>+<base64(0x01 || public key)>`."""
    return Verifier(name, public_key).key_string()


class Signer:
    """A named Ed25519 key that signs notes."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        require_signer_name(name)
        self.name = name
        self.key_id = _key_id(name, _ed25519_key_data(raw_public_key(private_key)))
        self._private_key = private_key

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """For signing other things with the same key (the log operator signs `key` records)."""
        return self._private_key

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    def verifier_key(self) -> str:
        return verifier_key_string(self.name, raw_public_key(self._private_key))

    def private_key_string(self) -> str:
        """Go's signer key form: `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed)>`."""
        key = b64encode(bytes([_ALG_ED25519]) + raw_seed(self._private_key))
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{key}"

    @classmethod
    def from_private_key_string(cls, skey: str) -> Signer:
        """Parse Go's signer key form. Raises ValueError without echoing the secret."""
        # 1. Five '+'-separated parts; base64 may itself contain '+'.
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise ValueError("signer key is not PRIVATE+KEY+<name>+<key ID>+<key>")
        _, _, name, hash16, key64 = parts
        # 2. Name and key ID syntax.
        if not _is_valid_name(name):
            raise ValueError(f"signer key name {name!r} is not a valid key name")
        if not _is_hex_key_id(hash16):
            raise ValueError(f"signer key ID {hash16!r} is not 8 hex digits")
        # 3. An Ed25519 seed.
        try:
            key = b64decode(key64)
        except ValueError as e:
            raise ValueError(f"signer key data is {e}") from None
        if not key:
            raise ValueError("signer key data is empty")
        if key[0] != _ALG_ED25519:
            raise ValueError(f"signer key algorithm 0x{key[0]:02x} is not supported (only Ed25519, 0x01)")
        if len(key) != 1 + KEY_SIZE:
            raise ValueError(f"Ed25519 signer seed is {len(key) - 1} bytes, want {KEY_SIZE}")
        # 4. The key ID names the public key, which only the seed can give.
        signer = cls(name, private_key_from_seed(key[1:]))
        if signer.key_id != int(hash16, 16):
            raise ValueError(f"signer key ID {hash16} does not match the key (want {signer.key_id:08x})")
        return signer


class Verifier:
    """A named Ed25519 public key that verifies note signatures.

    Subclasses verify other signature types over the same key (see
    `signing.cosignature`): the type byte goes into the key ID and the vkey.
    """

    # The signed-note signature type, and how errors name it.
    ALGORITHM = _ALG_ED25519
    ALGORITHM_NAME = "Ed25519"

    def __init__(self, name: str, public_key: bytes) -> None:
        if not _is_valid_name(name):
            raise ValueError(f"invalid key name {name!r}: want non-empty UTF-8 with no spaces and no '+'")
        if len(public_key) != KEY_SIZE:
            raise ValueError(f"Ed25519 public key is {len(public_key)} bytes, want {KEY_SIZE}")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = _key_id(name, self._key_data())
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    def _key_data(self) -> bytes:
        return bytes([self.ALGORITHM]) + self.public_key

    def verify(self, message: bytes, sig: bytes) -> bool:
        if len(sig) != _SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(sig, message)
        except InvalidSignature:
            return False
        return True

    def key_string(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64encode(self._key_data())}"

    @classmethod
    def from_key_string(cls, vkey: str) -> Self:
        """Parse `<name>+<8 hex key ID>+<base64(algorithm || key)>` (Go's NewVerifier)."""
        # 1. Three '+'-separated parts; base64 may itself contain '+'.
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise VerificationError(f"verifier key {vkey!r} is not <name>+<key ID>+<key>")
        name, hash16, key64 = parts
        # 2. Name and key ID syntax.
        if not _is_valid_name(name):
            raise VerificationError(f"verifier key name {name!r} is not a valid key name")
        if not _is_hex_key_id(hash16):
            raise VerificationError(f"verifier key ID {hash16!r} is not 8 hex digits")
        # 3. Non-empty base64 key data.
        try:
            key = b64decode(key64)
        except ValueError as e:
            raise VerificationError(f"verifier key data {key64!r} is {e}") from None
        if not key:
            raise VerificationError("verifier key data is empty")
        # 4. The key ID must be the hash of the name and the key data as given.
        expected = _key_id(name, key)
        if int(hash16, 16) != expected:
            raise VerificationError(f"verifier key ID {hash16} does not match the key (want {expected:08x})")
        # 5. This class's signature type only.
        if key[0] != cls.ALGORITHM:
            raise VerificationError(
                f"verifier key algorithm 0x{key[0]:02x} is not supported (only {cls.ALGORITHM_NAME}, 0x{cls.ALGORITHM:02x})"
            )
        if len(key) != 1 + KEY_SIZE:
            raise VerificationError(f"Ed25519 verifier key is {len(key) - 1} bytes, want {KEY_SIZE}")
        return cls(name, key[1:])


class VerifierList:
    """Known verifiers looked up by name and key ID, like Go's note.VerifierList."""

    def __init__(self, *verifiers: Verifier) -> None:
        self._by_id: dict[tuple[str, int], list[Verifier]] = {}
        for verifier in verifiers:
            self._by_id.setdefault((verifier.name, verifier.key_id), []).append(verifier)

    def knows(self, name: str, key_id: int) -> bool:
        return (name, key_id) in self._by_id

    def verifier(self, name: str, key_id: int) -> Verifier:
        candidates = self._by_id.get((name, key_id), [])
        if not candidates:
            raise VerificationError(f"unknown key {name}+{key_id:08x}")
        # Two keys with one name and ID mean the list itself has been tampered with.
        if len(candidates) > 1:
            raise VerificationError(f"ambiguous key {name}+{key_id:08x}")
        return candidates[0]


@dataclass
class Signature:
    """One signature line: key name, key ID, and the base64 of key ID || signature."""

    name: str
    key_id: int
    base64: str

    def line(self) -> str:
        """The signature line as a note carries it: `— <name> <base64>` and a newline."""
        return f"{_SIGNATURE_PREFIX}{self.name} {self.base64}\n"


@dataclass
class Note:
    """An opened note: its text, the signatures verified, and those by unknown keys."""

    text: str
    sigs: list[Signature]
    unverified_sigs: list[Signature]


def sign_note(text: str, *signers: Signer) -> str:
    """`text`, a blank line, then one `— <name> <base64(key ID || signature)>` line per signer.

    Raises ValueError for text that `open_note` could not open again.
    """
    if not text.endswith("\n"):
        raise ValueError("note text must be non-empty and end with a newline")
    if not _is_utf8(text):
        raise ValueError("note text is not valid Unicode (it holds a lone surrogate)")
    if _CONTROL.search(text):
        raise ValueError("note text must not contain control characters other than newline")
    if not 1 <= len(signers) <= _MAX_SIGNATURES:
        raise ValueError(f"a note needs 1 to {_MAX_SIGNATURES} signers, got {len(signers)}")
    message = text.encode("utf-8")
    lines = [
        Signature(signer.name, signer.key_id, b64encode(signer.key_id.to_bytes(4, "big") + signer.sign(message))).line()
        for signer in signers
    ]
    return text + "\n" + "".join(lines)


def open_note(message: bytes | str, verifiers: Sequence[Verifier]) -> Note:
    """Parse a signed note and verify its signatures, like Go's note.Open.

    Signatures by keys not in `verifiers` go to `unverified_sigs`; a signature by
    a known key that does not verify fails the whole note; at least one
    signature must verify. Repeated signatures are dropped.
    """
    known = VerifierList(*verifiers)

    # 1. Valid UTF-8 without control characters other than newline.
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError(_MALFORMED) from None
    elif not _is_utf8(message):
        raise VerificationError(_MALFORMED)
    if _CONTROL.search(message):
        raise VerificationError(_MALFORMED)

    # 2. Text, a blank line, then a newline-terminated signature block.
    split = message.rfind("\n\n")
    if split < 0:
        raise VerificationError(_MALFORMED)
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise VerificationError(_MALFORMED)
    signed = text.encode("utf-8")

    sigs: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[str] = set()
    for count, line in enumerate(block[:-1].split("\n"), start=1):
        # 3. Each line is `— <name> <base64>`, the base64 holding a key ID and a signature.
        if not line.startswith(_SIGNATURE_PREFIX):
            raise VerificationError(_MALFORMED)
        name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = b64decode(encoded)
        except ValueError:
            raise VerificationError(_MALFORMED) from None
        if not _is_valid_name(name) or len(raw) < 5:
            raise VerificationError(_MALFORMED)
        key_id = int.from_bytes(raw[:4], "big")

        # 4. Bounded work per note.
        if count > _MAX_SIGNATURES:
            raise VerificationError(_MALFORMED)

        # 5. Signatures by unknown keys are kept, unverified (once each).
        if not known.knows(name, key_id):
            if line not in seen_unverified:
                seen_unverified.add(line)
                unverified.append(Signature(name, key_id, encoded))
            continue

        # 6. A known key's signature must verify; its repeats are dropped unchecked, as in Go.
        verifier = known.verifier(name, key_id)
        if (name, key_id) in seen:
            continue
        seen.add((name, key_id))
        if not verifier.verify(signed, raw[4:]):
            raise VerificationError(f"invalid signature for key {name}+{key_id:08x}")
        sigs.append(Signature(name, key_id, encoded))

    # 7. At least one signature by a known key.
    if not sigs:
        raise VerificationError("note has no verifiable signatures")
    return Note(text, sigs, unverified)
