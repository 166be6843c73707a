"""The API's cache of suspended shops (search_api/shops.py) where timing decides: a failed or
cancelled shared read. Pure asyncio, so the read can be held open; the shared read and no
TTL against real ES are tests/integration/api/test_shop_status_real.py, the suspension on every
storefront path tests/integration/merchant."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from elasticsearch import ConnectionError as EsConnectionError

from schemas.errors import BackendUnavailable
from search_api.shops import ShopStatus


class _Es:
    """Stands in for the ES client's ``options(...).get``: counts reads, answers when released."""

    def __init__(self, suspended: dict[str, Any], *, fail: bool = False) -> None:
        self.reads = 0
        self.suspended = suspended
        self.fail = fail
        self.release = asyncio.Event()

    def options(self, **_: Any) -> _Es:
        return self

    async def get(self, **_: Any) -> dict[str, Any]:
        self.reads += 1
        await self.release.wait()
        if self.fail:
            raise EsConnectionError("down")
        return {"found": True, "_source": {"suspended": self.suspended}}


def _run(main: Any) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def test_a_failed_first_read_fails_its_waiters_too_and_the_next_search_reads_again() -> None:
    async def main() -> None:
        es = _Es({}, fail=True)
        status = ShopStatus(es, index="shops", ttl_s=2.0)  # type: ignore[arg-type]
        searches = [asyncio.create_task(status.refresh()) for _ in range(3)]
        await asyncio.sleep(0.01)
        es.release.set()
        results = await asyncio.gather(*searches, return_exceptions=True)
        assert all(isinstance(r, BackendUnavailable) for r in results)
        assert es.reads == 1
        es.fail = False
        assert await status.refresh() == {}
        assert es.reads == 2

    _run(main)


def test_a_cancelled_reader_does_not_strand_its_waiters() -> None:
    async def main() -> None:
        es = _Es({})
        status = ShopStatus(es, index="shops", ttl_s=2.0)  # type: ignore[arg-type]
        reader = asyncio.create_task(status.refresh())
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(status.refresh())
        await asyncio.sleep(0.01)
        reader.cancel()  # the shopper who started the read went away
        with pytest.raises(BackendUnavailable):  # nothing known yet: the search would fail anyway
            await waiter
        es.release.set()
        assert await status.refresh() == {}

    _run(main)
