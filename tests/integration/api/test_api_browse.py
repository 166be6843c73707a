"""Browsing (no text) runs as hits + counts in one msearch: the answer must not change.

``split_browse=False`` is the one-search path; both apps search the same fixture catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_assertions import record_es_calls
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search_api.main import create_app
from search_api.settings import ApiSettings

BROWSES: list[list[tuple[str, Any]]] = [
    [],
    [("category", "手机数码")],
    [("brand", "华为"), ("brand", "小米")],
    [("shop_id", "shop-fashion")],
    [("attr.颜色", "黑色"), ("price_max", 5000)],
    [("in_stock", "true"), ("sort", "price_asc"), ("size", 3), ("page", 2)],
    [("brand", "华为"), ("attr.颜色", "白色"), ("sort", "sales")],
]


@pytest.fixture(scope="module")
def one_search(api_es_url: str, catalog: str) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(es_url=api_es_url, index=catalog, split_browse=False))) as c:
        yield c


def _answer(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    out = resp.json()
    out.pop("took_ms")
    return out


@pytest.mark.parametrize("params", BROWSES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p) or "all")
def test_split_browse_answers_as_the_one_search_does(client: Any, one_search: TestClient,
                                                     params: list[tuple[str, Any]]) -> None:
    split = _answer(client.get("/search", params=params))
    single = _answer(one_search.get("/search", params=params))
    assert split == single
    assert split["total"] > 0 and split["hits"]  # no case is vacuous


def test_split_browse_sends_one_msearch(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = record_es_calls(client, monkeypatch)
    out = _answer(client.get("/search", params={"category": "手机数码"}))
    assert sent == ["msearch"]
    assert out["facets"]["brand"] and out["hits"]


def test_a_failed_count_falls_back_to_the_one_search(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    es = client.app.state.service.es
    real = es.msearch

    async def failing(*args: Any, **kw: Any) -> Any:
        resp = dict(await real(*args, **kw))
        resp["responses"] = [resp["responses"][0], {"error": {"type": "test"}, "status": 500}]
        return resp

    monkeypatch.setattr(es, "msearch", failing)
    out = _answer(client.get("/search", params={"category": "手机数码"}))
    assert out["facets"]["brand"] and out["hits"]


def test_browse_counts_come_from_the_request_cache_when_asked_again(
        client: Any, api_es: Elasticsearch, catalog: str) -> None:
    """The point of the split: the size-0 counts search is one ES's shard request cache keeps."""
    params = {"category": "手机数码", "sort": "price_asc"}
    first = _answer(client.get("/search", params=params))

    def hits_of_cache() -> int:
        stats = api_es.indices.stats(index=catalog, metric="request_cache")
        return int(stats["_all"]["total"]["request_cache"]["hit_count"])

    before = hits_of_cache()
    again = _answer(client.get("/search", params=params))
    assert hits_of_cache() > before
    assert again == first
