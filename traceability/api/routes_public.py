"""Public lot resources (protocol §3)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..proofs import build_bundle
from .deps import ContextDep, SessionDep
from .routes_batches import LotPath

router = APIRouter(tags=["public"])


@router.get("/b/{lot}/proof.json", summary="The lot's proof bundle, verifiable offline with `suyuan verify`")
def proof_bundle(lot: LotPath, session: SessionDep, context: ContextDep) -> Response:
    return Response(build_bundle(session, context, lot), media_type="application/json")
