"""Tenant isolation: 2 shops × every merchant endpoint × ids × keys, and the failed-attempt limits.

A cell leaks if it answers anything but the owner's own listing with 200, if a 404 for
another shop's id differs from the 404 for a missing id in anything but the id echoed,
or if any non-200 body carries another listing's data.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch
from fastapi.testclient import TestClient
from merchant_world import MISSING, A, B, bearer, merchant_settings

from search_api.keys import KeyStore
from search_api.main import create_app

OWN = {A: "a-live", B: "b-live"}
#: Other shop's ids: indexed and on shelf, off shelf, and only in flight (never indexed).
OTHERS = {A: ["b-live", "b-off", "b-secret"], B: ["a-live", "a-off", "a-new-pending", "a-new-dlq"]}
SECRETS = ["秘密", "机密", "加厚羽绒服 男款", "羽绒服 男 加厚", "旧款", "预售", "未入库"]


def key_for(world: Any, shop: str, kind: str) -> str | None:
    k = world.keys
    valid = k.a if shop == A else k.b
    return {"none": None, "valid": valid, "revoked": k.a_revoked, "malformed": "pk_zz_not-a-key",
            "wrong_secret": valid[:-8] + "00000000", "not_bearer": valid}[kind]


def call(client: TestClient, endpoint: str, pid: str | None, key: str | None, kind: str) -> Any:
    headers = {"Authorization": f"Basic {key}"} if kind == "not_bearer" else bearer(key)
    if endpoint == "visibility":
        return client.get(f"/merchant/listings/{pid}/visibility", params={"q": "羽绒服"}, headers=headers)
    return client.get("/merchant/listings", params={"status": "hidden"}, headers=headers)


BAD_KEYS = ["none", "revoked", "malformed", "wrong_secret", "not_bearer"]


@pytest.mark.parametrize(("shop", "endpoint", "target", "kind"), [
    (shop, endpoint, target, kind)
    for shop, endpoint, kind in itertools.product((A, B), ("visibility", "listings"), ["valid", *BAD_KEYS])
    for target in (("own", "other", "missing") if endpoint == "visibility" else ("none",))
])
def test_isolation_matrix(client: TestClient, merchant_world: Any, shop: str, endpoint: str, target: str,
                          kind: str) -> None:
    pids = {"own": [OWN[shop]], "other": OTHERS[shop], "missing": [MISSING], "none": [None]}[target]
    for pid in pids:
        r = call(client, endpoint, pid, key_for(merchant_world, shop, kind), kind)
        if kind != "valid":
            assert r.status_code == 401, (pid, r.text)
            assert r.json() == {"error": "unauthorized",
                                "detail": "missing, malformed, unknown or revoked API key"}
            continue
        if target in ("other", "missing"):
            assert r.status_code == 404, (pid, r.text)
            assert r.json() == {"error": "not_found", "detail": f"no listing {pid!r} in your shop"}
            continue
        assert r.status_code == 200, r.text
        body = r.json()
        if endpoint == "visibility":
            assert body["shop_id"] == shop and body["product_id"] == pid
        else:
            assert body["listings"] and all(x["product_id"].startswith(shop[-1] + "-") for x in body["listings"])
        text = r.text
        for pid_other in OTHERS[shop]:
            # another shop's listing may appear only as a searchable competitor
            if pid_other in text:
                comps = body.get("query", {}).get("competitors", [])
                assert pid_other in {c["id"] for c in comps}, pid_other
                assert pid_other not in ("b-off", "b-secret", "a-off", "a-new-pending", "a-new-dlq")


def test_404_for_another_shop_is_indistinguishable_from_missing(client: TestClient, merchant_world: Any) -> None:
    def norm(pid: str) -> tuple[int, dict[str, Any], set[str]]:
        r = call(client, "visibility", pid, merchant_world.keys.a, "valid")
        body = r.json()
        body["detail"] = body["detail"].replace(repr(pid), "<id>")
        return r.status_code, body, set(r.headers) - {"content-length", "date"}

    assert norm("b-live") == norm(MISSING) == norm("b-secret") == norm("b-off")


def test_non_200_bodies_carry_no_listing_data(client: TestClient, merchant_world: Any) -> None:
    for kind, pid in itertools.product(BAD_KEYS, ["a-live", "b-live", "b-secret"]):
        r = call(client, "visibility", pid, key_for(merchant_world, A, kind), kind)
        assert r.status_code == 401
        assert not any(s in r.text for s in SECRETS) and pid not in r.text


def test_a_valid_key_records_its_last_use(client: TestClient, merchant_world: Any) -> None:
    async def rows() -> list[dict[str, Any]]:
        es = AsyncElasticsearch(merchant_world.settings.es_url)
        try:
            store = KeyStore(es, index=merchant_world.settings.merchant.keys_index)
            return await store.list_keys(A)
        finally:
            await es.close()

    assert call(client, "listings", None, merchant_world.keys.a, "valid").status_code == 200
    merchant_world.es.indices.refresh(index=merchant_world.settings.merchant.keys_index)
    by_id = {r["key_id"]: r for r in asyncio.run(rows())}
    assert by_id[merchant_world.keys.a_id]["last_used_at"]
    assert all("hash" not in r and "salt" not in r for r in by_id.values())
    stored = merchant_world.es.get(index=merchant_world.settings.merchant.keys_index, id=merchant_world.keys.a_id)
    assert merchant_world.keys.a.split("_")[2] not in str(stored)  # the secret is never stored


def test_failed_attempts_per_key_id_get_429_even_for_the_right_key(merchant_world: Any) -> None:
    settings = merchant_settings(merchant_world.settings, max_failures_per_key=3, max_failures_per_address=100)
    with TestClient(create_app(settings)) as c:
        wrong = key_for(merchant_world, A, "wrong_secret")
        assert [call(c, "listings", None, wrong, "wrong").status_code for _ in range(3)] == [401] * 3
        r = call(c, "listings", None, merchant_world.keys.a, "valid")
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        assert call(c, "listings", None, merchant_world.keys.b, "valid").status_code == 200  # other key ids


def test_failed_attempts_per_address_get_429(merchant_world: Any) -> None:
    settings = merchant_settings(merchant_world.settings, max_failures_per_key=100, max_failures_per_address=4)
    with TestClient(create_app(settings)) as c:
        statuses = [call(c, "visibility", "a-live", k, kind).status_code
                    for kind in ("none", "malformed", "revoked", "wrong_secret")
                    for k in [key_for(merchant_world, A, kind)]]
        assert statuses == [401] * 4
        r = call(c, "visibility", "a-live", merchant_world.keys.b, "valid")
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
