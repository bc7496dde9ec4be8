"""Accounts: growers, regulators, cooperatives and key revocation (protocol §4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from ...accounts.actors import ADMINS, REGISTRARS, require_role
from ...accounts.inputs import CooperativeIn, GrowerIn, RegulatorIn, RevokeIn
from ..deps import AccountsDep, ActorDep, IdempotencyDep, ServicesDep, respond
from ..outputs import CooperativeOut, GrowerOut, LoginLinkOut, RegulatorOut, RevokedOut

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/growers", status_code=201, response_model=GrowerOut, summary="Register a grower (admin or cooperative)")
def create_grower(body: GrowerIn, actor: ActorDep, accounts: AccountsDep, idem: IdempotencyDep) -> JSONResponse:
    require_role(actor, REGISTRARS, "register growers")
    subject = {"name": body.name, "region": body.region}
    return respond(accounts.register(actor, "grower", subject, body.phone, idem, body.public_key))


@router.post("/regulators", status_code=201, response_model=RegulatorOut, summary="Register a regulator (admin)")
def create_regulator(body: RegulatorIn, actor: ActorDep, accounts: AccountsDep, idem: IdempotencyDep) -> JSONResponse:
    require_role(actor, ADMINS, "register regulators")
    subject = {"name": body.name, "agency": body.agency} | ({"region": body.region} if body.region else {})
    return respond(accounts.register(actor, "regulator", subject, None, idem))


@router.post("/cooperatives", status_code=201, response_model=CooperativeOut, summary="Register a cooperative (admin)")
def create_cooperative(
    body: CooperativeIn, actor: ActorDep, accounts: AccountsDep, idem: IdempotencyDep
) -> JSONResponse:
    require_role(actor, ADMINS, "register cooperatives")
    subject = {"name": body.name, "region": body.region}
    return respond(accounts.register(actor, "cooperative", subject, None, idem))


@router.post(
    "/growers/{grower_id}/login-link",
    status_code=201,
    response_model=LoginLinkOut,
    summary="A one-time sign-in link for a grower's phone, to print as a QR card (admin, or the cooperative that registered them)",
)
def login_link(grower_id: Annotated[str, Path(max_length=32)], actor: ActorDep, services: ServicesDep) -> JSONResponse:
    require_role(actor, REGISTRARS, "issue sign-in cards")
    # The link is a secret shown once: no cache on the way may keep it.
    card = services.browser_sessions.issue_login_link(actor, grower_id)
    return JSONResponse(card, status_code=201, headers={"Cache-Control": "no-store"})


@router.post(
    "/identities/{identity_id}/revoke", response_model=RevokedOut, summary="Revoke a key (admin): appends key_revoke"
)
def revoke(identity_id: str, body: RevokeIn, actor: ActorDep, accounts: AccountsDep) -> JSONResponse:
    require_role(actor, ADMINS, "revoke keys")
    return respond(accounts.revoke(actor, identity_id, body.reason))
