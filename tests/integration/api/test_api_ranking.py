"""Ranking: business signals multiply text relevance, with the documented, configurable weights.

Five products with the same title (so the same text score) differ in one signal each;
their order is the signals' order. With the defaults (search_api/settings.RankingWeights:
sales 0.15 per decade, rating 0.2 at 5.0, shop quality 0.15 at a 5.0 shop score, freshness
0.2 for today halving every 30 days, out of stock x 0.25) the multipliers are:

    r-sales  1 + 0.15·log10(10001) + 0.12          = 1.72
    r-fresh  1 + 0.12 + 0.2                        = 1.32
    r-shop   1 + 0.12 + 0.15                       = 1.27   (a 5.0 shop; the others have no score)
    r-rating 1 + 0.2                               = 1.20
    r-plain  1 + 0.12                              = 1.12
    r-oos    1.72 × 0.25                           = 0.43   (the best seller, but sold out)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from api_assertions import assert_ranks_before, assert_ranks_first, assert_ranks_last, body, ids
from api_catalog import NOW, S1, _p, create_catalog, drop_catalog
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search_api.main import create_app
from search_api.settings import ApiSettings, RankingWeights

TITLE = "便携 蓝牙音箱 户外"
CAT = ["手机数码", "音箱"]
PRODUCTS = [
    _p("r-sales", S1, TITLE, "漫步者", CAT, {}, 199, sales=10_000, rating=3.0),
    _p("r-fresh", S1, TITLE, "漫步者", CAT, {}, 199, sales=0, rating=3.0, created=NOW - timedelta(hours=2)),
    _p("r-shop", S1, TITLE, "漫步者", CAT, {}, 199, sales=0, rating=3.0, shop_score=5.0),
    _p("r-rating", S1, TITLE, "漫步者", CAT, {}, 199, sales=0, rating=5.0),
    _p("r-plain", S1, TITLE, "漫步者", CAT, {}, 199, sales=0, rating=3.0),
    _p("r-oos", S1, TITLE, "漫步者", CAT, {}, 199, sales=10_000, rating=3.0, stock=0),
]
ORDER = ["r-sales", "r-fresh", "r-shop", "r-rating", "r-plain", "r-oos"]
MULTIPLIER = {"r-sales": 1.72, "r-fresh": 1.32, "r-shop": 1.27, "r-rating": 1.20, "r-plain": 1.12,
              "r-oos": 0.43}


@pytest.fixture(scope="module")
def ranking_alias(api_es: Elasticsearch) -> Iterator[str]:
    alias = f"t{uuid.uuid4().hex[:10]}-rank"
    try:
        create_catalog(api_es, alias, PRODUCTS, seed=3)
        yield alias
    finally:
        drop_catalog(api_es, alias)


@pytest.fixture(scope="module")
def ranked_client(api_es_url: str, ranking_alias: str) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(es_url=api_es_url, index=ranking_alias))) as c:
        yield c


@pytest.mark.parametrize("q", ["蓝牙音箱", ""])
def test_signals_order_equal_text_matches(ranked_client: TestClient, q: str) -> None:
    resp = ranked_client.get("/search", params={"q": q})
    assert ids(resp) == ORDER


def test_each_signal_adds(ranked_client: TestClient) -> None:
    resp = ranked_client.get("/search", params={"q": "蓝牙音箱"})
    assert_ranks_first(resp, "r-sales")
    assert_ranks_before(resp, "r-fresh", "r-plain")
    assert_ranks_before(resp, "r-rating", "r-plain")
    assert_ranks_before(resp, "r-shop", "r-plain")  # the same product in a better shop
    assert_ranks_last(resp, "r-oos")  # out of stock sinks below products that sold nothing


def test_scores_follow_the_documented_multipliers(ranked_client: TestClient) -> None:
    hits = body(ranked_client.get("/search", params={"q": "蓝牙音箱", "explain": True}))["hits"]
    score = {h["id"]: h["score"] for h in hits}
    for pid, m in MULTIPLIER.items():
        assert score[pid] / score["r-plain"] == pytest.approx(m / MULTIPLIER["r-plain"], rel=0.01), pid
    explained = {h["id"]: h["explain"]["business"]["multiplier"] for h in hits}
    for pid, m in MULTIPLIER.items():  # the explanation computes the same factors ES applied
        assert explained[pid] == pytest.approx(m, rel=0.01), pid
    text = {h["explain"]["text_score"] for h in hits}
    assert max(text) == pytest.approx(min(text), rel=0.01)  # equal titles, equal text scores


def test_weights_are_configurable(api_es_url: str, ranking_alias: str) -> None:
    settings = ApiSettings(es_url=api_es_url, index=ranking_alias,
                           ranking=RankingWeights(sales=0, freshness=2.0, out_of_stock=1.0))
    with TestClient(create_app(settings)) as c:
        resp = c.get("/search", params={"q": "蓝牙音箱"})
    assert_ranks_first(resp, "r-fresh")
    order: list[Any] = ids(resp)
    assert set(order[1:]) == {"r-sales", "r-shop", "r-rating", "r-plain", "r-oos"}
    assert order.index("r-rating") < order.index("r-plain")


def test_shop_quality_weight_is_configurable(api_es_url: str, ranking_alias: str) -> None:
    settings = ApiSettings(es_url=api_es_url, index=ranking_alias, ranking=RankingWeights(shop_quality=3.0))
    with TestClient(create_app(settings)) as c:
        hits = body(c.get("/search", params={"q": "蓝牙音箱", "explain": True}))["hits"]
    assert hits[0]["id"] == "r-shop"
    assert hits[0]["explain"]["business"]["shop_quality"] == pytest.approx(3.0)
