"""Accounts: growers, regulators, cooperatives and key revocation (protocol §4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from .. import identities, web_sessions
from ..batches import require_role
from ..schemas import (
    CooperativeIn,
    CooperativeOut,
    GrowerIn,
    GrowerOut,
    LoginLinkOut,
    RegulatorIn,
    RegulatorOut,
    RevokedOut,
    RevokeIn,
)
from .deps import ActorDep, ContextDep, IdempotencyDep, SessionDep, respond

router = APIRouter(prefix="/api/v1", tags=["accounts"])

_ADMIN = frozenset({"admin"})


@router.post("/growers", status_code=201, response_model=GrowerOut, summary="Register a grower (admin or cooperative)")
def create_grower(body: GrowerIn, actor: ActorDep, context: ContextDep, idem: IdempotencyDep) -> JSONResponse:
    require_role(actor, {"admin", "cooperative"}, "register growers")
    subject = {"name": body.name, "region": body.region}
    return respond(identities.register(context, actor, "grower", subject, body.phone, idem))


@router.post("/regulators", status_code=201, response_model=RegulatorOut, summary="Register a regulator (admin)")
def create_regulator(body: RegulatorIn, actor: ActorDep, context: ContextDep, idem: IdempotencyDep) -> JSONResponse:
    require_role(actor, _ADMIN, "register regulators")
    subject = {"name": body.name, "agency": body.agency} | ({"region": body.region} if body.region else {})
    return respond(identities.register(context, actor, "regulator", subject, None, idem))


@router.post("/cooperatives", status_code=201, response_model=CooperativeOut, summary="Register a cooperative (admin)")
def create_cooperative(body: CooperativeIn, actor: ActorDep, context: ContextDep, idem: IdempotencyDep) -> JSONResponse:
    require_role(actor, _ADMIN, "register cooperatives")
    subject = {"name": body.name, "region": body.region}
    return respond(identities.register(context, actor, "cooperative", subject, None, idem))


@router.post(
    "/growers/{grower_id}/login-link", status_code=201, response_model=LoginLinkOut,
    summary="A one-time sign-in link for a grower's phone, to print as a QR card (admin, or the cooperative that registered them)",
)
def login_link(grower_id: Annotated[str, Path(max_length=32)], actor: ActorDep, context: ContextDep) -> JSONResponse:
    require_role(actor, {"admin", "cooperative"}, "issue sign-in cards")
    # The link is a secret shown once: no cache on the way may keep it.
    return JSONResponse(web_sessions.issue_login_link(context, actor, grower_id), status_code=201, headers={"Cache-Control": "no-store"})


@router.post("/identities/{identity_id}/revoke", response_model=RevokedOut, summary="Revoke a key (admin): appends key_revoke")
def revoke(identity_id: str, body: RevokeIn, actor: ActorDep, session: SessionDep, context: ContextDep) -> JSONResponse:
    require_role(actor, _ADMIN, "revoke keys")
    return respond(identities.revoke(session, context, actor, identity_id, body.reason))
