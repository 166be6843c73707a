"""Scoring features of ``search_api/text_query.py`` that decide which product ranks first.

Each case has a product the feature should rank first and a decoy that ranks first when the
feature's weight is 0 (the control), in one catalog: the test fails if the feature breaks.

* ``oov_pinyin``: a homophone typo breaks its word into characters the segmenter leaves
  single (税果蛋糕: 税 果 for 水果), so words, bigrams and phrases no longer match it; the run's
  pinyin (``shuiguo``) meets the title's word pinyin. The decoy shares more of the typed
  characters in a row (果蛋糕).
* ``head``: ``立领商务皮衣`` asks for a leather jacket. The decoy is a jacket of another kind
  that holds more of the query's characters (商务立领 … 上衣).
"""

from __future__ import annotations

import pytest
from api_assertions import assert_weight_decides
from api_catalog import S1, S2, _p, served_catalog
from fastapi.testclient import TestClient

from search_api import text_query

COAT = ["男装", "外套"]
PRODUCTS = [
    _p("t-fruit", S1, "新鲜水果生日蛋糕 同城配送", "鲜果坊", ["食品", "蛋糕"], {}, 168),
    _p("t-oven", S1, "家用干果蛋糕烤箱 多功能", "美厨", ["家用电器", "烤箱"], {}, 299),
    _p("h-jacket", S2, "商务立领夹克 男 休闲上衣", "七匹狼", COAT, {}, 599),
    _p("h-leather", S2, "立领真皮皮衣 男 修身机车外套", "卡宾", COAT, {}, 899),
    _p("h-other", S2, "纯棉圆领T恤 男 短袖", "卡宾", ["男装", "T恤"], {}, 99),
]
HEAD_QUERY = "立领商务皮衣"

weights_client = served_catalog("weights", PRODUCTS, seed=5)


@pytest.mark.parametrize(("weight", "q", "first", "without_it"), [
    ("oov_pinyin", "税果蛋糕", "t-fruit", "t-oven"),
    ("head", HEAD_QUERY, "h-leather", "h-jacket"),
])
def test_the_feature_decides_what_ranks_first(weights_client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                              weight: str, q: str, first: str, without_it: str) -> None:
    assert_weight_decides(weights_client, monkeypatch, weight, q, on=first, off=without_it)


def test_analyze_shows_the_head(weights_client: TestClient) -> None:
    fields = weights_client.get("/analyze", params={"text": HEAD_QUERY}).json()["fields"]
    assert fields["query_head"] == ["皮衣"]


def test_explain_names_the_head_a_hit_holds(weights_client: TestClient) -> None:
    resp = weights_client.get("/search", params={"q": HEAD_QUERY, "explain": "true"})
    hits = {h["id"]: h for h in resp.json()["hits"]}
    assert hits["h-leather"]["explain"]["head"] == {"word": "皮衣", "bonus": text_query.WEIGHTS["head"]}
    assert "head" not in hits["h-jacket"]["explain"]
