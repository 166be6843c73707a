"""The product a query ends with ranks first (search_api/text_query.py, ``WEIGHTS["head"]``).

``立领商务皮衣`` asks for a leather jacket. The decoy is a jacket of another kind that holds more
of the query's characters (商务立领 … 上衣) and ranks first when the head word is not scored.
The leather jacket ranks first when it is: the test fails if the feature breaks.
"""

from __future__ import annotations

import pytest
from api_assertions import assert_weight_decides
from api_catalog import S2, _p, served_catalog
from fastapi.testclient import TestClient

from search_api import text_query

COAT = ["男装", "外套"]
PRODUCTS = [
    _p("h-jacket", S2, "商务立领夹克 男 休闲上衣", "七匹狼", COAT, {}, 599),
    _p("h-leather", S2, "立领真皮皮衣 男 修身机车外套", "卡宾", COAT, {}, 899),
    _p("h-other", S2, "纯棉圆领T恤 男 短袖", "卡宾", ["男装", "T恤"], {}, 99),
]
QUERY = "立领商务皮衣"


head_client = served_catalog("head", PRODUCTS, seed=3)


def test_the_product_asked_for_ranks_above_a_closer_match_of_another_kind(head_client: TestClient,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """And the closer match first when the head word earns nothing (the control)."""
    assert_weight_decides(head_client, monkeypatch, "head", QUERY, on="h-leather", off="h-jacket")


def test_analyze_shows_the_head(head_client: TestClient) -> None:
    fields = head_client.get("/analyze", params={"text": QUERY}).json()["fields"]
    assert fields["query_head"] == ["皮衣"]


def test_explain_names_the_head_a_hit_holds(head_client: TestClient) -> None:
    hits = {h["id"]: h for h in head_client.get("/search", params={"q": QUERY, "explain": "true"}).json()["hits"]}
    assert hits["h-leather"]["explain"]["head"] == {"word": "皮衣", "bonus": text_query.WEIGHTS["head"]}
    assert "head" not in hits["h-jacket"]["explain"]
