"""C2SP tlog-checkpoints (known-answers.md §3.3, §3.4, §3.7)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from signing.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from signing.errors import VerificationError
from signing.keys import private_key_from_seed, raw_public_key
from signing.merkle import leaf_hash
from signing.note import Signer, Verifier, open_note, sign_note

SUM_GOLANG_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUM_GOLANG_CHECKPOINT = (
    "go.sum database tree\n"
    "30055305\n"
    "mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=\n"
    "\n"
    "— sum.golang.org Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevucFcAAlWFJJYle3EJlDCrQ+y3A8=\n"
)
SIGSUM_ORIGIN = "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69"
SIGSUM_CHECKPOINT = (
    f"{SIGSUM_ORIGIN}\n"
    "10\n"
    "HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    "\n"
    f"— {SIGSUM_ORIGIN} gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6OUGjjt5yJQ6bXtTcf718MqAQ=\n"
)
SIGSUM_VKEY = f"{SIGSUM_ORIGIN}+809da1a3+AWbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn"
SIGSUM_ROOT = bytes([0x1C, 0x0E, 0x47]) + bytes(29)
ROOT = bytes(range(32))


def test_sum_golang_org_checkpoint() -> None:
    verifier = Verifier.from_key_string(SUM_GOLANG_VKEY)
    note = open_note(SUM_GOLANG_CHECKPOINT, [verifier])
    checkpoint = Checkpoint.parse(note.text)
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 30055305)
    assert checkpoint.root_hash == base64.b64decode("mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=")
    # The origin is not the key name, which Suyuan's checkpoints require.
    with pytest.raises(VerificationError) as info:
        verify_checkpoint(SUM_GOLANG_CHECKPOINT, verifier)
    assert str(info.value) == "checkpoint origin 'go.sum database tree' is not the key name 'sum.golang.org'"


def test_sigsum_checkpoint_reproduced_byte_for_byte() -> None:
    key = private_key_from_seed(bytes([0x11]) + bytes(31))
    assert raw_public_key(key).hex() == "66e0b858e462a609e66fe71370c816d8846ff103d5499a22a7fec37fdbc424a7"
    origin = "sigsum.org/v1/tree/" + hashlib.sha256(raw_public_key(key)).hexdigest()
    assert origin == SIGSUM_ORIGIN
    signer = Signer(origin, key)
    assert signer.verifier_key() == SIGSUM_VKEY
    checkpoint = Checkpoint(origin, 10, SIGSUM_ROOT)
    assert sign_checkpoint(checkpoint, signer) == SIGSUM_CHECKPOINT
    assert verify_checkpoint(SIGSUM_CHECKPOINT.encode(), Verifier.from_key_string(SIGSUM_VKEY)) == checkpoint


def test_go_sumdb_tree_body() -> None:
    root = leaf_hash(b"hello world")
    body = Checkpoint("go.sum database tree", 123456789012, root).body()
    assert body == "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
    assert Checkpoint.parse(body) == Checkpoint("go.sum database tree", 123456789012, root)


def test_extension_lines_round_trip() -> None:
    checkpoint = Checkpoint("example.com/log", 5, ROOT, ("ext one", "ext two"))
    assert checkpoint.body().endswith("\next one\next two\n")
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("example.com/log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "end with a newline"),
        ("example.com/log\n5\n", "2 lines, want at least 3"),
        ("example.com/log\n05\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "without leading zeros"),
        ("example.com/log\n+5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "without leading zeros"),
        ("example.com/log\n\u0665\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "without leading zeros"),
        ("example.com/log\n\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "without leading zeros"),
        ("example.com/log\n18446744073709551616\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "outside"),
        ("example.com/log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", "base64"),
        ("example.com/log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", "31 bytes, want 32"),
        ("\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "non-empty"),
        ("example.com/log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n", "non-empty"),
    ],
)
def test_parse_is_strict(body: str, reason: str) -> None:
    with pytest.raises(VerificationError, match=reason):
        Checkpoint.parse(body)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        ("log", -1, ROOT, ()),
        ("log", 2**64, ROOT, ()),
        ("log", 1, ROOT[:31], ()),
        ("log", 1, ROOT, ("",)),
    ],
)
def test_constructor_refuses_what_body_cannot_express(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint(origin, size, root, extensions)


def test_signing_key_must_be_named_for_the_origin() -> None:
    signer = Signer("example.com/other", private_key_from_seed(bytes(32)))
    with pytest.raises(ValueError, match="is not the checkpoint origin"):
        sign_checkpoint(Checkpoint("example.com/log", 1, ROOT), signer)


def test_verify_checkpoint_failures() -> None:
    signer = Signer("example.com/log", private_key_from_seed(bytes(32)))
    other = Signer("example.com/log", private_key_from_seed(bytes([1]) * 32))
    verifier = Verifier.from_key_string(signer.verifier_key())
    signed = sign_checkpoint(Checkpoint("example.com/log", 7, ROOT), signer)
    # A witness cosignature by an unknown key does not get in the way.
    witness = Signer("example.org/witness", private_key_from_seed(bytes([2]) * 32))
    cosigned = signed + sign_note(Checkpoint("example.com/log", 7, ROOT).body(), witness).split("\n\n")[1]
    assert verify_checkpoint(cosigned, verifier).size == 7
    with pytest.raises(VerificationError, match="no verifiable signatures"):
        verify_checkpoint(sign_checkpoint(Checkpoint("example.com/log", 7, ROOT), other), verifier)
    with pytest.raises(VerificationError, match="invalid signature"):
        verify_checkpoint(signed.replace("\n7\n", "\n8\n"), verifier)
    with pytest.raises(VerificationError, match="lines, want at least 3"):
        verify_checkpoint(sign_note("example.com/log\n7\n", signer), verifier)
