"""C2SP signed notes against golang.org/x/mod/sumdb/note (known-answers.md §3.1, §3.2, §3.6)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signing.errors import VerificationError
from signing.keys import private_key_from_seed, raw_public_key
from signing.note import (
    Note,
    Signature,
    Signer,
    Verifier,
    VerifierList,
    open_note,
    sign_note,
    verifier_key_string,
)
from tests.signing.signing_testkit import DETERMINISTIC, THOROUGH

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SKEY = "PRIVATE+KEY+EnochRoot+af0cfe78+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_B64 = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
ENOCH_B64 = "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_B64}\n"

PETER = Verifier.from_key_string(PETER_VKEY)
ENOCH = Verifier.from_key_string(ENOCH_VKEY)


def _vkey_with_key_id(name: str, key_data: bytes) -> str:
    """A vkey whose key ID is right for its data, so that only the data can be at fault."""
    key_id = hashlib.sha256(name.encode() + b"\n" + key_data).digest()[:4].hex()
    return f"{name}+{key_id}+{base64.b64encode(key_data).decode()}"


def test_peter_neumann_key_decodes_as_go_does() -> None:
    signer = Signer.from_private_key_string(PETER_SKEY)
    assert (signer.name, signer.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert signer.verifier_key() == PETER_VKEY
    assert signer.private_key_string() == PETER_SKEY
    assert PETER.public_key.hex() == "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6"
    assert (PETER.name, PETER.key_id, PETER.key_string()) == ("PeterNeumann", 0xC74F20A3, PETER_VKEY)
    assert verifier_key_string("PeterNeumann", PETER.public_key) == PETER_VKEY


def test_sign_reproduces_go_byte_for_byte() -> None:
    signer = Signer.from_private_key_string(PETER_SKEY)
    assert sign_note(TEXT, signer) == TEXT + "\n" + PETER_SIG
    assert signer.sign(TEXT.encode()).hex() == (
        "f64992e052f541bf49f7dcbc8010c5506d885ba92cbafca40704959227348b86"
        "52060dd451580b6a5948d5e02afa9fa9d9e0a2da5165be8a13a472c81c099c03"
    )


def test_enoch_root_double_signature() -> None:
    enoch = Signer("EnochRoot", private_key_from_seed(bytes(32)))
    assert enoch.verifier_key() == ENOCH_VKEY
    assert enoch.private_key_string() == ENOCH_SKEY
    peter = Signer.from_private_key_string(PETER_SKEY)
    assert sign_note(TEXT, peter, enoch) == TEXT + "\n" + PETER_SIG + ENOCH_SIG


def test_open_sorts_known_and_unknown_signatures() -> None:
    note = open_note((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode(), [PETER])
    assert note == Note(
        text=TEXT,
        sigs=[Signature("PeterNeumann", 0xC74F20A3, PETER_B64)],
        unverified_sigs=[Signature("EnochRoot", 0xAF0CFE78, ENOCH_B64)],
    )
    both = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER, ENOCH])
    assert [s.name for s in both.sigs] == ["PeterNeumann", "EnochRoot"]
    assert both.unverified_sigs == []


def test_open_without_known_keys() -> None:
    with pytest.raises(VerificationError) as info:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert str(info.value) == "note has no verifiable signatures"


def test_verifier_list_lookup_errors() -> None:
    with pytest.raises(VerificationError) as info:
        VerifierList(PETER, ENOCH).verifier("PeterNeumann", 0xC74F20A4)
    assert str(info.value) == "unknown key PeterNeumann+c74f20a4"
    assert VerifierList(PETER).verifier("PeterNeumann", 0xC74F20A3) is PETER
    with pytest.raises(VerificationError) as info:
        VerifierList(PETER, ENOCH, ENOCH).verifier("EnochRoot", 0xAF0CFE78)
    assert str(info.value) == "ambiguous key EnochRoot+af0cfe78"
    with pytest.raises(VerificationError) as info:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER, ENOCH, ENOCH])
    assert str(info.value) == "ambiguous key EnochRoot+af0cfe78"


def test_signature_count_limit() -> None:
    note = open_note(TEXT + "\n" + PETER_SIG * 100, [PETER])
    assert len(note.sigs) == 1  # repeats are dropped
    with pytest.raises(VerificationError) as info:
        open_note(TEXT + "\n" + PETER_SIG * 101, [PETER])
    assert str(info.value) == "malformed note"


def test_invalid_signature() -> None:
    bad = PETER_SIG.encode()[:60] + b"ABCD" + PETER_SIG.encode()[60:]
    with pytest.raises(VerificationError) as info:
        open_note(TEXT.encode() + b"\n" + bad, [PETER])
    assert str(info.value) == "invalid signature for key PeterNeumann+c74f20a3"


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
        TEXT + "\n" + f"— Bad Name {PETER_B64}",
        TEXT + "\n" + f"— Bad Name {PETER_B64}\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        # Beyond Go's test list: the name rules, and a lone surrogate.
        TEXT + "\n" + f"— Peter+Neumann {PETER_B64}\n",
        TEXT + "\n" + f"— Peter\u00a0Neumann {PETER_B64}\n",
        TEXT + "\n" + f"— PeterNeumann {PETER_B64[:4]}\n",
        TEXT + "\n" + "— PeterNeumann\n",
        TEXT.replace("If", "\ud800") + "\n" + PETER_SIG,
        # Non-canonical base64: the same bytes with a stray padding bit.
        TEXT + "\n" + PETER_SIG.replace("nAM=", "nAN="),
    ],
    ids=lambda m: repr(m)[-40:],
)
def test_malformed_notes(message: str | bytes) -> None:
    with pytest.raises(VerificationError) as info:
        open_note(message, [PETER])
    assert str(info.value) == "malformed note"


def test_c2sp_example() -> None:
    verifier = Verifier.from_key_string("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    note = open_note(
        "This is an example message.\n\n"
        "— example.com/foo "
        "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n",
        [verifier],
    )
    assert note.text == "This is an example message.\n"
    assert verifier.key_id == 0x530D903A


def test_every_proper_substring_of_a_vkey_is_rejected() -> None:
    for start in range(len(PETER_VKEY)):
        for end in range(start, len(PETER_VKEY) + 1):
            if (start, end) != (0, len(PETER_VKEY)):
                with pytest.raises(VerificationError):
                    Verifier.from_key_string(PETER_VKEY[start:end])


def test_every_single_byte_increment_of_a_vkey_is_rejected() -> None:
    for position, char in enumerate(PETER_VKEY):
        mutated = PETER_VKEY[:position] + chr(ord(char) + 1) + PETER_VKEY[position + 1 :]
        with pytest.raises(VerificationError):
            Verifier.from_key_string(mutated)


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        # Go decodes this to a 37-byte key and rejects the length; its base64
        # has stray padding bits, so here it fails one check earlier.
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "canonical base64"),
        (_vkey_with_key_id("PeterNeumann", bytes([1]) + bytes(31)), "is 31 bytes, want 32"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "algorithm 0x65 is not supported"),
        ("bananas.sigstore.dev+12344556", "is not <name>+<key ID>+<key>"),
        ("rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!", "not valid base64"),
        ("rekor.sigstore.dev+12345678+AwEB", "does not match the key"),
        ("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", "algorithm 0x04 is not supported"),
        ("PeterNeumann+c74f20a3+", "data is empty"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not a valid key name"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "is not 8 hex digits"),
    ],
)
def test_bad_vkeys(vkey: str, reason: str) -> None:
    with pytest.raises(VerificationError, match=re.escape(reason)):
        Verifier.from_key_string(vkey)


@pytest.mark.parametrize(
    "vkey",
    [
        "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
    ],
)
def test_valid_ed25519_vkeys(vkey: str) -> None:
    assert Verifier.from_key_string(vkey).key_string() == vkey


def test_key_id_hex_is_case_insensitive_as_in_go() -> None:
    assert Verifier.from_key_string(PETER_VKEY.replace("c74f20a3", "C74F20A3")).key_id == 0xC74F20A3


def test_transparency_dev_signer_key() -> None:
    signer = Signer.from_private_key_string("PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ")
    assert signer.verifier_key() == "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs"


@pytest.mark.parametrize(
    ("skey", "reason"),
    [
        ("PRIVATE+KEY+PeterNeumann+c74f20a3", "is not PRIVATE"),
        ("PRIVATE+KEX+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "is not PRIVATE"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "does not match"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "algorithm 0x02"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDE=", "seed is 31 bytes"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+!", "not valid base64"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+", "empty"),
        ("PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "key name"),
        ("PRIVATE+KEY+PeterNeumann+c74f20ax+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "8 hex digits"),
    ],
)
def test_bad_signer_keys(skey: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Signer.from_private_key_string(skey)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u2003b", "a\x01b", "\udc80"])
def test_invalid_signer_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid key name"):
        Signer(name, private_key_from_seed(bytes(32)))


@pytest.mark.parametrize("text", ["", "no newline", "tab\there\n", "\ud800\n"])
def test_sign_note_rejects_text_open_would_reject(text: str) -> None:
    with pytest.raises(ValueError, match="note text"):
        sign_note(text, Signer("EnochRoot", private_key_from_seed(bytes(32))))


def test_sign_note_needs_a_signer() -> None:
    with pytest.raises(ValueError, match="signers"):
        sign_note(TEXT)


def test_verify_rejects_wrong_signature_lengths() -> None:
    assert PETER.verify(
        TEXT.encode(),
        bytes.fromhex(
            "f64992e052f541bf49f7dcbc8010c5506d885ba92cbafca40704959227348b86"
            "52060dd451580b6a5948d5e02afa9fa9d9e0a2da5165be8a13a472c81c099c03"
        ),
    )
    assert not PETER.verify(TEXT.encode(), b"\x00" * 63)


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="+"),
    min_size=1,
    max_size=12,
)
texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters=[chr(n) for n in range(32) if n != 10]),
    max_size=80,
).map(lambda t: t + "\n")
seeds = st.binary(min_size=32, max_size=32)


@DETERMINISTIC
@given(texts, st.lists(st.tuples(names, seeds), min_size=1, max_size=3, unique_by=lambda pair: pair[0]))
def test_sign_open_round_trip(text: str, keys: list[tuple[str, bytes]]) -> None:
    signers = [Signer(name, private_key_from_seed(seed)) for name, seed in keys]
    verifiers = [Verifier(name, raw_public_key(private_key_from_seed(seed))) for name, seed in keys]
    signed = sign_note(text, *signers)
    note = open_note(signed, verifiers)
    assert note.text == text
    assert [(s.name, s.key_id) for s in note.sigs] == [(s.name, s.key_id) for s in signers]
    assert note.unverified_sigs == []
    partial = open_note(signed.encode(), verifiers[:1])
    assert [s.name for s in partial.unverified_sigs] == [s.name for s in signers[1:]]


@THOROUGH
@given(texts, names, seeds, st.data())
def test_any_byte_change_breaks_a_signed_note(text: str, name: str, seed: bytes, data: st.DataObject) -> None:
    key = private_key_from_seed(seed)
    signed = sign_note(text, Signer(name, key)).encode()
    position = data.draw(st.integers(0, len(signed) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != signed[position]))
    mutated = signed[:position] + bytes([value]) + signed[position + 1 :]
    with pytest.raises(VerificationError):
        open_note(mutated, [Verifier(name, raw_public_key(key))])
