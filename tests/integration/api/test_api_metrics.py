"""GET /metrics of the API against real Elasticsearch: requests by route template and status,
how searches ended, and the ES gate (search_api/metrics.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from search_api.main import create_app
from search_api.settings import ApiSettings


@pytest.fixture
def fresh(api_es_url: str, catalog: str) -> Iterator[TestClient]:
    """An app of its own: its counters start at zero."""
    with TestClient(create_app(ApiSettings(es_url=api_es_url, index=catalog))) as c:
        yield c


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(resp.text) for s in fam.samples}


def test_requests_are_counted_by_route_template_and_status(fresh: TestClient) -> None:
    for q in ("连衣裙", "手机", "华为"):
        assert fresh.get("/search", params={"q": q}).status_code == 200
    assert fresh.get("/search", params={"size": 101}).status_code == 422
    for pid in ("p01", "nope-1", "nope-2"):
        fresh.get(f"/products/{pid}")
    got = scrape(fresh)
    assert got[("pocket_api_requests_total", (("route", "/search"), ("status", "200")))] == 3
    assert got[("pocket_api_requests_total", (("route", "/search"), ("status", "422")))] == 1
    # One series for every id: the template, not the path.
    assert got[("pocket_api_requests_total", (("route", "/products/{product_id}"), ("status", "200")))] == 1
    assert got[("pocket_api_requests_total", (("route", "/products/{product_id}"), ("status", "404")))] == 2
    assert got[("pocket_api_request_seconds_count", (("route", "/search"),))] == 4
    assert not [k for k in got if "nope" in str(k)]


def test_searches_are_counted_by_how_they_ended(fresh: TestClient) -> None:
    fresh.get("/search", params={"q": "连衣裙"})
    fresh.get("/search", params={"q": "连衣裙色飞艇坦克航母潜艇"})  # the strict search finds nothing
    fresh.get("/search", params={"q": "飞艇坦克"})  # nothing near
    fresh.get("/search")  # browsing: no text, not a search outcome
    got = scrape(fresh)
    assert got[("pocket_api_searches_total", (("outcome", "found"), ("step", "")))] == 1
    assert got[("pocket_api_searches_total", (("outcome", "recovered"), ("step", "relaxed")))] == 1
    assert got[("pocket_api_searches_total", (("outcome", "empty"), ("step", "")))] == 1
    assert sum(v for (name, _), v in got.items() if name == "pocket_api_searches_total") == 3


def test_suggestions_are_counted_by_how_they_ended(fresh: TestClient) -> None:
    for q in ("连衣", "连依裙", "飞艇坦"):  # found, found by its pinyin (a homophone typo), nothing
        assert fresh.get("/suggest", params={"q": q}).status_code == 200
    got = scrape(fresh)
    assert {k[1][0][1]: v for k, v in got.items() if k[0] == "pocket_api_suggests_total"} == {
        "found": 1, "fuzzy": 1, "empty": 1}


def test_the_es_gate_is_exposed(fresh: TestClient) -> None:
    fresh.get("/search", params={"q": "手机"})
    got = scrape(fresh)
    assert got[("pocket_api_es_in_flight", ())] == 0
    assert got[("pocket_api_es_waiting", ())] == 0
    assert got[("pocket_api_es_shed_total", ())] == 0
