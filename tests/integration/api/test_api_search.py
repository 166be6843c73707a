"""GET /search: every parameter, and every facet's counts, against the hand-made catalog.

The expected counts are written out by hand from ``api_catalog.ON_SHELF`` (16 products on
shelf; brands 华为 4, 小米 3, 优衣库 3, 苹果 2, ZARA 2, 兰蔻 2), not computed.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_assertions import (
    assert_facet,
    assert_hits,
    assert_invalid,
    assert_nothing_hidden,
    assert_ranks_first,
    body,
    facet,
    ids,
)
from api_catalog import ON_SHELF, ON_SHELF_IDS, S2

ALL_BRANDS = {"华为": 4, "小米": 3, "优衣库": 3, "苹果": 2, "ZARA": 2, "兰蔻": 2}
ALL_CATEGORIES = {"手机数码": 9, "手机数码/手机": 6, "手机数码/耳机": 3, "女装": 5, "女装/连衣裙": 3,
                  "女装/上衣": 2, "美妆护肤": 2, "美妆护肤/面部护肤": 2, "美妆护肤/面部护肤/面霜": 1,
                  "美妆护肤/面部护肤/精华": 1}
ALL_COLOURS = {"黑色": 6, "白色": 6, "蓝色": 1, "红色": 1}
# Fine buckets 50-80:1 150-200:2 200-300:2 300-500:1 500-800:1 800-1000:1 1000-1500:1
# 1500-2000:2 2000-3000:1 3000-5000:1 5000-8000:3, merged into runs of >= 0.8 x 16/5.
ALL_PRICES = {"50-200": 3, "200-500": 3, "500-1500": 3, "1500-3000": 3, "3000-8000": 4}
PRICE = {p["product_id"]: p["product"]["price"] for p in ON_SHELF}


def search(client: Any, **params: Any) -> Any:
    return client.get("/search", params=params)


# ---------------------------------------------------------------- browse and tenant safety

def test_browse_shows_every_on_shelf_product_and_nothing_hidden(client: Any) -> None:
    resp = search(client, size=100)
    assert_hits(resp, ON_SHELF_IDS)
    assert_nothing_hidden(resp)
    assert_facet(resp, "brand", ALL_BRANDS)
    assert_facet(resp, "category", ALL_CATEGORIES)
    assert_facet(resp, "price", ALL_PRICES)
    assert_facet(resp, "attr:颜色", ALL_COLOURS)
    assert_facet(resp, "attr:存储容量", {"256GB": 3, "512GB": 2, "128GB": 1})
    assert_facet(resp, "attr:尺码", {"M": 3, "S": 1, "L": 1})
    assert_facet(resp, "attr:净含量", {"50ml": 1, "30ml": 1})
    out = body(resp)
    assert out["partial"] is False and out["took_ms"] >= 0
    assert out["applied"]["filters"] == {"sort": "relevance"}


@pytest.mark.parametrize("q", ["魅族", "平板电脑", "山寨 旗袍", "雅诗兰黛 眼霜"])
def test_hidden_products_match_no_query(client: Any, q: str) -> None:
    resp = search(client, q=q, size=100)
    assert_nothing_hidden(resp)


def test_top_attributes_are_those_of_the_result_set(client: Any) -> None:
    resp = search(client, q="连衣裙", category="女装/连衣裙")
    names = [a["name"] for a in body(resp)["facets"]["attributes"]]
    assert set(names) == {"颜色", "尺码"}
    assert_facet(resp, "attr:尺码", {"M": 1, "S": 1, "L": 1})


# ---------------------------------------------------------------- filters

def test_shop_id_scopes_hits_and_facets(client: Any) -> None:
    resp = search(client, shop_id=S2, size=100)
    assert_hits(resp, {"p10", "p11", "p12", "p13", "p14"})
    assert_facet(resp, "brand", {"优衣库": 3, "ZARA": 2})
    assert_facet(resp, "category", {"女装": 5, "女装/连衣裙": 3, "女装/上衣": 2})
    assert_facet(resp, "attr:颜色", {"白色": 2, "黑色": 2, "红色": 1})
    assert body(resp)["applied"]["filters"]["shop_id"] == S2


def test_a_query_never_crosses_into_another_shop(client: Any) -> None:
    resp = search(client, q="手机", shop_id=S2)
    assert body(resp)["total"] == 0 and "recovery" not in body(resp)["applied"]
    assert_facet(resp, "brand", {})


@pytest.mark.parametrize(("category", "expected"), [
    ("手机数码", {"p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09"}),
    ("手机数码/", {"p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09"}),
    ("手机数码/耳机", {"p07", "p08", "p09"}),
    ("美妆护肤/面部护肤/面霜", {"p15"}),
    ("耳机", set()),  # a prefix of the path, from the top: not a name anywhere in it
])
def test_category_is_a_path_prefix(client: Any, category: str, expected: set[str]) -> None:
    assert_hits(search(client, category=category, size=100), expected)


def test_category_facet_ignores_its_own_selection(client: Any) -> None:
    resp = search(client, category="手机数码/耳机")
    assert_facet(resp, "category", ALL_CATEGORIES)  # the shopper can still move to 女装
    assert_facet(resp, "brand", {"华为": 1, "小米": 1, "苹果": 1})


def test_brand_is_disjunctive(client: Any) -> None:
    resp = search(client, brand="华为", size=100)
    assert_hits(resp, {"p01", "p02", "p03", "p07"})
    assert_facet(resp, "brand", ALL_BRANDS)  # selecting 华为 still shows what 小米 would add
    assert_facet(resp, "category", {"手机数码": 4, "手机数码/手机": 3, "手机数码/耳机": 1})
    assert_facet(resp, "attr:颜色", {"黑色": 1, "白色": 2, "蓝色": 1})
    # 4 products: each fine bucket already holds more than 0.8 x 4/5 of them
    assert_facet(resp, "price", {"800-1000": 1, "2000-3000": 1, "3000-5000": 1, "5000-8000": 1})


def test_brand_is_repeatable(client: Any) -> None:
    resp = client.get("/search", params=[("brand", "华为"), ("brand", "小米"), ("size", 100)])
    assert_hits(resp, {"p01", "p02", "p03", "p07", "p04", "p05", "p08"})
    assert body(resp)["applied"]["filters"]["brand"] == ["华为", "小米"]


def test_brand_and_attribute_facets_each_ignore_only_their_own_selection(client: Any) -> None:
    resp = client.get("/search", params={"brand": "华为", "attr.颜色": "白色", "size": 100})
    assert_hits(resp, {"p02", "p07"})
    # brand counts: every 白色 product, whatever its brand
    assert_facet(resp, "brand", {"华为": 2, "小米": 1, "苹果": 1, "优衣库": 2})
    # colour counts: every 华为 product, whatever its colour
    assert_facet(resp, "attr:颜色", {"黑色": 1, "白色": 2, "蓝色": 1})
    # category counts: both selections
    assert_facet(resp, "category", {"手机数码": 2, "手机数码/手机": 1, "手机数码/耳机": 1})
    assert body(resp)["applied"]["filters"]["attributes"] == {"颜色": ["白色"]}


def test_price_range_is_inclusive_and_its_facet_disjunctive(client: Any) -> None:
    resp = search(client, price_min=199, price_max=459, size=100)
    assert_hits(resp, {"p08", "p10", "p11", "p12", "p14"})
    assert_facet(resp, "price", ALL_PRICES)
    assert_facet(resp, "brand", {"小米": 1, "优衣库": 2, "ZARA": 2})
    assert all(199 <= h["price"] <= 459 for h in body(resp)["hits"])


def test_price_bounds_alone(client: Any) -> None:
    assert_hits(search(client, price_max=199, size=100), {"p08", "p12", "p13"})
    assert_hits(search(client, price_min=5500, size=100), {"p01", "p06"})


def test_attributes_or_within_a_name_and_across_names(client: Any) -> None:
    resp = client.get("/search", params=[("attr.颜色", "黑色"), ("attr.颜色", "蓝色"), ("size", 100)])
    assert_hits(resp, {"p01", "p04", "p06", "p08", "p11", "p14", "p03"})
    resp = client.get("/search", params=[("attr.颜色", "黑色"), ("attr.存储容量", "512GB")])
    assert_hits(resp, {"p04"})
    assert_facet(resp, "attr:存储容量", {"256GB": 1, "512GB": 1, "128GB": 1})  # the black phones
    assert_facet(resp, "attr:颜色", {"黑色": 1, "蓝色": 1})  # the 512GB phones


def test_in_stock(client: Any) -> None:
    assert_hits(search(client, brand="华为", in_stock=True, size=100), {"p01", "p02", "p07"})
    assert_hits(search(client, brand="华为", in_stock=False, size=100), {"p01", "p02", "p03", "p07"})


# ---------------------------------------------------------------- sorts and paging

def _full_order(client: Any, **params: Any) -> list[str]:
    return ids(search(client, size=100, **params))


def test_sort_price(client: Any) -> None:
    asc = _full_order(client, sort="price_asc")
    assert asc[:3] == ["p13", "p08", "p12"]  # 79, then the two 199s by id
    assert [PRICE[i] for i in asc] == sorted(PRICE[i] for i in asc)
    desc = _full_order(client, sort="price_desc")
    assert desc[:3] == ["p01", "p06", "p04"]
    assert [PRICE[i] for i in desc] == sorted((PRICE[i] for i in desc), reverse=True)


def test_sort_sales_rating_newest(client: Any) -> None:
    assert_ranks_first(search(client, sort="sales"), "p01")  # 5000 sold, the rest 100
    assert ids(search(client, sort="rating"))[:2] == ["p09", "p01"]  # 4.9, 4.8, the rest 4.5
    assert ids(search(client, sort="newest"))[:2] == ["p16", "p05"]  # a day old, ten days old


def test_sort_relevance_by_default_and_echoed(client: Any) -> None:
    resp = search(client, q="连衣裙")
    assert set(ids(resp)[:3]) == {"p10", "p11", "p12"}
    assert body(resp)["applied"]["filters"]["sort"] == "relevance"


def test_page_and_size(client: Any) -> None:
    full = _full_order(client, sort="price_asc")
    assert ids(search(client, sort="price_asc", page=2, size=5)) == full[5:10]
    assert ids(search(client, sort="price_asc", page=4, size=5)) == full[15:]
    assert ids(search(client, sort="price_asc", page=5, size=5)) == []


@pytest.mark.parametrize("params", [
    {"sort": "price_asc"}, {"sort": "sales"}, {"sort": "newest"}, {"sort": "rating"}, {},
    {"q": "手机"}, {"q": "白色", "sort": "price_desc"},
])
def test_search_after_pages_through_without_duplicates_or_gaps(client: Any, params: dict[str, Any]) -> None:
    full = _full_order(client, **params)
    seen: list[str] = []
    token = None
    for _ in range(20):
        page = body(search(client, size=3, **params, **({"search_after": token} if token else {})))
        seen += [h["id"] for h in page["hits"]]
        token = page["next"]
        if token is None:
            break
    assert seen == full, f"paged {seen} != one page {full}"


def test_search_after_is_bound_to_its_query(client: Any) -> None:
    token = body(search(client, sort="price_asc", size=3))["next"]
    assert_invalid(search(client, sort="price_desc", size=3, search_after=token), "search_after")
    assert_invalid(search(client, sort="price_asc", brand="华为", search_after=token), "search_after")
    assert_invalid(search(client, sort="price_asc", page=2, search_after=token), "search_after")


# ---------------------------------------------------------------- explain and highlight tags

def test_explain_shows_matched_terms_and_business_factors(client: Any) -> None:
    hit = body(search(client, q="手机", explain=True, size=1))["hits"][0]
    assert hit["id"] == "p01"
    ex = hit["explain"]
    assert "手机" in ex["matched"]["title_words"]
    biz = ex["business"]
    assert biz["sales"] == pytest.approx(0.15 * 3.699, abs=1e-3)  # 0.15 x log10(1 + 5000)
    assert biz["rating"] == pytest.approx(0.2 * 4.8 / 5, abs=1e-3)
    assert biz["stock_multiplier"] == 1.0
    assert ex["text_score"] * biz["multiplier"] == pytest.approx(hit["score"], rel=1e-3)
    assert "explain" not in body(search(client, q="手机", size=1))["hits"][0] or \
        body(search(client, q="手机", size=1))["hits"][0]["explain"] is None


def test_highlight_tags_are_the_clients(client: Any) -> None:
    hits = body(search(client, q="连衣裙", hl_pre="[[", hl_post="]]", category="女装/连衣裙"))["hits"]
    by_id = {h["id"]: h["highlight"] for h in hits}
    assert by_id["p10"] == "优衣库 法式碎花[[连衣裙]] 红色"
    assert by_id["p11"] == "ZARA 黑色长款[[连衣裙]]"


# ---------------------------------------------------------------- limits

@pytest.mark.parametrize(("params", "param"), [
    ({"size": 101}, "size"),
    ({"size": -1}, "size"),
    ({"category": "//"}, "category"),
    ({"page": 10_001}, "page"),
    ({"page": 101, "size": 100}, "page"),  # 10,100 results deep: only search_after goes there
    ({"q": "手" * 201}, "q"),
    ({"search_after": "not-a-token"}, "search_after"),
    ({"price_min": 500, "price_max": 100}, "price_min"),
    ({"price_min": -1}, "price_min"),
    ({"sort": "cheapest"}, "sort"),
    ({"attr.": "黑色"}, "attr."),
    ({"attr.颜色": ""}, "attr.颜色"),
    ({"shop_id": "shop one"}, "shop_id"),
    ({**{f"attr.a{i}": "x" for i in range(11)}}, "attr"),
])
def test_every_limit_is_a_422_naming_its_parameter(client: Any, params: dict[str, Any], param: str) -> None:
    assert_invalid(search(client, **params), param)


@pytest.mark.parametrize("params", [{}, {"q": "手机"}, {"q": "手机", "distinct": "true"},
                                    {"q": "耳机", "brand": "华为"}, {"q": "飞艇 华为"}])
def test_size_0_answers_the_total_and_the_facets_alone(client: Any, params: dict[str, Any]) -> None:
    """What a filter panel asks for (Algolia's hitsPerPage=0): the counts, no hits."""
    full, counts = body(search(client, **params)), body(search(client, size=0, **params))
    assert counts["hits"] == [] and counts["next"] is None
    assert counts["total"] == full["total"] > 0 and counts["facets"] == full["facets"]
    assert counts["applied"] == full["applied"]


def test_an_empty_category_filters_nothing(client: Any) -> None:
    assert body(search(client, category=" "))["total"] == body(search(client))["total"]


def test_the_deepest_allowed_page_answers(client: Any) -> None:
    assert body(search(client, page=100, size=100))["hits"] == []
    assert body(search(client, q="手" * 200))["total"] >= 0


def test_facets_are_on_every_answer(client: Any) -> None:
    assert set(facet(search(client, q="耳机"), "brand")) == {"华为", "小米", "苹果"}
