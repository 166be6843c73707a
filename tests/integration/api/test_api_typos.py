"""A homophone typo still finds the word meant (search_api/text_query.py, ``oov_pinyin``).

The typo breaks the word into characters the segmenter leaves single (税果蛋糕: 税 果 for 水果),
so words, bigrams and phrases no longer match it; the run's pinyin (``shuiguo``) meets the
title's word pinyin. The decoy shares more of the typed characters in a row (果蛋糕), and
ranks first when the pinyin clause is off: the test fails if the feature breaks.
"""

from __future__ import annotations

import pytest
from api_assertions import assert_weight_decides
from api_catalog import S1, _p, served_catalog
from fastapi.testclient import TestClient

CAKE = ["食品", "蛋糕"]
PRODUCTS = [
    _p("t-fruit", S1, "新鲜水果生日蛋糕 同城配送", "鲜果坊", CAKE, {}, 168),
    _p("t-oven", S1, "家用干果蛋糕烤箱 多功能", "美厨", ["家用电器", "烤箱"], {}, 299),
]
TYPO = "税果蛋糕"


typo_client = served_catalog("typo", PRODUCTS, seed=5)


def test_a_homophone_typo_finds_the_word_meant_first(typo_client: TestClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """And the decoy first when the typo's pinyin is not scored (the control)."""
    assert_weight_decides(typo_client, monkeypatch, "oov_pinyin", TYPO, on="t-fruit", off="t-oven")
