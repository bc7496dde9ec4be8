"""Accounts: growers, regulators, cooperatives and key revocation (protocol §4)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from .. import identities
from ..batches import require_role
from ..schemas import (
    CooperativeIn,
    CooperativeOut,
    GrowerIn,
    GrowerOut,
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


@router.post("/identities/{identity_id}/revoke", response_model=RevokedOut, summary="Revoke a key (admin): appends key_revoke")
def revoke(identity_id: str, body: RevokeIn, actor: ActorDep, session: SessionDep, context: ContextDep) -> JSONResponse:
    require_role(actor, _ADMIN, "revoke keys")
    return respond(identities.revoke(session, context, actor, identity_id, body.reason))
