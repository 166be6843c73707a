"""Homophone and pinyin correction (used by /search when a query finds nothing)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("typo", "fixed"), [
    ("连依裙", "连衣裙"),
    ("连依裙女夏", "连衣裙女夏"),
    ("lianyiqun", "连衣裙"),
    ("三只松树坚果", "三只松鼠坚果"),
    ("兰扣面霜", "兰蔻面霜"),
])
def test_corrects_homophones_and_pinyin(analyzer, typo: str, fixed: str) -> None:
    assert analyzer.correct(typo) == fixed


@pytest.mark.parametrize("text", ["华为手机", "连衣裙", "苹果手机壳", "iphone 15", "sk2 小灯泡", "", "😀", "x" * 300,
                                  "量杯",  # a word of its own, though 凉被 sounds the same
                                  "muji量杯"])  # beside Chinese, muji is a brand, not 母鸡
def test_leaves_correct_text_alone(analyzer, text: str) -> None:
    assert analyzer.correct(text) == analyzer.normalize(text)


@pytest.mark.parametrize(("typo", "words"), [
    ("连依裙女夏", ["连衣裙"]), ("lianyiqun", ["连衣裙"]), ("兰扣肖黑瓶", ["兰蔻", "小黑瓶"]), ("华为手机", []),
])
def test_a_correction_names_the_words_it_put_in(analyzer, typo: str, words: list[str]) -> None:
    """What a product found by the corrected query must hold (search_api.service._corrected_query)."""
    fixed, put = analyzer.correction(typo)
    assert fixed == analyzer.correct(typo) and put == words
