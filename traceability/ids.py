"""Identifiers: readable, unguessable, and in the alphabets the protocol allows."""

from __future__ import annotations

import secrets

# Crockford's base32 without I, L, O, U: nothing to misread on a printed label.
LOT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_ALPHABET = LOT_ALPHABET.lower()


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + "-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def new_lot_code(length: int = 10) -> str:
    """50 random bits: fits GS1 AI (10) and a label, and cannot be guessed to enumerate lots."""
    return "".join(secrets.choice(LOT_ALPHABET) for _ in range(length))


def new_token() -> str:
    return "sy_" + secrets.token_urlsafe(32)


def gs1_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of the digits before it (GTIN, SSCC, GLN ...)."""
    return str(-sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits))) % 10)
