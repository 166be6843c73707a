"""GET /suggest, /products/{id}, /healthz, /readyz, and Elasticsearch being unreachable."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from api_assertions import assert_invalid, assert_nothing_hidden, assert_unavailable, body
from api_catalog import S1, S2
from fastapi.testclient import TestClient

from search_api.main import create_app
from search_api.settings import ApiSettings

DRESSES = {"p10", "p11", "p12"}


def suggest(client: Any, **params: Any) -> dict[str, Any]:
    resp = client.get("/suggest", params=params)
    assert_nothing_hidden(resp)
    return body(resp)


def suggested_ids(out: dict[str, Any]) -> set[str]:
    return {p["id"] for p in out["products"]}


@pytest.mark.parametrize("q", ["连衣", "lianyi", "lianyiqun", "lyq", "连yi"])
def test_suggest_chinese_prefix_full_pinyin_initials_and_mixed(client: Any, q: str) -> None:
    out = suggest(client, q=q)
    assert suggested_ids(out) and suggested_ids(out) <= DRESSES, out
    assert out["categories"][0]["path"] == "女装/连衣裙"
    assert out["completions"][0] == {"text": "连衣裙", "count": 3}  # what the shopper is typing


@pytest.mark.parametrize("q", ["华为", "huawei", "hw"])
def test_suggest_completes_a_brand(client: Any, q: str) -> None:
    assert {"text": "华为", "count": 4} in suggest(client, q=q)["completions"]


@pytest.mark.parametrize("q", ["连衣", "lyq"])
def test_suggest_every_product_a_shared_word_completes(client: Any, q: str) -> None:
    """Every dress has the inputs 连衣裙, lianyiqun, lyq, 连yiqun ...: folding the options by the
    input they matched would leave one dress."""
    assert suggested_ids(suggest(client, q=q)) == DRESSES


def test_suggest_brand_prefix_and_pinyin(client: Any) -> None:
    assert suggested_ids(suggest(client, q="华为")) == {"p01", "p02", "p03", "p07"}
    assert suggested_ids(suggest(client, q="huawei")) == {"p01", "p02", "p03", "p07"}


def test_suggest_is_scoped_to_the_shop(client: Any) -> None:
    assert suggested_ids(suggest(client, q="hua", shop_id=S1)) == {"p01", "p02", "p03", "p07"}
    assert suggest(client, q="hua", shop_id=S2)["products"] == []
    assert suggested_ids(suggest(client, q="lyq", shop_id=S2)) <= DRESSES
    out = suggest(client, q="lyq", shop_id=S1)
    assert out["products"] == [] and out["categories"] == []


@pytest.mark.parametrize("q", ["魅族", "meizu", "平板", "pingban", "山寨", "旗袍", "qipao", "雅诗兰黛", "眼霜"])
def test_suggest_only_on_shelf(client: Any, q: str) -> None:
    out = suggest(client, q=q)
    assert out["products"] == [] and out["categories"] == []


def test_suggest_limits(client: Any) -> None:
    assert len(suggest(client, q="h", size=2)["products"]) <= 2
    assert suggest(client, q="   ")["products"] == [] and suggest(client, q="   ")["completions"] == []
    assert_invalid(client.get("/suggest", params={"q": "x" * 51}), "q")
    assert_invalid(client.get("/suggest", params={"size": 21}), "size")
    assert_invalid(client.get("/suggest", params={"q": "hua", "shop_id": "a b"}), "shop_id")


def test_product_on_shelf(client: Any) -> None:
    doc = body(client.get("/products/p15"))
    assert doc["id"] == "p15" and doc["title"] == "蘭蔻菁純面霜 50ml" and doc["price"] == 1350
    assert doc["attributes"] == {"净含量": "50ml"} and doc["shop_id"] == "shop-beauty"
    assert not {"meta", "suggest", "searchable", "title_words", "event_id"} & set(doc)


@pytest.mark.parametrize("pid", ["x-off", "x-ban", "x-del", "nope"])
def test_product_404_when_absent_off_shelf_banned_or_deleted(client: Any, pid: str) -> None:
    resp = client.get(f"/products/{pid}")
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"


def test_health_and_ready(client: Any) -> None:
    assert body(client.get("/healthz")) == {"status": "ok"}
    assert body(client.get("/readyz"))["status"] == "ready"


def test_ready_503_and_search_503_when_the_alias_is_missing(api_es_url: str) -> None:
    with TestClient(create_app(ApiSettings(es_url=api_es_url, index="tno-such-alias"))) as c:
        assert_unavailable(c.get("/readyz"))
        assert_unavailable(c.get("/search", params={"q": "手机"}))
        assert_unavailable(c.get("/suggest", params={"q": "hua"}))
        assert_unavailable(c.get("/products/p01"))
        assert c.get("/healthz").status_code == 200


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def test_elasticsearch_unreachable_is_503_with_retry_after(catalog: str) -> None:
    settings = ApiSettings(es_url=f"http://127.0.0.1:{_closed_port()}", index=catalog, request_timeout_s=2)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        for path, params in [("/search", {"q": "手机"}), ("/search", {"q": "便宜连衣裙"}), ("/search", {}),
                             ("/suggest", {"q": "lyq"}), ("/products/p01", {}), ("/readyz", {})]:
            assert_unavailable(c.get(path, params=params))
        assert c.get("/healthz").status_code == 200
        assert_invalid(c.get("/search", params={"size": 1000}), "size")  # validated before ES


def test_analyze_shows_tokens(client: Any) -> None:
    out = body(client.get("/analyze", params={"text": "華為手機"}))
    assert out["normalized"] == "华为手机" and "华为" in out["fields"]["title_words"]
    assert_invalid(client.get("/analyze"), "text")


def test_a_failed_shard_gives_partial_results_flagged(client: Any, api_es: Any, catalog: str) -> None:
    """An index behind the alias that cannot run the query (title_words is a number there):
    its shard fails, the other index still answers, and the response says it is partial."""
    broken = f"{catalog}-broken"
    api_es.indices.create(index=broken, mappings={"properties": {
        "title_words": {"type": "long"}, "searchable": {"type": "boolean"}}})
    try:
        api_es.index(index=broken, id="b1", document={"title_words": 1, "searchable": True}, refresh=True)
        api_es.indices.put_alias(index=broken, name=catalog)
        out = body(client.get("/search", params={"q": "华为手机"}))
        assert out["partial"] is True
        assert out["hits"] and {"p01", "p02"} <= {h["id"] for h in out["hits"]}
        assert "b1" not in {h["id"] for h in out["hits"]}
    finally:
        api_es.options(ignore_status=404).indices.delete(index=broken)
    assert body(client.get("/search", params={"q": "华为手机"}))["partial"] is False
