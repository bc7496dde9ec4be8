"""A lot as anyone may read it through the API (`GET /api/v1/batches/{lot}`): what it is, who
grew it, its records decoded, and the findings about them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..ledger import records
from ..ledger.records import unknown_lot
from ..lots.authors import tip_json
from ..storage.models import Batch, BatchInput, Identity, StoredFinding


def lot_head(session: Session, lot: str) -> dict[str, Any]:
    """What a lot is and who grew it."""
    batch = session.get(Batch, lot)
    if batch is None:
        raise unknown_lot(lot)
    owner = session.get_one(Identity, batch.owner_id)
    return {
        "lot": batch.lot,
        "product": batch.product,
        "variety": batch.variety,
        "gtin": batch.gtin,
        "grower": {"id": owner.id, "name": owner.name, "region": owner.region},
    }


def lot_tip(session: Session, lot: str) -> dict[str, Any]:
    """The lot's newest record, which a record signed elsewhere follows (protocol §9)."""
    batch = session.get(Batch, lot)
    if batch is None:
        raise unknown_lot(lot)
    return tip_json(batch.last_seq, batch.last_leaf_hash)


def lot_json(session: Session, lot: str) -> dict[str, Any]:
    head = lot_head(session, lot)
    chain = records.of_lot(session, lot)
    made = chain[0].data
    made_into = session.execute(select(BatchInput.lot).where(BatchInput.input_lot == lot).distinct()).scalars()
    findings = session.execute(
        select(StoredFinding.idx, StoredFinding.code, StoredFinding.message)
        .where(StoredFinding.lot == lot)
        .order_by(StoredFinding.idx, StoredFinding.id)
    )
    return {
        **head,
        "plot": made.get("plot"),
        "inputs": made.get("inputs", []),
        "made_into": sorted(made_into),
        "records": [record.as_json() for record in chain],
        # The protocol's name for findings answered to clients.
        "warnings": [{"index": idx, "code": code, "message": message} for idx, code, message in findings],
    }
