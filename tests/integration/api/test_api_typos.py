"""A homophone typo still finds the word meant (search_api/text_query.py, ``oov_pinyin``).

The typo breaks the word into characters the segmenter leaves single (税果蛋糕: 税 果 for 水果),
so words, bigrams and phrases no longer match it; the run's pinyin (``shuiguo``) meets the
title's word pinyin. The decoy shares more of the typed characters in a row (果蛋糕), and
ranks first when the pinyin clause is off: the test fails if the feature breaks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_assertions import assert_ranks_first
from api_catalog import S1, _p, serve_catalog
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search_api import text_query

CAKE = ["食品", "蛋糕"]
PRODUCTS = [
    _p("t-fruit", S1, "新鲜水果生日蛋糕 同城配送", "鲜果坊", CAKE, {}, 168),
    _p("t-oven", S1, "家用干果蛋糕烤箱 多功能", "美厨", ["家用电器", "烤箱"], {}, 299),
]
TYPO = "税果蛋糕"


@pytest.fixture(scope="module")
def typo_client(api_es: Elasticsearch, api_es_url: str) -> Iterator[TestClient]:
    with serve_catalog(api_es, api_es_url, "typo", PRODUCTS, seed=5) as client:
        yield client


def test_a_homophone_typo_finds_the_word_meant_first(typo_client: TestClient) -> None:
    assert_ranks_first(typo_client.get("/search", params={"q": TYPO}), "t-fruit")


def test_without_the_pinyin_of_the_typo_the_decoy_wins(typo_client: TestClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: what the search ranks first when the typo's pinyin is not scored."""
    monkeypatch.setitem(text_query.WEIGHTS, "oov_pinyin", 0.0)
    assert_ranks_first(typo_client.get("/search", params={"q": TYPO}), "t-oven")
