"""Records for other systems (protocol §5): EPCIS 2.0 and the FSMA 204 sortable spreadsheet.
Each answer streams from a cursor, so a year of records never sits in memory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ...accounts.actors import REGULATORS, Actor, require_role
from ...errors import Invalid
from ...exports.epcis import epcis_document
from ...exports.fsma204 import csv_chunks, write_xlsx
from ...exports.source import Exported, exported
from ...reads.lots import lot_head
from ...services import Services
from ..deps import LOT_CODE, ActorDep, ServicesDep, time_window

router = APIRouter(prefix="/api/v1/export", tags=["regulators"])

LotQuery = Annotated[str | None, Query(pattern=LOT_CODE, description="One lot and every lot it was made from")]
FromQuery = Annotated[datetime | None, Query(alias="from", description="Records received at or after (RFC 3339)")]
ToQuery = Annotated[datetime | None, Query(alias="to", description="Records received before (RFC 3339)")]


@router.get("/epcis", summary="EPCIS 2.0 JSON-LD document of a lot's trace, or of a time range")
def export_epcis(
    actor: ActorDep, services: ServicesDep, lot: LotQuery = None, since: FromQuery = None, until: ToQuery = None
) -> StreamingResponse:
    filters = _filters(actor, services, lot, since, until)
    created = services.clock.now()
    chunks = _streamed(
        services,
        filters,
        lambda records: epcis_document(records, created=created, base_url=services.settings.public_url),
    )
    return StreamingResponse(
        chunks, media_type="application/ld+json", headers=_attachment(f"suyuan-epcis-{_name(filters, created)}.jsonld")
    )


@router.get(
    "/fsma204.csv", summary="FSMA 204 electronic sortable spreadsheet (CSV), one row per critical tracking event"
)
def export_fsma_csv(
    actor: ActorDep, services: ServicesDep, lot: LotQuery = None, since: FromQuery = None, until: ToQuery = None
) -> StreamingResponse:
    filters = _filters(actor, services, lot, since, until)
    chunks = _streamed(services, filters, lambda records: csv_chunks(records, public_url=services.settings.public_url))
    name = _name(filters, services.clock.now())
    return StreamingResponse(
        chunks, media_type="text/csv; charset=utf-8", headers=_attachment(f"suyuan-fsma204-{name}.csv")
    )


@router.get("/fsma204.xlsx", summary="FSMA 204 electronic sortable spreadsheet (XLSX)")
async def export_fsma_xlsx(
    actor: ActorDep, services: ServicesDep, lot: LotQuery = None, since: FromQuery = None, until: ToQuery = None
) -> FileResponse:
    filters = _filters(actor, services, lot, since, until)
    # A workbook is a zip that needs its end before its start: written to a temporary file
    # (row by row, openpyxl's write-only mode), sent, then removed.
    handle, path = tempfile.mkstemp(suffix=".xlsx", dir=services.settings.data_dir)
    os.close(handle)

    def write() -> None:
        with services.sessions() as session:
            write_xlsx(exported(session, **filters), path, public_url=services.settings.public_url)

    try:
        await run_in_threadpool(write)
    except BaseException:
        os.unlink(path)
        raise
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=f"suyuan-fsma204-{_name(filters, services.clock.now())}.xlsx",
        background=BackgroundTask(os.unlink, path),
    )


def _filters(actor: Actor, services: Services, lot: str | None, since: datetime | None, until: datetime | None) -> dict:
    require_role(actor, REGULATORS, "export records")
    if lot is not None:
        with services.sessions() as session:
            lot_head(session, lot)  # NotFound for a lot that does not exist
    if lot is None and since is None and until is None:
        raise Invalid("invalid", "say what to export: ?lot=CODE, or a time range ?from=...&to=... (RFC 3339)")
    since, until = time_window(since, until)
    return {"lot": lot, "since": since, "until": until}


def _streamed(
    services: Services, filters: dict, chunks: Callable[[Iterable[Exported]], Iterator[bytes]]
) -> Iterator[bytes]:
    # The session lives as long as the stream, not as long as the request handler.
    with services.sessions() as session:
        yield from chunks(exported(session, **filters))


def _name(filters: dict, now: datetime) -> str:
    return filters["lot"] or now.strftime("%Y%m%dT%H%M%SZ")


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
