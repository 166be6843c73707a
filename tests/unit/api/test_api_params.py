"""Pure pieces of the search API: price intent, search_after tokens, attribute parameters,
price buckets. Milliseconds, no services."""

from __future__ import annotations

from itertools import pairwise

import pytest
from starlette.datastructures import QueryParams

from schemas.errors import InvalidParameter
from search_api.facets import _price_buckets, build_aggs, parse_facets
from search_api.intent import parse_price_intent
from search_api.params import (
    SearchParams,
    SearchQuery,
    SortMode,
    SuggestQuery,
    decode_after,
    encode_after,
    parse_attr_params,
    parse_query,
    printable,
    query_parameters,
)


@pytest.mark.parametrize(("q", "text", "lo", "hi", "cheap"), [
    ("手机500元以下", "手机", None, 500, False),
    ("连衣裙100-200元", "连衣裙", 100, 200, False),
    ("耳机 200到100块", "耳机", 100, 200, False),
    ("不超过80元的 T恤", "的 T恤", None, 80, False),
    ("羽绒服1000元以上", "羽绒服", 1000, None, False),
    ("便宜连衣裙", "连衣裙", None, None, True),
    ("手机５００元以下", "手机", None, 500, False),  # full-width digits
    ("耳机100元内", "耳机", None, 100, False),
    ("耳机100以内", "耳机", None, 100, False),
    ("玩具 低于50的", "玩具 的", None, 50, False),
    ("diy手工礼物高于50", "diy手工礼物", 50, None, False),
    ("柜子 宽 100元以下", "柜子 宽", None, 100, False),  # yuan said: a price even after a measure
    ("宽度 40以内 柜子 200元以下", "宽度 40以内 柜子", None, 200, False),
])
def test_price_intent(q: str, text: str, lo: float | None, hi: float | None, cheap: bool) -> None:
    rest, intent = parse_price_intent(q)
    assert intent is not None and rest == text
    assert (intent.price_min, intent.price_max, intent.cheap) == (lo, hi, cheap)


@pytest.mark.parametrize("q", ["iphone 15", "小米14 Ultra", "3-4人 帐篷", "1.5L 电水壶"])
def test_a_bare_number_is_no_price(q: str) -> None:
    assert parse_price_intent(q) == (q, None)


@pytest.mark.parametrize("q", [
    "ddr3内存条", "iphone12内存", "小米8内屏", "奥迪q5内饰", "dn50内丝阀门", "荣威350内顶", "600-12内胎",
    "hp dl380g6 内存", "小于2厘米的丝绸鞋带",
])
def test_a_model_or_a_word_starting_with_nei_is_no_price(q: str) -> None:
    """Real queries: 内 after a bare number starts a word (内存, 内屏, 内饰), and a number glued
    to letters is a model (ddr3, y510). Taken as 3元以内, ddr3内存条 found nothing."""
    assert parse_price_intent(q) == (q, None)


@pytest.mark.parametrize("q", ["卫浴浴室柜太空铝宽40以内", "身高160以下 连衣裙", "长度50以下", "尺寸30以下",
                               "腰围80以下", "年龄3以下"])
def test_a_number_after_a_measure_is_that_measure(q: str) -> None:
    """宽40以内 is a width (a real query was searched under 40 yuan), 身高160以下 a height."""
    assert parse_price_intent(q) == (q, None)


def test_search_after_round_trip_and_binding() -> None:
    p = SearchParams(q="手机", sort=SortMode.PRICE_ASC)
    token = encode_after([199.0, "p08"], p)
    assert decode_after(token, p) == [199.0, "p08"]
    with pytest.raises(InvalidParameter) as err:
        decode_after(token, SearchParams(q="手机", sort=SortMode.PRICE_DESC))
    assert err.value.param == "search_after"


@pytest.mark.parametrize("values", [[], ["x", "p1"], [1.0], [True, "p1"], [1.0, 2], [None, "p1"],
                                    [1.0, "p1", 3], [1.0, ""]])
def test_forged_search_after_values_are_rejected(values: list[object]) -> None:
    p = SearchParams()
    with pytest.raises(InvalidParameter):
        decode_after(encode_after(values, p), p)


@pytest.mark.parametrize("token", ["", "!!!", "e30", "bnVsbA", "W10"])
def test_garbage_tokens_are_rejected(token: str) -> None:
    with pytest.raises(InvalidParameter):
        decode_after(token, SearchParams())


def test_attr_params() -> None:
    qp = QueryParams([("attr.颜色", "黑色"), ("attr.颜色", " 白色 "), ("attr.尺码", "M"), ("q", "x")])
    assert parse_attr_params(qp) == {"颜色": ["黑色", "白色"], "尺码": ["M"]}
    for bad in ([("attr.", "x")], [("attr.a=b", "x")], [("attr.颜色", " ")], [("attr.颜色", "x" * 101)]):
        with pytest.raises(InvalidParameter):
            parse_attr_params(QueryParams(bad))


def test_page_depth_and_price_order() -> None:
    with pytest.raises(InvalidParameter) as err:
        SearchParams(page=101, size=100).validate()
    assert err.value.param == "page"
    SearchParams(page=100, size=100).validate()
    with pytest.raises(InvalidParameter) as err:
        SearchParams(price_min=2, price_max=1).validate()
    assert err.value.param == "price_min"


def test_printable_drops_control_characters() -> None:
    assert printable("连\x1f衣\x00裙\u200b") == "连衣裙"


def _b(lo: float, hi: float | None, n: int) -> dict[str, object]:
    return {"from": lo, "to": hi, "doc_count": n}


