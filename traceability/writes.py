"""The one place a write transaction is opened, made idempotent, and committed.

Each write service hands `run_write` the work to do under the log's append lock; the
lock also makes the Idempotency-Key check race-free (a retry arriving while the first
attempt is still running waits for it, then replays its answer).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .context import Context
from .errors import ApiError
from .models import IdempotentResponse, LogHead


# Secrets shown once: never kept in a stored answer; a replay gets fresh ones from `reissue`.
SECRET_FIELDS = frozenset({"token", "url"})


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    request_hash: bytes  # SHA-256 over method, path and body: a reused key must mean the same request


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict
    replayed: bool = False


def run_write(
    session: Session,
    context: Context,
    actor_id: str,
    idempotency: IdempotencyKey | None,
    work: Callable[[LogHead], dict],
    status: int = 201,
    reissue: Callable[[dict], dict] | None = None,
) -> Outcome:
    head = context.log.lock(session)
    if idempotency is not None:
        stored = session.get(IdempotentResponse, (actor_id, idempotency.key), populate_existing=True)
        if stored is not None:
            if stored.request_hash != idempotency.request_hash:
                session.rollback()
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for a different request; use a new key for a new request",
                )
            body = json.loads(stored.body)
            if reissue is not None:
                body = reissue(body)
            session.commit()
            return Outcome(stored.status_code, body, replayed=True)
    body = work(head)
    if idempotency is not None:
        session.add(
            IdempotentResponse(
                actor_id=actor_id,
                key=idempotency.key,
                request_hash=idempotency.request_hash,
                status_code=status,
                body=json.dumps({k: v for k, v in body.items() if k not in SECRET_FIELDS}, ensure_ascii=False),
                created_at=context.clock.now(),
            )
        )
    session.commit()
    return Outcome(status, body)
