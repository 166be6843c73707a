"""GET /search query understanding: price intent, zero-result recovery, Chinese highlighting."""

from __future__ import annotations

from typing import Any

import pytest
from api_assertions import (
    assert_highlights_faithful,
    assert_hits,
    assert_ranks_first,
    body,
    ids,
    marked,
    record_es_calls,
)

from analyzers import QueryAnalysis, get_analyzer
from search_api import service as service_module


def search(client: Any, **params: Any) -> Any:
    return client.get("/search", params=params)


# ---------------------------------------------------------------- price intent

def test_price_below_becomes_a_filter_and_is_echoed(client: Any) -> None:
    resp = search(client, q="耳机500元以下")
    assert_hits(resp, {"p08"})  # the other two earphones cost 899 and 1899
    applied = body(resp)["applied"]
    assert applied["query"] == "耳机500元以下"
    assert applied["query_text"] == "耳机"
    assert applied["intent"]["price_max"] == 500 and "price_min" not in applied["intent"]
    assert "price_max" not in applied["filters"]  # an intent, not a filter the shopper set


def test_price_range_becomes_a_filter(client: Any) -> None:
    resp = search(client, q="连衣裙100-200元")
    assert_ranks_first(resp, "p12")
    assert all(100 <= h["price"] <= 200 for h in body(resp)["hits"])
    intent = body(resp)["applied"]["intent"]
    assert (intent["price_min"], intent["price_max"]) == (100, 200)


def test_cheap_filters_to_the_cheap_end_of_what_the_words_name(client: Any) -> None:
    resp = search(client, q="便宜连衣裙")
    intent = body(resp)["applied"]["intent"]
    assert intent["cheap"] is True
    # The dresses cost 199, 299 and 459: the 30th percentile sits between the first two.
    assert 199 <= intent["price_max"] < 299
    assert_ranks_first(resp, "p12")
    assert "p11" not in ids(resp) and "p10" not in ids(resp)
    assert all(h["price"] <= intent["price_max"] for h in body(resp)["hits"])


def test_an_explicit_price_wins_over_the_intent(client: Any) -> None:
    resp = search(client, q="耳机500元以下", price_max=1000)
    assert set(ids(resp)) >= {"p07", "p08"}


def test_a_bare_number_is_not_a_price(client: Any) -> None:
    resp = search(client, q="iPhone15")
    assert "intent" not in body(resp)["applied"]
    assert_ranks_first(resp, "p06")


# ---------------------------------------------------------------- quantities

@pytest.mark.parametrize(("q", "expected"), [
    ("30ml 面霜", {"p15"}),  # the 30 ml serum shares the quantity, not the product
    ("面霜 50ML", {"p15"}),
    ("精华液 50毫升", {"p16"}),
    ("256GB 手机", {"p01", "p02", "p03", "p04", "p05", "p06"}),  # every phone; the 256 GB ones first
])
def test_a_quantity_alone_does_not_let_a_product_in(client: Any, q: str, expected: set[str]) -> None:
    assert_hits(search(client, q=q, size=100), expected)


def test_a_quantity_ranks_the_products_that_have_it_first(client: Any) -> None:
    hits = body(search(client, q="256GB 手机"))["hits"]
    assert {h["id"] for h in hits[:3]} == {"p01", "p02", "p05"}  # 存储容量 256GB
    assert marked(body(search(client, q="面霜 50ML"))["hits"][0]["highlight"]) == ["面霜", "50ml"]


# ---------------------------------------------------------------- pinyin

@pytest.mark.parametrize(("q", "expected"), [
    ("lianyiqun", {"p10", "p11", "p12"}),
    ("lyq", {"p10", "p11", "p12"}),
    ("lyq 红色", {"p10"}),  # beside Chinese, the Chinese must match too
    ("baise 连衣裙", {"p10", "p11", "p12"}),  # no white phone or T-shirt: they hold no 连衣裙
])
def test_pinyin_finds_only_with_the_rest_of_the_query(client: Any, q: str, expected: set[str]) -> None:
    resp = search(client, q=q, size=100)
    assert_hits(resp, expected)
    assert "recovery" not in body(resp)["applied"]


def test_pinyin_beside_chinese_still_ranks(client: Any) -> None:
    assert_ranks_first(search(client, q="baise 连衣裙"), "p12")  # 白色 连衣裙


# ---------------------------------------------------------------- zero-result recovery

def _strict(qa: QueryAnalysis, *, relax: bool = False) -> dict[str, Any]:
    """Every query character in the title (relaxed: 75% of them).

    The recovery steps live in the service; whether a query needs them depends on how strict
    the relevance query is, which search_api/text_query.py tunes separately (issue 3). This
    stand-in makes the steps observable whatever that tuning is today.
    """
    return {"match": {"title_chars": {"query": " ".join(qa.chars),
                                      "minimum_should_match": "75%" if relax else "100%"}}}


@pytest.fixture
def strict_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_module, "build_text_query", _strict)


