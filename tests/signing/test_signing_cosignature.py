"""Witness cosignatures, c2sp.org/tlog-cosignature `cosignature/v1` (protocol §8)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.cosignature import (
    MAX_TIMESTAMP,
    Cosigner,
    WitnessVerifier,
    cosign,
    cosigned_message,
    verify_cosigned,
)
from signing.errors import VerificationError
from signing.keys import private_key_from_seed, raw_public_key
from signing.note import Signer, Verifier
from tests.witness.witnesskit import check_cosignature

from .signing_testkit import DETERMINISTIC, THOROUGH

# A checkpoint of transparency.dev's staging CT log as published, with the cosignatures
# its witnesses added; remora.n621.de's vkey is a public one. Nothing here made it.
ARCHE_CHECKPOINT = (
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
    "\n"
    "— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n"
    "— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
    "— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n"
)
ARCHE_LOG_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
REMORA_LINE = "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
# c2sp.org/tlog-cosignature's example: a cosignature line, and the message it signs (`time 1679315147`).
C2SP_EXAMPLE_LINE = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
C2SP_EXAMPLE_TIME = 1679315147

ORIGIN = "orchard.example/log"
T = 1_790_000_000


def log_signer(seed: int = 1) -> Signer:
    return Signer(ORIGIN, private_key_from_seed(bytes([seed]) * 32))


def log_key(seed: int = 1) -> Verifier:
    return Verifier.from_key_string(log_signer(seed).verifier_key())


def cosigner(index: int) -> Cosigner:
    return Cosigner(f"witness.example/w{index}", private_key_from_seed(bytes([0x40 + index]) * 32))


CHECKPOINT = Checkpoint(ORIGIN, 42, hashlib.sha256(b"root").digest())


def cosigned(*witnesses: Cosigner, checkpoint: Checkpoint = CHECKPOINT, timestamp: int = T) -> str:
    note = sign_checkpoint(checkpoint, log_signer())
    return note + "".join(cosign(checkpoint, w, timestamp + i) for i, w in enumerate(witnesses))


def verifiers(*indexes: int) -> list[WitnessVerifier]:
    return [cosigner(i).verifier() for i in indexes]


# Known answers.


def test_a_published_checkpoint_cosigned_by_a_real_witness_verifies() -> None:
    log_key = Verifier.from_key_string(ARCHE_LOG_VKEY)
    remora = WitnessVerifier.from_key_string(REMORA_VKEY)
    result = verify_cosigned(ARCHE_CHECKPOINT, log_key, [remora], 1)
    assert result.checkpoint.size == 1432088532
    assert result.witnesses == ["remora.n621.de"]
    (cosignature,) = result.cosignatures
    assert (cosignature.key_id, cosignature.timestamp, cosignature.line) == (0xDA77ADE7, 1779573024, REMORA_LINE)
    # Another witness's keys are unknown here, and ignored: they cannot make up a quorum of two.
    with pytest.raises(VerificationError, match=r"1 valid cosignatures of the 2 needed from 2 witnesses"):
        verify_cosigned(ARCHE_CHECKPOINT, log_key, [remora, cosigner(1).verifier()], 2)


def test_a_published_cosignature_changed_in_one_bit_fails_the_note() -> None:
    raw = bytearray(base64.b64decode(REMORA_LINE.split()[2]))
    raw[40] ^= 1
    bad = ARCHE_CHECKPOINT.replace(REMORA_LINE, f"— remora.n621.de {base64.b64encode(raw).decode()}\n")
    log_key = Verifier.from_key_string(ARCHE_LOG_VKEY)
    with pytest.raises(VerificationError, match=r"^invalid cosignature by witness remora.n621.de\+da77ade7$"):
        verify_cosigned(bad, log_key, [WitnessVerifier.from_key_string(REMORA_VKEY)], 0)


def test_the_timestamp_is_encoded_as_in_the_c2sp_example() -> None:
    line = cosign(CHECKPOINT, cosigner(1), C2SP_EXAMPLE_TIME)
    ours = base64.b64decode(line.split()[2])
    theirs = base64.b64decode(C2SP_EXAMPLE_LINE.split()[2])
    assert ours[4:12] == theirs[4:12] == C2SP_EXAMPLE_TIME.to_bytes(8, "big")
    assert cosigned_message(b"body\n", C2SP_EXAMPLE_TIME) == b"cosignature/v1\ntime 1679315147\nbody\n"


def test_witness_vkeys() -> None:
    remora = WitnessVerifier.from_key_string(REMORA_VKEY)
    assert (remora.name, remora.key_id, remora.key_string()) == ("remora.n621.de", 0xDA77ADE7, REMORA_VKEY)
    key = cosigner(1)
    public = raw_public_key(private_key_from_seed(bytes([0x41]) * 32))
    key_id = hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4].hex()
    key_data = base64.b64encode(bytes([4]) + public).decode()
    assert key.key_string() == f"witness.example/w1+{key_id}+{key_data}"
    assert WitnessVerifier.from_key_string(key.key_string()).public_key == public
    # A log's note key (type 0x01) is not a witness key, nor the other way round.
    with pytest.raises(
        VerificationError, match=r"algorithm 0x01 is not supported \(only Ed25519 cosignature/v1, 0x04\)"
    ):
        WitnessVerifier.from_key_string(log_signer().verifier_key())
    with pytest.raises(VerificationError, match="algorithm 0x04 is not supported"):
        Verifier.from_key_string(key.key_string())


# Independent implementations agree both ways.


def test_a_cosignature_verifies_with_an_independent_implementation() -> None:
    line = cosign(CHECKPOINT, cosigner(1), T)
    assert check_cosignature(line, CHECKPOINT.body(), cosigner(1).key_string()) == T


def test_a_cosignature_made_independently_verifies() -> None:
    seed = bytes(range(32))
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = raw_public_key(key)
    name = "independent.example/w"
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    message = b"cosignature/v1\ntime %d\n" % T + CHECKPOINT.body().encode()
    raw = key_id + T.to_bytes(8, "big") + key.sign(message)
    note = sign_checkpoint(CHECKPOINT, log_signer()) + f"— {name} {base64.b64encode(raw).decode()}\n"
    vkey = f"{name}+{key_id.hex()}+{base64.b64encode(bytes([4]) + public).decode()}"
    result = verify_cosigned(note, log_key(), [WitnessVerifier.from_key_string(vkey)], 1)
    assert result.witnesses == [name] and result.cosignatures[0].timestamp == T


def test_extension_lines_are_cosigned() -> None:
    checkpoint = Checkpoint(ORIGIN, 42, CHECKPOINT.root_hash, ("extension",))
    line = cosign(checkpoint, cosigner(1), T)
    check_cosignature(line, checkpoint.body(), cosigner(1).key_string())
    assert not cosigner(1).verifier().verify(CHECKPOINT.body().encode(), base64.b64decode(line.split()[2])[4:])


# The quorum.


def test_a_quorum_of_the_given_witnesses() -> None:
    note = cosigned(cosigner(1), cosigner(3))
    result = verify_cosigned(note, log_key(), verifiers(1, 2, 3), 2)
    assert result.checkpoint == CHECKPOINT
    assert result.witnesses == ["witness.example/w1", "witness.example/w3"]
    assert [c.timestamp for c in result.cosignatures] == [T, T + 1]
    with pytest.raises(VerificationError) as info:
        verify_cosigned(note, log_key(), verifiers(1, 2, 3), 3)
    assert str(info.value) == (
        "checkpoint of size 42 has 2 valid cosignatures of the 3 needed from 3 witnesses (none from: witness.example/w2)"
    )


def test_a_bad_cosignature_by_a_known_witness_fails_even_when_the_quorum_is_met() -> None:
    other = Checkpoint(ORIGIN, 42, hashlib.sha256(b"another root").digest())
    note = cosigned(cosigner(1)) + cosign(other, cosigner(2), T)
    with pytest.raises(VerificationError, match=r"^invalid cosignature by witness witness.example/w2\+[0-9a-f]{8}$"):
        verify_cosigned(note, log_key(), verifiers(1, 2), 1)
    # Unknown to the verifier, the same line is ignored.
    assert verify_cosigned(note, log_key(), verifiers(1), 1).witnesses == ["witness.example/w1"]


def test_a_witness_counts_once() -> None:
    note = cosigned(cosigner(1)) + cosign(CHECKPOINT, cosigner(1), T + 60)
    result = verify_cosigned(note, log_key(), verifiers(1, 1), 1)
    assert result.witnesses == ["witness.example/w1"]
    with pytest.raises(ValueError, match="a quorum of 2 cannot be met by 1 distinct witnesses"):
        verify_cosigned(note, log_key(), verifiers(1, 1), 2)
    with pytest.raises(ValueError, match="a quorum of -1"):
        verify_cosigned(note, log_key(), verifiers(1), -1)


def test_the_log_must_have_signed_it() -> None:
    note = cosigned(cosigner(1))
    # Another key of the same name: cosignatures do not stand in for the log's signature.
    with pytest.raises(VerificationError, match="note has no verifiable signatures"):
        verify_cosigned(note, log_key(seed=2), verifiers(1), 1)
    # A witness key is not a log key, even under the log's name.
    impostor = Cosigner(ORIGIN, private_key_from_seed(bytes([1]) * 32))
    only_cosigned = CHECKPOINT.body() + "\n" + cosign(CHECKPOINT, impostor, T)
    with pytest.raises(VerificationError, match="note has no verifiable signatures"):
        verify_cosigned(only_cosigned, log_key(), [impostor.verifier()], 1)


def test_a_line_under_a_witness_name_with_another_key_id_is_ignored() -> None:
    stranger = Cosigner("witness.example/w1", private_key_from_seed(bytes([0x99]) * 32))
    note = cosigned(stranger)
    with pytest.raises(VerificationError, match="0 valid cosignatures of the 1 needed"):
        verify_cosigned(note, log_key(), verifiers(1), 1)


def test_timestamps_are_bounded() -> None:
    for bad in (0, MAX_TIMESTAMP + 1, -1):
        with pytest.raises(ValueError, match=re.escape("outside 1..2**63-1")):
            cosign(CHECKPOINT, cosigner(1), bad)
    line = cosign(CHECKPOINT, cosigner(1), MAX_TIMESTAMP)
    note = sign_checkpoint(CHECKPOINT, log_signer()) + line
    assert verify_cosigned(note, log_key(), verifiers(1), 1).cosignatures[0].timestamp == MAX_TIMESTAMP
    # A timestamp of 2**63, validly signed all the same, is refused.
    key = private_key_from_seed(bytes([0x41]) * 32)
    too_late = 2**63
    raw = (
        cosigner(1).key_id.to_bytes(4, "big")
        + too_late.to_bytes(8, "big")
        + key.sign(cosigned_message(CHECKPOINT.body().encode(), too_late))
    )
    note = sign_checkpoint(CHECKPOINT, log_signer()) + f"— witness.example/w1 {base64.b64encode(raw).decode()}\n"
    with pytest.raises(VerificationError, match="invalid cosignature by witness"):
        verify_cosigned(note, log_key(), verifiers(1), 1)


# Any change fails.

LINE = cosign(CHECKPOINT, cosigner(1), T)
RAW = base64.b64decode(LINE.split()[2])[4:]
BODY = CHECKPOINT.body().encode()


def _flip(data: bytes, position: int, bits: int) -> bytes:
    changed = bytearray(data)
    changed[position % len(data)] ^= bits
    return bytes(changed)


@THOROUGH
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_change_to_the_body_fails(position: int, bits: int) -> None:
    assert not cosigner(1).verifier().verify(_flip(BODY, position, bits), RAW)


@THOROUGH
@given(st.integers(min_value=0, max_value=MAX_TIMESTAMP).filter(lambda t: t != T))
def test_any_other_timestamp_fails(timestamp: int) -> None:
    assert not cosigner(1).verifier().verify(BODY, timestamp.to_bytes(8, "big") + RAW[8:])


@THOROUGH
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_change_to_the_timestamp_or_signature_fails(position: int, bits: int) -> None:
    assert not cosigner(1).verifier().verify(BODY, _flip(RAW, position, bits))


@DETERMINISTIC
@given(st.integers(min_value=0, max_value=75), st.integers(min_value=1, max_value=255))
def test_any_change_to_the_line_fails_the_note_or_goes_unrecognised(position: int, bits: int) -> None:
    raw = base64.b64decode(LINE.split()[2])
    note = (
        sign_checkpoint(CHECKPOINT, log_signer())
        + f"— witness.example/w1 {base64.b64encode(_flip(raw, position, bits)).decode()}\n"
    )
    # A changed key ID makes the line another key's (ignored); any other change is a bad cosignature.
    expected = "0 valid cosignatures" if position < 4 else "invalid cosignature by witness"
    with pytest.raises(VerificationError, match=expected):
        verify_cosigned(note, log_key(), verifiers(1), 1)
