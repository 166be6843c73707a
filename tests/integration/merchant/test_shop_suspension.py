"""A suspended shop vanishes from every storefront path at once, and its merchant is told why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import merchant_world as world
import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from indexer.cli import app as catalog
from search_api.shops import set_suspended


@pytest.fixture
def suspended_a(merchant_world: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    s = merchant_world.settings
    monkeypatch.setenv("POCKET_ES_URL", s.es_url)
    monkeypatch.setenv("POCKET_SHOPS_INDEX", s.shops_index)
    result = CliRunner().invoke(catalog, ["shops", "suspend", world.A, "--reason", "资质过期"])
    assert result.exit_code == 0, result.output
    yield world.A
    set_suspended(merchant_world.es, s.shops_index, world.A, None)


def hit_ids(client: TestClient, **params: Any) -> list[str]:
    resp = client.get("/search", params={"size": 100, **params})
    assert resp.status_code == 200, resp.text
    return [h["id"] for h in resp.json()["hits"]]


def test_suspension_hides_the_shop_everywhere_and_resume_brings_it_back(
    client: TestClient, merchant_world: Any, suspended_a: str
) -> None:
    assert "a-live" not in hit_ids(client, q="羽绒服")
    assert "b-live" in hit_ids(client, q="羽绒服")  # other shops unaffected
    assert hit_ids(client, q="羽绒服", shop_id=world.A) == []
    body = client.get("/search", params={"q": "羽绒服", "size": 100}).json()
    assert sum(c["count"] for c in body["facets"]["category"]) == body["total"] == len(body["hits"])
    assert client.get("/products/a-live").status_code == 404
    suggested = client.get("/suggest", params={"q": "加厚羽绒"}).json()["products"]
    assert all(not p["id"].startswith("a-") for p in suggested)

    ans = client.get("/merchant/listings/a-live/visibility", params={"q": "羽绒服"},
                     headers={"Authorization": f"Bearer {merchant_world.keys.a}"}).json()
    assert ans["searchable"] is False
    first = ans["eligible"]["reasons"][0]
    assert first["code"] == "shop_suspended" and first["effect"] == "hidden" and first["reason"] == "资质过期"
    hidden = client.get("/merchant/listings", params={"status": "hidden", "size": 100},
                        headers={"Authorization": f"Bearer {merchant_world.keys.a}"}).json()
    assert "a-live" in {x["product_id"] for x in hidden["listings"]}

    listed = CliRunner().invoke(catalog, ["shops", "list", "--json"])
    assert orjson.loads(listed.stdout)[world.A]["reason"] == "资质过期"
    resumed = CliRunner().invoke(catalog, ["shops", "resume", world.A])
    assert resumed.exit_code == 0, resumed.output
    assert "a-live" in hit_ids(client, q="羽绒服")
    assert client.get("/products/a-live").status_code == 200
