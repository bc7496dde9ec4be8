"""The freshness check under the page cache (traceability/web/public/freshness.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.orchard import grow
from traceability.web.public.freshness import SharedReadTips


def run(make_coroutine):
    """asyncio.run in a thread of its own: Playwright's session fixture keeps a loop running in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(make_coroutine())).result()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_request_gone_while_its_read_is_shared_leaves_the_others_answered(farm, client):
    lot = grow(farm).packed_lot
    reader = client.app.state.public.tips
    assert isinstance(reader, SharedReadTips)

    async def three_requests_one_leaves() -> tuple[dict, dict]:
        first = asyncio.create_task(reader((lot,)))
        await asyncio.sleep(0)  # the first starts the read; the next two wait for another
        second, third = asyncio.create_task(reader((lot,))), asyncio.create_task(reader(("NOSUCHLOT", lot)))
        await asyncio.sleep(0)
        second.cancel()
        return await asyncio.wait_for(asyncio.gather(first, third), timeout=10)

    first, third = run(three_requests_one_leaves)
    assert lot in first and set(third) == {lot}


def test_sqlite_sees_a_commit_of_another_connection_at_once(farm, client):
    orchard = grow(farm)
    lot = orchard.field_lot

    async def tip() -> tuple[int, int]:
        return (await client.app.state.public.tips((lot,)))[lot][0]

    seq, taken = run(tip)
    farm.event(orchard.grower, lot, "observation", {"note": "又巡了一遍果园"})
    assert run(tip) == (seq + 1, taken)
    # A lot made from it changes what left it, which its page weighs.
    farm.batch(orchard.grower, "苹果汁", inputs=[{"lot": lot, "quantity": 10, "unit": "kg"}])
    assert run(tip) == (seq + 1, taken + 1)
