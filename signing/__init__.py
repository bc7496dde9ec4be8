"""Suyuan's signing layer: signed records, the RFC 9162 Merkle log, and C2SP signed checkpoints.

Pure functions over bytes, Ed25519 only; every verification failure raises
`VerificationError` naming the check that failed.
"""

from signing.canonical import canonical_json
from signing.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from signing.errors import VerificationError
from signing.keys import (
    generate_private_key,
    keyid,
    private_key_from_seed,
    raw_public_key,
    raw_seed,
)
from signing.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    RootAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
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
from signing.payloads import LotRecord, utc_time
from signing.photos import photo_file
from signing.records import (
    MAX_ENTRY_BYTES,
    RECORD_DOMAIN,
    entry_bytes,
    parse_entry,
    sign_record,
    signed_message,
    verify_record_signatures,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_ENTRY_BYTES",
    "RECORD_DOMAIN",
    "Checkpoint",
    "LotRecord",
    "Note",
    "RootAccumulator",
    "Signature",
    "Signer",
    "VerificationError",
    "Verifier",
    "VerifierList",
    "canonical_json",
    "consistency_proof",
    "entry_bytes",
    "generate_private_key",
    "inclusion_proof",
    "keyid",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_entry",
    "photo_file",
    "private_key_from_seed",
    "raw_public_key",
    "raw_seed",
    "root_from_inclusion_proof",
    "root_hash",
    "sign_checkpoint",
    "sign_note",
    "sign_record",
    "signed_message",
    "utc_time",
    "verifier_key_string",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_record_signatures",
]
