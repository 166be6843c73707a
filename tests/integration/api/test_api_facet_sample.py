"""Facets of a broad text search count its best matches only, and say so (``facets_exact``).

The hand-made catalog is tiny, so the sample here is 3 products (the default is 2,000).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_assertions import body, facet
from fastapi.testclient import TestClient

from search_api.main import create_app
from search_api.settings import ApiSettings


@pytest.fixture(scope="module")
def sampled(api_es_url: str, catalog: str) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(es_url=api_es_url, index=catalog, facet_sample=3))) as c:
        yield c


def test_a_broad_search_counts_facets_over_its_best_matches(sampled: TestClient, client: TestClient) -> None:
    exact_resp = client.get("/search", params={"q": "手机"})
    resp = sampled.get("/search", params={"q": "手机"})
    exact, out = body(exact_resp), body(resp)
    assert exact["total"] == out["total"] == 6 and exact["facets_exact"] is True
    assert out["facets_exact"] is False
    # Hits and totals do not change; the brand facet counts 3 products, the 3 best phones.
    assert [h["id"] for h in out["hits"]] == [h["id"] for h in exact["hits"]]
    brands = facet(resp, "brand")
    assert sum(brands.values()) == 3
    best = [h["brand"] for h in exact["hits"][:3]]
    assert brands == {b: best.count(b) for b in set(best)}


def test_the_sample_is_by_relevance_whatever_the_sort(sampled: TestClient) -> None:
    by_score = sampled.get("/search", params={"q": "手机"})
    by_price = sampled.get("/search", params={"q": "手机", "sort": "price_asc"})
    assert body(by_price)["facets_exact"] is False
    assert facet(by_price, "brand") == facet(by_score, "brand")
    assert facet(by_price, "category") == facet(by_score, "category")


def test_a_narrow_search_and_browsing_count_every_match(sampled: TestClient) -> None:
    narrow = sampled.get("/search", params={"q": "兰蔻"})
    assert body(narrow)["total"] == 2 and body(narrow)["facets_exact"] is True
    assert facet(narrow, "brand") == {"兰蔻": 2}
    browse = sampled.get("/search")
    assert body(browse)["facets_exact"] is True
    assert sum(facet(browse, "brand").values()) == body(browse)["total"] == 16