def test_price_buckets_merge_into_about_five_with_exact_counts() -> None:
    fine = [_b(0, 10, 0), _b(10, 20, 10), _b(20, 30, 10), _b(30, 50, 10), _b(50, 80, 10), _b(80, 100, 10),
            _b(100, 150, 10), _b(150, 200, 10), _b(200, 300, 10), _b(300, 500, 10), _b(500, None, 10)]
    out = _price_buckets(fine)
    assert sum(b["count"] for b in out) == 100
    assert 4 <= len(out) <= 6
    assert out[0]["min"] == 10 and out[-1]["max"] is None and out[-1]["label"].endswith("+")
    assert all(a["max"] == b["min"] for a, b in pairwise(out))
    assert _price_buckets([_b(0, 10, 0)]) == []


def test_the_query_string_is_coerced_as_fastapi_would() -> None:
    got = parse_query(SearchQuery, QueryParams(
        "q=手机&page=2&size=5&in_stock=true&explain=1&price_min=9.5&sort=price_asc&brand=华为&brand=小米&page=3"))
    assert (got.q, got.page, got.size, got.in_stock, got.explain, got.price_min, got.sort) == \
        ("手机", 3, 5, True, True, 9.5, SortMode.PRICE_ASC)  # a repeated scalar: its last value
    assert got.brand == ["华为", "小米"]  # a list: every value
    empty = parse_query(SearchQuery, QueryParams("attr.颜色=黑色&unknown=1"))
    assert empty == SearchQuery()  # unknown and dynamic names are not the model's business


@pytest.mark.parametrize(("qs", "param"), [
    ("size=101", "size"), ("size=abc", "size"), ("page=0", "page"), ("price_min=-1", "price_min"),
    ("price_max=", "price_max"), ("sort=cheapest", "sort"), ("in_stock=maybe", "in_stock"),
    ("shop_id=a%20b", "shop_id"), ("q=" + "x" * 201, "q"), ("hl_pre=" + "<" * 21, "hl_pre"),
    ("brand=" + "&brand=".join("b" * 21), "brand"),
])
def test_a_bad_parameter_is_a_422_that_names_it(qs: str, param: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        parse_query(SearchQuery, QueryParams(qs))
    assert err.value.param == param and err.value.detail.startswith(f"{param}: ")


def test_the_models_document_every_parameter_in_openapi() -> None:
    params = {p["name"]: p for p in query_parameters(SearchQuery)}
    assert list(params) == list(SearchQuery.model_fields)
    assert params["sort"]["schema"]["enum"] == [m.value for m in SortMode]  # inlined, no dangling $ref
    assert params["size"]["schema"]["maximum"] == 100 and params["brand"]["schema"]["type"] == "array"
    assert all(p["in"] == "query" and not p["required"] for p in params.values())
    assert [p["name"] for p in query_parameters(SuggestQuery)] == ["q", "shop_id", "size"]


def test_the_query_model_and_the_search_params_agree() -> None:
    """Every documented parameter reaches the search, with the same defaults as a search made
    in code (the merchant's rank, the benchmarks): the two definitions cannot drift apart."""
    assert SearchParams.from_query(SearchQuery(), {}) == SearchParams()
    got = SearchParams.from_query(parse_query(SearchQuery, QueryParams(
        "q=+手机+&brand=华为&brand=&shop_id=s1&sort=sales&page=2&size=7&hl_pre=[&hl_post=]")), {"颜色": ["黑色"]})
    assert got == SearchParams(q="手机", brand=["华为"], shop_id="s1", sort=SortMode.SALES, page=2, size=7,
                               hl_pre="[", hl_post="]", attrs={"颜色": ["黑色"]})


def test_facet_aggs_are_filtered_only_by_the_other_facets_selections() -> None:
    brand = [{"terms": {"brand": ["华为"]}}]
    color = [{"term": {"attrs": "颜色=黑色"}}]
    aggs = build_aggs({"brand": brand, "attr:颜色": color}, ["颜色"])
    # Brand counts ignore the brand selection but respect the colour, and the other way round.
    assert aggs["f_brand"]["filter"] == {"bool": {"filter": color}}
    assert aggs["f_attr_0"]["filter"] == {"bool": {"filter": brand}}
    assert aggs["f_category"]["filter"] == {"bool": {"filter": brand + color}}
    assert aggs["f_brand"]["aggs"]["v"]["terms"]["field"] == "brand"


def test_facet_aggs_without_selections_are_not_wrapped_and_parse_alike() -> None:
    """With no facet selected (most searches) each facet is its bare aggregation: a filter
    aggregation of ``match_all`` around it costs ES CPU for nothing."""
    bare = build_aggs({}, [])
    assert set(bare) == {"f_category", "f_brand", "f_price", "f_attrs"}
    assert all("filter" not in agg for agg in bare.values())
    assert bare["f_brand"] == {"terms": {"field": "brand", "size": 20}}
    terms = [{"key": "华为", "doc_count": 3}]
    ranges = [{"from": 0, "to": 10, "doc_count": 2}]
    attrs = [{"key": "颜色=黑色", "doc_count": 2}]
    cats = [{"key": "手机数码", "doc_count": 3}, {"key": "手机数码/手机", "doc_count": 3}]
    unwrapped = {"f_category": {"buckets": cats}, "f_brand": {"buckets": terms},
                 "f_price": {"buckets": ranges}, "f_attrs": {"buckets": attrs}}
    wrapped = {name: {"doc_count": 9, "v": agg} for name, agg in unwrapped.items()}
    assert parse_facets(unwrapped, []) == parse_facets(wrapped, [])
    assert parse_facets(unwrapped, [])["brand"] == [{"value": "华为", "count": 3}]
