"""The official async ES client over the API's HTTP node (search_api/es_node.py), against
real Elasticsearch: the calls the API makes answer as they do over aiohttp, errors included."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from elastic_transport import AiohttpHttpNode
from elasticsearch import AsyncElasticsearch, Elasticsearch, NotFoundError
from elasticsearch.serializer import OrjsonSerializer
from fastapi.testclient import TestClient

from search_api.es_node import LeanHttpNode
from search_api.main import create_app
from search_api.settings import ApiSettings


def _both(es_url: str, call: Any) -> tuple[Any, Any]:
    """``call(client)`` with the lean node and with aiohttp's, on the same ES."""

    async def main() -> tuple[Any, Any]:
        out = []
        for node in (LeanHttpNode, "aiohttp"):
            client = AsyncElasticsearch(es_url, node_class=node, serializer=OrjsonSerializer(),
                                        connections_per_node=3)
            try:
                out.append(await call(client))
            finally:
                await client.close()
        return out[0], out[1]

    return asyncio.run(main())


@pytest.fixture
def products(es: Elasticsearch, unique: str) -> Iterator[str]:
    """60 documents in a private index, the largest ~20 KB."""
    index = f"{unique}-node"
    es.indices.create(index=index, mappings={"properties": {"title": {"type": "text"}, "n": {"type": "integer"}}})
    es.bulk(operations=[x for i in range(60) for x in ({"index": {"_index": index, "_id": str(i)}},
                                                         {"title": f"连衣裙 {i} " + "长 " * (i * 150), "n": i})],
            refresh=True)
    yield index
    es.indices.delete(index=index)


def test_search_msearch_and_large_answers_read_the_same(es_url: str, products: str) -> None:
    async def calls(es: AsyncElasticsearch) -> Any:
        big = await es.search(index=products, size=60, sort=[{"n": "asc"}])  # ~540 KB of _source
        many = await es.msearch(searches=[{"index": products}, {"query": {"match": {"title": "连衣裙"}}},
                                          {"index": products}, {"size": 0, "aggs": {"n": {"max": {"field": "n"}}}}])
        return [h["_id"] for h in big["hits"]["hits"]], big["hits"]["hits"][59]["_source"], \
            [r["hits"]["total"]["value"] for r in many["responses"]], many["responses"][1]["aggregations"]

    lean, reference = _both(es_url, calls)
    assert lean == reference
    assert lean[0] == [str(i) for i in range(60)] and lean[3] == {"n": {"value": 59.0}}


def test_head_and_errors_answer_as_over_aiohttp(es_url: str, products: str) -> None:
    async def calls(es: AsyncElasticsearch) -> Any:
        exists = (await es.indices.exists(index=products)).body
        missing = (await es.indices.exists_alias(name=products + "-none")).body
        doc_there = (await es.exists(index=products, id="1")).body
        with pytest.raises(NotFoundError) as err:
            await es.get(index=products, id="no-such-id")
        after = (await es.count(index=products))["count"]  # the connection still serves after a 404 and HEADs
        return exists, missing, doc_there, err.value.meta.status, after

    lean, reference = _both(es_url, calls)
    assert lean == reference == (True, False, True, 404, 60)


def test_many_concurrent_searches_share_few_connections(es_url: str, products: str) -> None:
    async def calls(es: AsyncElasticsearch) -> Any:
        answers = await asyncio.gather(*(es.search(index=products, query={"term": {"n": i}}) for i in range(60)))
        return sorted(a["hits"]["hits"][0]["_id"] for a in answers)

    lean, reference = _both(es_url, calls)
    assert lean == reference == sorted(str(i) for i in range(60))


def test_the_api_sends_its_searches_through_the_node(es_url: str, products: str) -> None:
    settings = ApiSettings(es_url=es_url, index=products)
    with TestClient(create_app(settings)) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        nodes = service.es.es.transport.node_pool.all()
        assert [type(n) for n in nodes] == [LeanHttpNode]
        ready = client.get("/readyz")  # a HEAD through the node: the index is there, no alias of that name
        assert ready.status_code == 503 and "does not exist" in ready.json()["detail"]
    with TestClient(create_app(ApiSettings(es_url=es_url, index=products, es_client_node="aiohttp"))) as client:
        nodes = client.app.state.service.es.es.transport.node_pool.all()  # type: ignore[attr-defined]
        assert [type(n) for n in nodes] == [AiohttpHttpNode]
