"""The product a query ends with ranks first (search_api/text_query.py, ``WEIGHTS["head"]``).

``立领商务皮衣`` asks for a leather jacket. The decoy is a jacket of another kind that holds more
of the query's characters (商务立领 … 上衣) and ranks first when the head word is not scored.
The leather jacket ranks first when it is: the test fails if the feature breaks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_assertions import assert_ranks_first
from api_catalog import S2, _p, serve_catalog
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search_api import text_query

COAT = ["男装", "外套"]
PRODUCTS = [
    _p("h-jacket", S2, "商务立领夹克 男 休闲上衣", "七匹狼", COAT, {}, 599),
    _p("h-leather", S2, "立领真皮皮衣 男 修身机车外套", "卡宾", COAT, {}, 899),
    _p("h-other", S2, "纯棉圆领T恤 男 短袖", "卡宾", ["男装", "T恤"], {}, 99),
]
QUERY = "立领商务皮衣"


@pytest.fixture(scope="module")
def head_client(api_es: Elasticsearch, api_es_url: str) -> Iterator[TestClient]:
    with serve_catalog(api_es, api_es_url, "head", PRODUCTS, seed=3) as client:
        yield client


def test_the_product_asked_for_ranks_above_a_closer_match_of_another_kind(head_client: TestClient) -> None:
    assert_ranks_first(head_client.get("/search", params={"q": QUERY}), "h-leather")


def test_without_the_head_word_the_closer_match_wins(head_client: TestClient,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: what ranks first when the head word earns nothing."""
    monkeypatch.setitem(text_query.WEIGHTS, "head", 0.0)
    assert_ranks_first(head_client.get("/search", params={"q": QUERY}), "h-jacket")


def test_analyze_shows_the_head(head_client: TestClient) -> None:
    fields = head_client.get("/analyze", params={"text": QUERY}).json()["fields"]
    assert fields["query_head"] == ["皮衣"]


def test_explain_names_the_head_a_hit_holds(head_client: TestClient) -> None:
    hits = {h["id"]: h for h in head_client.get("/search", params={"q": QUERY, "explain": "true"}).json()["hits"]}
    assert hits["h-leather"]["explain"]["head"] == {"word": "皮衣", "bonus": text_query.WEIGHTS["head"]}
    assert "head" not in hits["h-jacket"]["explain"]
