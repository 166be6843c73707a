"""The Latin spelling correction's rules (search_api/spelling.py), without a service.

What ES's suggester answers is tested against real ES in tests/integration/api/test_api_spelling.py;
here: which words are asked about, how, and how its answer becomes the corrected query.
"""

from __future__ import annotations

from typing import Any

import pytest

from analyzers import get_analyzer
from search_api.spelling import Spelling, corrected, fuzzy_suggest_body, latin_words, suggest_request


def entry(text: str, *options: tuple[str, float, int]) -> dict[str, Any]:
    return {"text": text, "options": [{"text": t, "score": s, "freq": f} for t, s, f in options]}


def test_which_words_may_be_typos() -> None:
    # Five letters or more, and no word English text uses; each word once.
    assert latin_words("addidas 运动鞋 addidas") == ["addidas"]
    assert latin_words("nkie跑鞋") == []  # four letters: too many neighbours
    assert latin_words("tablet 支架") == []  # an English word is meant as typed
    # Letters glued to digits belong to a model: vivoy52s is no typo of vivov52s.
    assert latin_words("vivoy52s手机 samsunga72 iqooz1") == []
    assert latin_words("华为matebookd屏幕") == ["matebookd"]


def test_the_request_reads_words_and_for_a_latin_query_their_pinyin() -> None:
    req = suggest_request("lianyiqn addidas")
    assert req is not None and req["query"] == {"match_none": {}} and req["size"] == 0
    s = req["suggest"]
    assert s["w1"]["text"] == "lianyiqn addidas" and s["w1"]["term"]["field"] == "title_words"
    assert s["w1"]["term"]["max_edits"] == 1 and s["w1"]["term"]["suggest_mode"] == "missing"
    assert s["p1"]["text"] == "lianyiqn" and s["p1"]["term"]["field"] == "title_pinyin"  # 8+ letters


def test_beside_chinese_a_latin_word_is_not_pinyin() -> None:
    req = suggest_request("lianyiqn 红色")
    assert req is not None and set(req["suggest"]) == {"w1"}


def test_two_typos_from_nine_letters() -> None:
    req = suggest_request("thinkpadd mikehouse")
    assert req is not None
    assert req["suggest"]["w2"]["text"] == "thinkpadd mikehouse"
    assert "w1" not in req["suggest"]


def test_nothing_to_ask_without_latin_words() -> None:
    assert suggest_request("连衣裙 夏") is None
    assert suggest_request("nike 2024") is None


def test_the_best_option_of_either_field_replaces_the_word() -> None:
    resp = {"suggest": {
        "w1": [entry("lianyiqn"), entry("addidas", ("adidas", 0.83, 80), ("adida", 0.7, 3))],
        "p1": [entry("lianyiqn", ("lianyiqun", 0.875, 295))],
    }}
    fix = corrected("lianyiqn addidas", resp)
    assert fix == Spelling("lianyiqun adidas", [("title_words", "adidas"), ("title_pinyin", "lianyiqun")])


def test_a_model_or_a_fragment_is_no_correction() -> None:
    resp = {"suggest": {"w1": [entry("iphoneu", ("iphone7", 0.86, 10), ("iphone", 0.83, 185)),
                               entry("tiftt", ("tit", 0.6, 5))]}}
    fix = corrected("iphoneu tiftt", resp)
    assert fix is not None and fix.text == "iphone tiftt"


def test_no_option_no_correction() -> None:
    assert corrected("koozy", {"suggest": {"w1": [entry("koozy")]}}) is None
    assert corrected("koozy", {}) is None


def completion_body(prefix: str) -> dict[str, Any]:
    return {"size": 0, "suggest": {"s": {"prefix": prefix, "completion": {"field": "suggest", "size": 24}}}}


def test_a_latin_prefix_is_asked_again_with_one_typo() -> None:
    again = fuzzy_suggest_body(completion_body("addid"), get_analyzer())
    assert again is not None and again["suggest"]["s"]["prefix"] == "addid"
    assert again["suggest"]["s"]["completion"]["fuzzy"] == {"fuzziness": 1, "transpositions": True,
                                                           "prefix_length": 1}
    assert again["suggest"]["s"]["completion"]["field"] == "suggest"


def test_a_chinese_prefix_is_asked_again_by_its_pinyin() -> None:
    for typed, spelled in [("连依裙", "lianyiqun"), ("三只送鼠", "sanzhisongshu"), ("运东鞋", "yundongxie")]:
        again = fuzzy_suggest_body(completion_body(typed), get_analyzer())
        assert again is not None and again["suggest"]["s"]["prefix"] == spelled
        assert "fuzzy" not in again["suggest"]["s"]["completion"]


@pytest.mark.parametrize("prefix", ["adid", "lyqxz", "连", "连依", "膏药贴", "手机克", "连衣 q", "3d打印"])
def test_prefixes_not_asked_again(prefix: str) -> None:
    """Four letters, initials (no vowel), fewer than three characters, known words (膏药贴 is no
    typo of 高腰; 手机克 has no run of characters the segmenter leaves single), and text that
    is not a word being typed."""
    assert fuzzy_suggest_body(completion_body(prefix), get_analyzer()) is None
