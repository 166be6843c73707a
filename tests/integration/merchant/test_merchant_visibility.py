"""GET /merchant/listings/{id}/visibility and GET /merchant/listings against real ES and Kafka."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from merchant_world import bearer


def visibility(client: TestClient, key: str, pid: str, q: str = "") -> dict[str, Any]:
    r = client.get(f"/merchant/listings/{pid}/visibility", params={"q": q} if q else {}, headers=bearer(key))
    assert r.status_code == 200, r.text
    return r.json()


def codes(ans: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in ans["eligible"]["reasons"]}


def assert_hidden_by(ans: dict[str, Any], code: str) -> None:
    assert code in codes(ans), ans["eligible"]["reasons"]
    assert codes(ans)[code]["effect"] == "hidden"
    assert ans["searchable"] is False
    assert ans["summary"].startswith("商品不可见")


def test_a_live_listing_is_visible_and_current(client: TestClient, merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-live")
    assert ans["searchable"] is True and ans["eligible"]["reasons"] == []
    idx = ans["indexed"]
    assert idx["version"] == 1 and idx["indexed_at"] and idx["event_id"] == "a-live-u1"
    assert idx["up_to_date"] is True and idx["pending"] == [] and idx["newest_version_in_stream"] == 1
    assert ans["summary"] == "商品可被搜索到"
    assert "unchecked" not in ans["eligible"]  # shop suspension is checked (test_shop_suspension.py)


@pytest.mark.parametrize(("pid", "code"), [("a-off", "off_shelf"), ("a-ban", "banned"), ("a-del", "deleted")])
def test_each_hiding_event_is_reported_with_its_code(client: TestClient, merchant_world: Any, pid: str,
                                                     code: str) -> None:
    ans = visibility(client, merchant_world.keys.a, pid)
    assert_hidden_by(ans, code)
    assert ans["indexed"]["version"] == 2


def test_zero_stock_patch_sinks_but_does_not_hide(client: TestClient, merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-nostock", q="羽绒服")
    r = codes(ans)["out_of_stock"]
    assert r["effect"] == "demoted" and r["stock"] == 0
    assert ans["searchable"] is True
    assert ans["eligible"]["stock_policy"]["out_of_stock"] == "shown_demoted"
    assert "库存为 0，商品被降权" in ans["summary"]
    assert any("库存为 0，商品被降权" in s for s in ans["suggestions"])
    assert ans["query"]["score"]["business"]["stock_multiplier"] == merchant_world.settings.ranking.out_of_stock
    assert ans["query"]["rank"]["marketplace"]["in_results"] is True


def test_dead_lettered_patch_is_reported_with_reason_time_and_event(client: TestClient,
                                                                     merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-dlq")
    r = codes(ans)["dead_lettered"]
    assert r["dlq_reason"] == "schema_violation" and r["event_id"] == "a-dlq-p2" and r["failed_at"]
    letter = ans["indexed"]["dead_letters"][0]
    assert letter["current"] is True and letter["version"] == 2 and "price" in letter["detail"]
    assert ans["searchable"] is True and ans["indexed"]["version"] == 1  # the old version still shows


def test_a_product_only_in_the_dlq_is_not_indexed_and_dead_lettered(client: TestClient,
                                                                    merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-new-dlq")
    assert_hidden_by(ans, "not_indexed")
    assert codes(ans)["dead_lettered"]["dlq_reason"] == "schema_violation"
    assert ans["indexed"]["in_index"] is False


def test_a_version_in_flight_is_pending(client: TestClient, merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-pending")
    idx = ans["indexed"]
    assert idx["version"] == 1 and idx["newest_version_in_stream"] == 2 and idx["up_to_date"] is False
    assert [(e["version"], e["event_id"], e["type"]) for e in idx["pending"]] == [(2, "a-pending-p2", "patch")]
    assert codes(ans)["pending"]["versions"] == [2]
    assert idx["stream"]["committed_offset"] is not None
    assert idx["stream"]["committed_offset"] <= idx["pending"][0]["offset"] < idx["stream"]["end_offset"]
    assert ans["searchable"] is True  # version 1 still shows meanwhile


def test_a_new_product_in_flight_is_not_indexed_and_pending(client: TestClient, merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-new-pending")
    assert_hidden_by(ans, "not_indexed")
    assert codes(ans)["pending"]["versions"] == [1]
    assert "shop_id" not in ans["indexed"]["pending"][0]


def test_query_explains_tokens_matches_and_missing_terms(client: TestClient, merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-twin", q="加厚羽绒服")
    q = ans["query"]
    assert q["query_tokens"]["words"] == ["加厚", "羽绒", "羽绒服"]
    assert "羽绒服" in q["title_tokens"]["title_words"]
    assert "羽绒服" in q["fields"]["title_words"]["matched"] and "加厚" in q["fields"]["title_words"]["missing"]
    assert q["missing_terms"] == ["加厚"] and q["missing_messages"] == ["标题中没有『加厚』"]
    assert "标题不含查询词『加厚』" in ans["suggestions"]
    assert q["score"]["text_score"] > 0 and set(q["score"]["business"]) >= {"sales", "rating", "multiplier"}
    assert ans["summary"].startswith("商品可被搜索到，在『加厚羽绒服』的全站结果中排第 ")


def test_a_query_nothing_matches_says_search_falls_back(client: TestClient, merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-live", q="zqxjv")
    rank = ans["query"]["rank"]["marketplace"]
    assert rank["in_results"] is False and rank["total"] == 0 and "纠错或放宽" in rank["note"]
    assert "但不在『zqxjv』的结果中" in ans["summary"]


def search_position(client: TestClient, pid: str, **params: Any) -> tuple[int | None, int]:
    """The 1-based position of ``pid`` in real /search results (paging through all)."""
    pos, page = 0, 1
    while True:
        r = client.get("/search", params={**params, "size": 100, "page": page})
        assert r.status_code == 200, r.text
        body = r.json()
        for h in body["hits"]:
            pos += 1
            if h["id"] == pid:
                return pos, body["total"]
        if len(body["hits"]) < 100:
            return None, body["total"]
        page += 1


@pytest.mark.parametrize(("key", "pid", "q"), [
    ("a", "a-live", "羽绒服"), ("a", "a-twin", "羽绒服"), ("b", "b-twin", "羽绒服"), ("b", "b-live", "加厚羽绒服"),
    ("a", "a-nostock", "羽绒服"), ("a", "a-live", "保暖"), ("b", "b-vest", "羽绒服 保暖"), ("a", "a-twin", "女款"),
])
def test_rank_equals_the_position_in_a_real_search(client: TestClient, merchant_world: Any, key: str, pid: str,
                                                   q: str) -> None:
    ans = visibility(client, getattr(merchant_world.keys, key), pid, q=q)
    rank = ans["query"]["rank"]
    expected, total = search_position(client, pid, q=q)
    assert (rank["marketplace"]["position"], rank["marketplace"]["total"]) == (expected, total)
    expected_shop, shop_total = search_position(client, pid, q=q, shop_id=ans["shop_id"])
    assert (rank["storefront"]["position"], rank["storefront"]["total"]) == (expected_shop, shop_total)


def test_tied_scores_rank_by_id_as_search_does(client: TestClient, merchant_world: Any) -> None:
    a = visibility(client, merchant_world.keys.a, "a-twin", q="轻薄羽绒服")["query"]
    b = visibility(client, merchant_world.keys.b, "b-twin", q="轻薄羽绒服")["query"]
    assert a["score"]["total"] == b["score"]["total"]
    assert b["rank"]["marketplace"]["position"] == a["rank"]["marketplace"]["position"] + 1


def test_competitors_are_searchable_others_only(client: TestClient, merchant_world: Any) -> None:
    ans = visibility(client, merchant_world.keys.a, "a-shoes", q="羽绒服")
    comps = ans["query"]["competitors"]
    assert len(comps) == 3
    assert all(c["id"] != "a-shoes" for c in comps)
    ids = {c["id"] for c in comps}
    assert not ids & {"b-off", "b-secret", "a-off", "a-ban", "a-del", "a-new-pending", "a-new-dlq"}
    assert "秘密" not in str(ans) and "机密" not in str(ans)
    scores = [c["score"] for c in comps]
    assert scores == sorted(scores, reverse=True)


def test_hidden_listings_are_the_shops_own_with_reasons(client: TestClient, merchant_world: Any) -> None:
    r = client.get("/merchant/listings", params={"status": "hidden"}, headers=bearer(merchant_world.keys.a))
    assert r.status_code == 200, r.text
    body = r.json()
    reasons = {x["product_id"]: [c["code"] for c in x["reasons"]] for x in body["listings"]}
    assert reasons == {"a-off": ["off_shelf"], "a-ban": ["banned"], "a-del": ["deleted"],
                       "a-new-dlq": ["not_indexed", "dead_lettered"], "a-new-pending": ["not_indexed", "pending"]}
    assert body["total"] == 5
    pages = [client.get("/merchant/listings", params={"size": 2, "page": p},
                        headers=bearer(merchant_world.keys.a)).json() for p in (1, 2, 3, 4)]
    assert [len(p["listings"]) for p in pages] == [2, 2, 1, 0]
    assert [x["product_id"] for p in pages for x in p["listings"]] == [x["product_id"] for x in body["listings"]]
    demoted = client.get("/merchant/listings", params={"status": "demoted"},
                         headers=bearer(merchant_world.keys.a)).json()
    assert [x["product_id"] for x in demoted["listings"]] == ["a-nostock"]
    b = client.get("/merchant/listings", headers=bearer(merchant_world.keys.b)).json()
    assert [x["product_id"] for x in b["listings"]] == ["b-off", "b-secret"]
