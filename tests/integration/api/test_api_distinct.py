"""``distinct=true`` folds identical listings (同款) into one hit, on real ES.

Marketplaces list the same product many times: in the shared catalogs, 1,812 of Product1M's
9,220 titles and 4,928 of the NER catalog's 7,998 have an exact twin, up to 106 copies of
one title. The fixture catalog here: one phone listed four times by three shops (its titles
differ only in width, case, punctuation and traditional characters), one twice, and two
listings that stand alone; one copy is off the shelf and must not be counted.
"""

from __future__ import annotations

import uuid

import pytest
from api_assertions import assert_invalid, body, facet
from api_catalog import S1, S2, S3, _p, create_catalog, drop_catalog, served_catalog
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from indexer.admin import add_missing_fields, create_index
from search_api.main import create_app
from search_api.settings import ApiSettings

PHONE = ["手机数码", "手机"]
PRODUCTS = [
    # One phone, four listings; the text differs only in what normalisation removes.
    _p("d-a1", S1, "华为Mate60 Pro 12+512G 雅川青", "华为", PHONE, {}, 6999, sales=900),
    _p("d-a2", S2, "华为MATE60 PRO，12+512G，雅川青", "华为", PHONE, {}, 6799, sales=50),
    _p("d-a3", S3, "華為ＭＡＴＥ６０ Pro 12+512G 雅川青", "华为", PHONE, {}, 7099, sales=10),
    _p("d-a4", S3, "华为mate60 pro 12+512g 雅川青", "华为", PHONE, {}, 6899, sales=10),
    _p("d-a5", S2, "华为Mate60 Pro 12+512G 雅川青", "华为", PHONE, {}, 5999, status="off_shelf"),
    # Another phone, twice.
    _p("d-b1", S1, "华为Mate60 12+256G 白沙银", "华为", PHONE, {}, 5499, sales=300),
    _p("d-b2", S2, "华为Mate60 12+256G 白沙银", "华为", PHONE, {}, 5399, sales=30),
    # Alone: a different storage, a different model.
    _p("d-c1", S1, "华为Mate60 12+512G 白沙银", "华为", PHONE, {}, 5999, sales=100),
    _p("d-d1", S1, "小米14 Pro 16+512G 黑色", "小米", PHONE, {}, 4999, sales=500),
]


distinct_client = served_catalog("distinct", PRODUCTS)


def test_identical_listings_fold_into_their_best_with_a_count(distinct_client: TestClient) -> None:
    plain = body(distinct_client.get("/search", params={"q": "华为mate60"}))
    out = body(distinct_client.get("/search", params={"q": "华为mate60", "distinct": "true"}))
    assert plain["total"] == out["total"] == 7  # the total counts listings either way
    assert len(plain["hits"]) == 7
    assert out["applied"]["distinct"] is True
    groups = {h["id"]: h["listings"] for h in out["hits"]}
    # d-a1 leads its group on relevance (the same text) through its sales; d-b1 likewise.
    assert groups == {"d-a1": 4, "d-b1": 2, "d-c1": 1}
    # The order is the plain order with the folded copies taken out.
    assert [h["id"] for h in out["hits"]] == [h["id"] for h in plain["hits"] if h["id"] in groups]


def test_the_group_is_led_by_the_requested_sort(distinct_client: TestClient) -> None:
    out = body(distinct_client.get("/search", params={"q": "华为mate60", "distinct": "true", "sort": "price_asc"}))
    assert [(h["id"], h["price"], h["listings"]) for h in out["hits"]] == [
        ("d-b2", 5399, 2), ("d-c1", 5999, 1), ("d-a2", 6799, 4)]  # the off-shelf 5999 copy never shows


def test_facets_still_count_listings(distinct_client: TestClient) -> None:
    plain = distinct_client.get("/search", params={"q": "华为mate60"})
    folded = distinct_client.get("/search", params={"q": "华为mate60", "distinct": "true"})
    assert facet(folded, "brand") == facet(plain, "brand") == {"华为": 7}


