"""Regulators' reading of the ledger (protocol §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from ...accounts.actors import REGULATORS, require_role
from ...findings.finding import CODES
from ...reads import audit
from ...reads.witnesses import witnesses
from ..deps import LOT_CODE, ActorDep, ServicesDep, SessionDep, time_window

router = APIRouter(prefix="/api/v1/audit", tags=["regulators"])


@router.get("/anomalies", summary="Anomalies found when records were appended, oldest first")
def list_anomalies(
    actor: ActorDep,
    session: SessionDep,
    lot: Annotated[str | None, Query(pattern=LOT_CODE)] = None,
    grower: Annotated[str | None, Query(max_length=32, description="A grower's id")] = None,
    code: Annotated[str | None, Query(pattern="^(" + "|".join(CODES) + ")$")] = None,
    since: Annotated[datetime | None, Query(alias="from", description="Recorded at or after (RFC 3339)")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="Recorded before (RFC 3339)")] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="`next` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    require_role(actor, REGULATORS, "read anomalies")
    wanted = audit.FindingFilter(lot, grower, code, *time_window(since, until), after, limit)
    return JSONResponse(audit.findings(session, wanted))


@router.get("/recalls", summary="Recalls, newest first, with every lot made from a recalled lot")
def list_recalls(actor: ActorDep, session: SessionDep) -> JSONResponse:
    require_role(actor, REGULATORS, "read recalls")
    return JSONResponse(audit.recalls(session))


@router.get("/witnesses", summary="The log's witnesses, what each last answered, and whether the quorum was reached")
def list_witnesses(actor: ActorDep, session: SessionDep, services: ServicesDep) -> JSONResponse:
    require_role(actor, REGULATORS, "read the witnesses")
    return JSONResponse(witnesses(session, services.log, services.settings.witness_config))
