"""Corrections of a search that found nothing: a mistyped Latin word corrected to a word of the
catalog (search_api/spelling.py), a homophone to a dictionary word, and /suggest's fallbacks.

Only a search that found nothing is corrected, and only to words the storefront's own
on-shelf products hold with the rest of the query. Every assertion runs the real API on real
ES, whose ``term`` suggester reads the index's words.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_assertions import assert_ranks_first, body, ids
from api_catalog import S1, S2, _p, served_catalog
from fastapi.testclient import TestClient

SHOES = ["运动户外", "运动鞋"]
PRODUCTS = [
    _p("s-adidas", S2, "adidas 男子跑步鞋 轻便透气", "adidas", SHOES, {}, 499),
    _p("s-adidas-zh", S2, "阿迪达斯 女子休闲运动鞋", "阿迪达斯", SHOES, {}, 459),
    _p("s-kismile", S1, "kismile花妍隔离霜 妆前乳", "kismile", ["美妆护肤", "隔离"], {}, 59),
    _p("s-intel", S1, "intel英特尔 固态硬盘 240gb", "intel", ["电脑", "硬盘"], {}, 399),
    _p("s-sofa", S1, "北欧布艺沙发 三人位", "家居", ["家具", "沙发"], {}, 1999),
    _p("s-dress", S1, "夏季碎花连衣裙 女", "花间", ["女装", "连衣裙"], {}, 129),
    _p("s-table", S1, "北欧实木餐桌 table 小户型", "木作", ["家具", "餐桌"], {}, 899),
    _p("s-lancome", S1, "Lancome 兰蔻小黑瓶精华肌底液", "兰蔻", ["美妆护肤", "精华"], {}, 760),
    _p("s-spray", S1, "戴安娜 杀菌喷雾 家用", "戴安娜", ["家居", "清洁"], {}, 29),
    _p("s-miki", S1, "mikihouse 宝宝学步鞋", "mikihouse", ["童鞋", "学步鞋"], {}, 399),
    _p("s-hidden", S1, "zebrex 斑马条纹收纳盒", "zebrex", ["家居", "收纳"], {}, 39, status="off_shelf"),
]


spell_client = served_catalog("spell", PRODUCTS, seed=7)


def recovery(resp: Any) -> dict[str, Any]:
    return body(resp)["applied"].get("recovery") or {}


def test_a_mistyped_brand_finds_the_brand_under_both_its_names(spell_client: TestClient) -> None:
    resp = spell_client.get("/search", params={"q": "addidas"})
    rec = recovery(resp)
    assert (rec.get("step"), rec.get("query")) == ("corrected", "adidas"), rec
    assert "adidas" in rec["message"]
    # The correction searches like the word typed right: its synonym (阿迪达斯) finds too.
    assert set(ids(resp)) == {"s-adidas", "s-adidas-zh"}


def test_a_mistyped_word_beside_chinese_is_corrected(spell_client: TestClient) -> None:
    resp = spell_client.get("/search", params={"q": "kissmile隔离"})
    assert recovery(resp).get("query") == "kismile隔离"
    assert_ranks_first(resp, "s-kismile")


def test_a_query_typed_in_pinyin_is_corrected_to_the_titles_pinyin(spell_client: TestClient) -> None:
    resp = spell_client.get("/search", params={"q": "lianyiqn"})
    assert recovery(resp).get("query") == "lianyiqun"
    assert ids(resp) == ["s-dress"]


def test_two_typos_are_corrected_from_nine_letters_one_below(spell_client: TestClient) -> None:
    """Counted as Meilisearch counts them: ``mikehousse`` (10 letters) is two edits from
    mikihouse; ``kissmilx`` (8) is two from kismile, one too many for its length."""
    resp = spell_client.get("/search", params={"q": "mikehousse"})
    assert recovery(resp).get("query") == "mikihouse" and ids(resp) == ["s-miki"]
    resp = spell_client.get("/search", params={"q": "kissmilx"})
    assert recovery(resp).get("step") != "corrected"
    assert recovery(spell_client.get("/search", params={"q": "kissmile"})).get("query") == "kismile"


def test_a_correction_must_find_the_rest_of_the_query_too(spell_client: TestClient) -> None:
    """``intex`` is one edit from ``intel``, and intel's synonym 英特尔 would let its SSD in on
    the brand alone. With the sofa the query asks for, it finds nothing: no correction, and the
    relaxed search shows sofas."""
    resp = spell_client.get("/search", params={"q": "intex沙发"})
    assert recovery(resp).get("step") == "relaxed"
    assert "s-intel" not in ids(resp)
    assert_ranks_first(resp, "s-sofa")


def test_a_homophone_correction_must_find_the_word_it_put_in(spell_client: TestClient) -> None:
    """代森 (of 代森锰锌, a fungicide) sounds like the dictionary brand 戴森 (Dyson). The corrected
    query 戴森猛锌杀菌 passes the character gate on 戴杀菌 (a 戴安娜 spray), but no product holds
    戴森: the search says it relaxed the query it was given, not that it found 戴森猛锌杀菌."""
    resp = spell_client.get("/search", params={"q": "代森猛锌杀菌"})
    assert recovery(resp).get("step") == "relaxed"
    assert_ranks_first(resp, "s-spray")


def test_an_english_word_is_taken_as_meant(spell_client: TestClient) -> None:
    """``tablet`` is one edit from the catalog's ``table``, but it is a word, not a typo."""
    resp = spell_client.get("/search", params={"q": "tablet"})
    assert body(resp)["total"] == 0 and recovery(resp) == {}


