"""The API's cache of suspended shops against real Elasticsearch (search_api/shops.py): the
searches that find it expired share one read of the status document, and see what ops wrote;
without a TTL each search reads for itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch

from search_api.shops import ShopStatus, set_suspended

#: Longer than a write of the status takes (it waits for ES's 1 s refresh).
TTL_S = 3.0


class _CountedEs:
    """The real async client, counting the status reads that reach ES."""

    def __init__(self, es: AsyncElasticsearch) -> None:
        self.es = es
        self.reads = 0

    def options(self, **kw: Any) -> _CountedEs:
        counted = _CountedEs(self.es.options(**kw))
        counted.get = self._counted(counted.es.get)  # type: ignore[method-assign]
        return counted

    def _counted(self, get: Any) -> Any:
        async def read(**kw: Any) -> Any:
            self.reads += 1
            return await get(**kw)
        return read


@pytest.fixture
def shops_index(es: Elasticsearch, unique: str) -> Iterator[str]:
    index = f"{unique}-shops"
    set_suspended(es, index, "shop-7", "资质过期")  # what `catalog shops suspend` writes
    yield index
    es.options(ignore_status=404).indices.delete(index=index)


def test_concurrent_searches_share_one_read_and_see_a_new_suspension_after_the_ttl(
        es: Elasticsearch, es_url: str, shops_index: str) -> None:
    async def main() -> None:
        client = AsyncElasticsearch(es_url)
        counted = _CountedEs(client)
        status = ShopStatus(counted, index=shops_index, ttl_s=TTL_S)  # type: ignore[arg-type]
        try:
            read_at = time.monotonic()
            answers = await asyncio.gather(*(status.refresh() for _ in range(10)))
            assert counted.reads == 1
            assert all(set(a) == {"shop-7"} and a["shop-7"]["reason"] == "资质过期" for a in answers)
            set_suspended(es, shops_index, "shop-9", "投诉")
            assert set(await status.refresh()) == {"shop-7"}  # cached within the TTL
            await asyncio.sleep(max(0.0, read_at + TTL_S + 0.1 - time.monotonic()))
            answers = await asyncio.gather(*(status.refresh() for _ in range(10)))
            assert counted.reads == 2 and all(set(a) == {"shop-7", "shop-9"} for a in answers)
        finally:
            await client.close()

    asyncio.run(main())


def test_without_a_ttl_concurrent_searches_each_read_and_see_every_write(
        es: Elasticsearch, es_url: str, shops_index: str) -> None:
    async def main() -> None:
        client = AsyncElasticsearch(es_url)
        counted = _CountedEs(client)
        status = ShopStatus(counted, index=shops_index, ttl_s=0)  # type: ignore[arg-type]
        try:
            answers = await asyncio.gather(*(status.refresh() for _ in range(10)))
            assert counted.reads == 10  # the reads overlap on the real client
            assert all(set(a) == {"shop-7"} for a in answers)
            set_suspended(es, shops_index, "shop-9", "投诉")
            assert set(await status.refresh()) == {"shop-7", "shop-9"}  # no cache to wait out
        finally:
            await client.close()

    asyncio.run(main())
