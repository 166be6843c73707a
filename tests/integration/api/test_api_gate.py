"""The API's ES gate against real Elasticsearch: searches through a one-place gate answer as
without it, a recovering search's second request passes it, and an overloaded API sheds load
with a 503 and Retry-After, then serves again (search_api/gate.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from api_assertions import assert_unavailable, body
from fastapi.testclient import TestClient

from search_api.gate import EsGate
from search_api.main import create_app
from search_api.settings import ApiSettings

#: Plain searches, a long one whose strict search finds nothing (the relaxed one runs next), a
#: correction, a browse (one msearch), a shop's storefront and a folded one.
QUERIES: list[dict[str, Any]] = [
    {"q": "连衣裙"}, {"q": "华为手机"}, {"q": "连衣裙色飞艇坦克航母潜艇"}, {"q": "连衣群"}, {},
    {"q": "手机", "shop_id": "shop-fashion"}, {"q": "手机", "distinct": "true"}, {"q": "lyq"},
]


@pytest.fixture
def gated(api_es_url: str, catalog: str) -> Iterator[TestClient]:
    """The app with one ES request in flight at a time, and one more allowed to wait. The shop
    status is read once first and kept, so every search below makes only its own requests (a
    search that found the status expired would wait for another's read of it)."""
    settings = ApiSettings(es_url=api_es_url, index=catalog, es_in_flight=1, es_max_waiting=1,
                           shop_status_ttl_s=600)
    with TestClient(create_app(settings)) as c:
        assert c.get("/search", params={"q": "连衣裙"}).status_code == 200
        yield c


def _gate(client: TestClient) -> EsGate:
    return client.app.state.service.es.gate  # type: ignore[attr-defined, no-any-return]


def _answer(resp: Any) -> tuple[int, list[str], dict[str, Any]]:
    out = body(resp)
    return out["total"], [h["id"] for h in out["hits"]], out["applied"]


def test_concurrent_searches_through_a_one_place_gate_answer_as_without_it(
        client: TestClient, api_es_url: str, catalog: str) -> None:
    # Queue: the default 1000. No deadline to speak of: 16 searches queued behind one place wait
    # over the default 1 s on a slow box (seen in CI: a 503), and shedding is tested below.
    settings = ApiSettings(es_url=api_es_url, index=catalog, es_in_flight=1, es_max_wait_ms=60_000)
    expected = [_answer(client.get("/search", params=p)) for p in QUERIES]
    assert expected[2][2]["recovery"]["step"] == "relaxed"  # the second request is exercised
    with TestClient(create_app(settings)) as one, ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda i: _answer(one.get("/search", params=QUERIES[i % len(QUERIES)])),
                            range(64)))
        assert _gate(one).in_flight == 0 and _gate(one).waiting == 0
    assert got == [expected[i % len(QUERIES)] for i in range(64)]


def test_an_overloaded_api_answers_503_with_retry_after_then_serves(gated: TestClient) -> None:
    gate = _gate(gated)
    assert gated.portal is not None
    gated.portal.call(lambda: gate._acquire(urgent=False))  # ES busy with someone else's search: the one place taken
    waiting: list[Any] = []
    t = threading.Thread(target=lambda: waiting.append(gated.get("/search", params={"q": "连衣裙"})))
    t.start()
    deadline = time.monotonic() + 10
    while gate.waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gate.waiting == 1  # the queue is full
    assert_unavailable(gated.get("/search", params={"q": "手机"}))
    assert_unavailable(gated.get("/suggest", params={"q": "连衣"}))
    assert gate.shed == 2 and "pocket_api_es_shed_total 2.0" in gated.get("/metrics").text
    gated.portal.call(gate._release)
    t.join(10)
    assert waiting and waiting[0].status_code == 200 and body(waiting[0])["total"] == 3
    assert gated.get("/search", params={"q": "手机"}).status_code == 200
    assert gate.in_flight == 0 and gate.waiting == 0
