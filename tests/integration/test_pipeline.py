"""The thin slice, for real: Kafka -> indexer -> Elasticsearch -> /search."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from indexer.consumer import Indexer
from indexer.produce import produce_events
from indexer.settings import IndexerSettings
from search_api.main import create_app
from search_api.settings import ApiSettings


def event(kind: str, pid: str, version: int, **payload: Any) -> dict[str, Any]:
    return {"event_id": uuid.uuid4().hex, "type": kind, "product_id": pid, "shop_id": "shop-1",
            "version": version, "occurred_at": datetime.now(UTC).isoformat(), **payload}


PHONE = {"title": "华为Mate60 Pro 5G智能手机 12GB+512GB 雅川青", "brand": "华为", "category": ["手机数码", "手机"],
         "price": 6999.0, "stock": 12, "sales": 340, "rating": 4.8, "attributes": {"颜色": "雅川青"}}


@pytest.fixture
def settings(es_url: str, kafka_bootstrap: str, index_alias: str, topics: dict[str, str], unique: str
             ) -> IndexerSettings:
    return IndexerSettings(es_url=es_url, kafka_bootstrap=kafka_bootstrap, index=index_alias,
                           group_id=f"{unique}-group", metrics_port=0, batch_linger_ms=20, **topics)


@contextmanager
def running(indexer: Indexer) -> Iterator[Indexer]:
    t = threading.Thread(target=indexer.run, daemon=True)
    t.start()
    try:
        yield indexer
    finally:
        indexer.stop()
        t.join(timeout=60)
        assert not t.is_alive(), "indexer did not stop after stop()"


@pytest.fixture
def api(es_url: str, index_alias: str) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(es_url=es_url, index=index_alias))) as client:
        yield client


def eventually(fn: Any, timeout: float = 30) -> Any:
    return retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.2), reraise=True,
                 retry=retry_if_exception_type(AssertionError))(fn)()


def hit_ids(api: TestClient, q: str) -> list[str]:
    resp = api.get("/search", params={"q": q})
    assert resp.status_code == 200, resp.text
    return [h["id"] for h in resp.json()["hits"]]


def test_event_on_kafka_becomes_searchable_through_the_api(settings: IndexerSettings, api: TestClient) -> None:
    produce_events(settings.kafka_bootstrap, settings.topic, [event("upsert", "p-phone", 1, product=PHONE)])
    with running(Indexer(settings)):
        def found() -> None:
            assert hit_ids(api, "华为手机") == ["p-phone"]
        eventually(found)
    body = api.get("/search", params={"q": "华为手机"}).json()
    assert body["hits"][0]["title"] == PHONE["title"]
    assert "<em>" in body["hits"][0]["highlight"]
    assert api.get("/products/p-phone").json()["price"] == 6999.0


def test_delete_makes_the_product_disappear(settings: IndexerSettings, api: TestClient) -> None:
    produce_events(settings.kafka_bootstrap, settings.topic, [event("upsert", "p-gone", 1, product=PHONE)])
    with running(Indexer(settings)):
        def found() -> None:
            assert hit_ids(api, "华为手机") == ["p-gone"]
        eventually(found)
        produce_events(settings.kafka_bootstrap, settings.topic, [event("delete", "p-gone", 2)])

        def gone() -> None:
            assert hit_ids(api, "华为手机") == []
        eventually(gone)
    assert api.get("/products/p-gone").status_code == 404


def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        parts = c.partitions_for_topic(topic) or set()
        return {p: c.committed(TopicPartition(topic, p)) for p in parts}
    finally:
        c.close()


def test_offset_is_committed_only_after_elasticsearch_acknowledged(
    settings: IndexerSettings, es: Elasticsearch
) -> None:
    """Hold the ES write at a gate: while it is held, the group's offsets must not move."""
    indexer = Indexer(settings)
    gate = threading.Event()
    entered = threading.Event()
    real_apply = indexer.sink.apply

    def gated_apply(events: list[Any]) -> Any:
        entered.set()
        assert gate.wait(60), "test gate never opened"
        return real_apply(events)

    indexer.sink.apply = gated_apply  # type: ignore[method-assign]
    produce_events(settings.kafka_bootstrap, settings.topic, [event("upsert", "p-ack", 1, product=PHONE)])
    with running(indexer):
        assert entered.wait(30), "the indexer never reached the ES write"
        before = _committed(settings.kafka_bootstrap, settings.group_id, settings.topic)
        assert all(v is None for v in before.values()), f"committed before ES acknowledged: {before}"
        assert not es.exists(index=settings.index, id="p-ack")
        gate.set()

        def committed() -> None:
            after = _committed(settings.kafka_bootstrap, settings.group_id, settings.topic)
            assert sum(v or 0 for v in after.values()) == 1
        eventually(committed)
        assert es.get(index=settings.index, id="p-ack")["_source"]["version"] == 1