def test_no_correction_to_a_word_of_off_shelf_products(spell_client: TestClient) -> None:
    """The suggester reads every word of the index; only on-shelf products may answer."""
    resp = spell_client.get("/search", params={"q": "zebrax"})
    assert body(resp)["total"] == 0 and recovery(resp) == {}


def test_no_correction_to_a_word_of_another_shop(spell_client: TestClient) -> None:
    resp = spell_client.get("/search", params={"q": "addidas", "shop_id": S1})
    assert body(resp)["total"] == 0 and recovery(resp) == {}
    resp = spell_client.get("/search", params={"q": "addidas", "shop_id": S2})
    assert recovery(resp).get("query") == "adidas"


def test_a_short_word_is_not_corrected(spell_client: TestClient) -> None:
    """Four letters have too many neighbours one edit away: ``tabe`` stays as typed."""
    resp = spell_client.get("/search", params={"q": "tabe"})
    assert recovery(resp).get("step") != "corrected"


# ---------------------------------------------------------------- /suggest


def suggest(client: TestClient, **params: Any) -> dict[str, Any]:
    resp = client.get("/suggest", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("q", ["addid", "adidsa"])
def test_a_mistyped_prefix_completes_the_word_it_misspells(spell_client: TestClient, q: str) -> None:
    out = suggest(spell_client, q=q)
    assert out["fuzzy"] is True
    assert {p["id"] for p in out["products"]} == {"s-adidas", "s-adidas-zh"}
    assert [c["text"] for c in out["completions"]][:1] == ["adidas"]


def test_a_mistyped_pinyin_prefix_completes_too(spell_client: TestClient) -> None:
    out = suggest(spell_client, q="lianyq")
    assert out["fuzzy"] is True and [p["id"] for p in out["products"]] == ["s-dress"]


def test_a_prefix_that_completes_as_typed_is_not_fuzzy(spell_client: TestClient) -> None:
    out = suggest(spell_client, q="adida")
    assert out["fuzzy"] is False and {p["id"] for p in out["products"]} == {"s-adidas", "s-adidas-zh"}


def test_initials_and_short_prefixes_are_not_fuzzy(spell_client: TestClient) -> None:
    """``xjsgl`` (no vowel: initials) is one letter from the initials of 夏季碎花连衣裙
    (``xjshl``); ``adix`` is four letters, one edit from too much."""
    for q in ("xjsgl", "adix"):
        out = suggest(spell_client, q=q)
        assert out["fuzzy"] is False and out["products"] == [], (q, out)


def test_a_fuzzy_completion_keeps_to_the_shop_and_the_shelf(spell_client: TestClient) -> None:
    assert suggest(spell_client, q="addid", shop_id=S1)["products"] == []  # adidas sells in S2
    assert suggest(spell_client, q="zebrx")["products"] == []  # zebrex is off the shelf


def test_a_matched_title_completes_the_word_being_typed(spell_client: TestClient) -> None:
    """``lanco`` matches the whole title; lancome is in no input of its own (the brand is 兰蔻,
    lankou in pinyin), and is what the shopper is typing."""
    out = suggest(spell_client, q="lanco")
    assert [p["id"] for p in out["products"]] == ["s-lancome"]
    assert out["completions"] == [{"text": "lancome", "count": 1}]


def test_a_homophone_typo_completes_by_its_pinyin(spell_client: TestClient) -> None:
    """A pinyin IME's wrong character (依 for 衣): the pinyin inputs of the titles complete it."""
    out = suggest(spell_client, q="连依裙")
    assert out["fuzzy"] is True and [p["id"] for p in out["products"]] == ["s-dress"]
    assert out["completions"] == [{"text": "连衣裙", "count": 1}]


@pytest.mark.parametrize("q", ["连依", "碎化", "沙法"])
def test_two_characters_are_not_asked_by_their_pinyin(spell_client: TestClient, q: str) -> None:
    """Two characters sound like too many others: 连依 would find the dress, but so would 膏药
    find 高腰 jeans. A shopper who goes on typing (连依裙) is helped."""
    out = suggest(spell_client, q=q)
    assert out["fuzzy"] is False and out["products"] == []