def test_recovery_relaxes_and_to_or(client: Any, strict_text: None) -> None:
    resp = search(client, q="华为 连衣裙")  # no title has all five characters
    out = body(resp)
    assert out["total"] > 0
    rec = out["applied"]["recovery"]
    assert rec["step"] == "relaxed" and rec["original"] == "华为 连衣裙" and rec["message"]
    assert {"p10", "p11", "p12"} <= set(ids(resp))


def test_recovery_without_a_correction_runs_the_relaxed_search_at_once(
        client: Any, strict_text: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to correct: no probe round trip first, the relaxed search itself is the second."""
    sent = record_es_calls(client, monkeypatch)
    resp = search(client, q="华为 连衣裙")
    assert body(resp)["applied"]["recovery"]["step"] == "relaxed"
    assert sent == ["search", "search"]


def test_recovery_drops_the_lowest_weight_term(client: Any, strict_text: None) -> None:
    resp = search(client, q="华为 飞艇")  # 飞艇 is in no title: the weakest evidence
    rec = body(resp)["applied"]["recovery"]
    assert rec["step"] == "dropped_term" and rec["dropped"] == "飞艇" and rec["query"] == "华为"
    assert set(ids(resp)) >= {"p01", "p02", "p03", "p07"}
    assert "华为" in rec["message"]


def test_the_relaxed_step_needs_30_percent_of_a_long_querys_characters(client: Any) -> None:
    """The real text query: a dress shopper's long query with words no product has. The relaxed
    step finds the dresses (4 of the 12 characters: 连衣裙 and 色), not every product that shares
    one character with it (色 alone is in most colour names: 黑色, 白色)."""
    resp = search(client, q="连衣裙色飞艇坦克航母潜艇")
    out = body(resp)
    assert out["applied"]["recovery"]["step"] == "relaxed"
    assert sorted(ids(resp)) == ["p10", "p11", "p12"] and out["total"] == 3


def test_recovery_keeps_every_filter(client: Any, strict_text: None) -> None:
    resp = search(client, q="华为 飞艇", shop_id="shop-fashion")
    assert body(resp)["total"] == 0 and "recovery" not in body(resp)["applied"]


def test_no_recovery_when_nothing_is_near(client: Any) -> None:
    resp = search(client, q="飞艇坦克")
    assert body(resp)["total"] == 0 and "recovery" not in body(resp)["applied"]


@pytest.mark.skipif(not hasattr(get_analyzer(), "correct"), reason="the analyzer has no correct() yet")
def test_recovery_corrects_pinyin_or_homophones(client: Any) -> None:  # pragma: no cover
    resp = search(client, q="连依裙")
    rec = body(resp)["applied"].get("recovery")
    assert rec and rec["step"] == "corrected"


def test_a_corrected_search_highlights_the_correction(client: Any) -> None:
    """The hits were found for 连衣裙: that is what their titles mark, not the 连衣 that the
    typed 连依裙 shares with it."""
    out = body(search(client, q="连依裙", size=100))
    assert out["applied"]["recovery"]["query"] == "连衣裙"
    hl = {h["id"]: h["highlight"] for h in out["hits"]}
    assert marked(hl["p10"]) == ["连衣裙"]


# ---------------------------------------------------------------- highlighting

@pytest.mark.parametrize("q", ["手机", "华为手机", "连衣裙", "兰蔻", "iphone", "白色 T恤", "ＺＡＲＡ", "蘭蔻面霜",
                               "lyq", "lankou"])
def test_highlight_with_tags_stripped_is_the_original_title(client: Any, q: str) -> None:
    resp = search(client, q=q, size=100)
    assert body(resp)["hits"]
    assert_highlights_faithful(resp)
    pre, post = "<span class=\"hl\">", "</span>"
    assert_highlights_faithful(search(client, q=q, size=100, hl_pre=pre, hl_post=post), pre, post)


def _highlight_of(client: Any, q: str, pid: str) -> str:
    hits = {h["id"]: h["highlight"] for h in body(search(client, q=q, size=100))["hits"]}
    return hits[pid]


def test_tags_land_on_the_matched_words(client: Any) -> None:
    assert marked(_highlight_of(client, "连衣裙", "p10")) == ["连衣裙"]
    assert marked(_highlight_of(client, "华为", "p01")) == ["华为"]
    assert _highlight_of(client, "降噪耳机", "p07") == "华为 FreeBuds <em>降噪耳机</em> 白色"


@pytest.mark.parametrize("q", ["lianyiqun", "lyq", "LYQ"])
def test_a_pinyin_search_marks_the_words_it_matched(client: Any, q: str) -> None:
    assert marked(_highlight_of(client, q, "p10")) == ["连衣裙"]
    assert marked(_highlight_of(client, "lankou", "p15")) == ["蘭蔻"]  # the original characters


def test_full_width_and_traditional_input(client: Any) -> None:
    assert marked(_highlight_of(client, "ｉＰｈｏｎｅ", "p06"))[0].lower().startswith("iphone")
    assert marked(_highlight_of(client, "連衣裙", "p12")) == ["连衣裙"]  # traditional query
    # traditional title, simplified query: the original characters are marked and kept
    assert _highlight_of(client, "兰蔻", "p15") == "<em>蘭蔻</em>菁純面霜 50ml"