def test_browsing_and_storefronts_fold_too(distinct_client: TestClient) -> None:
    out = body(distinct_client.get("/search", params={"distinct": "true"}))
    assert out["total"] == 8 and sorted(h["listings"] for h in out["hits"]) == [1, 1, 2, 4]
    shop = body(distinct_client.get("/search", params={"distinct": "true", "shop_id": S3}))
    assert [(h["id"], h["listings"]) for h in shop["hits"]] == [("d-a3", 2)]  # S3 lists the phone twice


def test_paging_folds_page_by_page(distinct_client: TestClient) -> None:
    first = body(distinct_client.get("/search", params={"q": "华为mate60", "distinct": "true", "size": 2}))
    second = body(distinct_client.get("/search", params={"q": "华为mate60", "distinct": "true", "size": 2,
                                                          "page": 2}))
    assert first["next"] is None  # search_after cannot page a fold
    assert [h["id"] for h in first["hits"] + second["hits"]] == ["d-a1", "d-b1", "d-c1"]


def test_distinct_with_search_after_is_a_422_naming_it(distinct_client: TestClient) -> None:
    token = body(distinct_client.get("/search", params={"q": "华为mate60", "size": 2}))["next"]
    resp = distinct_client.get("/search", params={"q": "华为mate60", "size": 2, "distinct": "true",
                                                  "search_after": token})
    assert_invalid(resp, "distinct")


def test_an_index_made_before_listing_keys_says_distinct_is_unavailable(api_es: Elasticsearch,
                                                                         api_es_url: str) -> None:
    """Its documents lack the key, and a collapse would fold them all into one hit: the search
    runs unfolded and says why, until `catalog reindex` builds an index with the keys."""
    alias = f"t{uuid.uuid4().hex[:10]}-oldmap"
    name = f"{alias}-v1"
    try:
        create_catalog(api_es, alias, PRODUCTS[:3])
        mapping = api_es.indices.get_mapping(index=name)[name]["mappings"]
        api_es.indices.delete(index=name)
        del mapping["properties"]["listing_key"]
        mapping["_meta"]["mapping_version"] = 3
        api_es.indices.create(index=name, mappings=mapping)
        api_es.indices.put_alias(index=name, name=alias)
        api_es.index(index=name, id="old-1", document={"product_id": "old-1", "title": "华为Mate60 Pro",
                                                       "title_words": "华为 mate60 pro",
                                                       "title_chars": "华 为 mate 60 pro", "searchable": True,
                                                       "visible": True}, refresh=True)
        with TestClient(create_app(ApiSettings(es_url=api_es_url, index=alias))) as c:
            out = body(c.get("/search", params={"q": "华为mate60", "distinct": "true"}))
        assert out["applied"]["distinct"] is False and "catalog reindex" in out["applied"]["distinct_unavailable"]
        assert [h["id"] for h in out["hits"]] == ["old-1"] and "listings" not in out["hits"][0]
        # The indexer, started on such an index, adds the field in place (writes would be refused
        # by the strict mapping otherwise) and leaves the version for the reindex to raise.
        from analyzers import get_analyzer

        assert add_missing_fields(api_es, name, get_analyzer()) == ["listing_key"]
        assert add_missing_fields(api_es, name, get_analyzer()) == []
        assert api_es.indices.get_mapping(index=name)[name]["mappings"]["_meta"]["mapping_version"] == 3
    finally:
        drop_catalog(api_es, alias)


def test_a_new_index_has_the_field(api_es: Elasticsearch) -> None:
    name = f"t{uuid.uuid4().hex[:10]}-fresh"
    try:
        from analyzers import get_analyzer

        create_index(api_es, name, get_analyzer())
        assert add_missing_fields(api_es, name, get_analyzer()) == []
    finally:
        api_es.options(ignore_status=404).indices.delete(index=name)


@pytest.mark.parametrize("q", ["华为", "huawei", "华为mate60"])
def test_suggestions_show_each_listing_title_once(distinct_client: TestClient, q: str) -> None:
    """Four listings of one phone are one line to suggest: the best-selling one."""
    out = body(distinct_client.get("/suggest", params={"q": q}))
    assert [p["id"] for p in out["products"]] == ["d-a1", "d-b1", "d-c1"]
