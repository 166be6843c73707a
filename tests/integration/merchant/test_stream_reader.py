"""The merchant look-ups' Kafka reader keeps one consumer: its answers must still be current.

Own topics and group per test run, so the indexer's and other tests' offsets never mix in.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from search_api.settings import ApiSettings
from search_api.visibility import StreamReader


@pytest.fixture
def reader_settings(kafka_bootstrap: str) -> Iterator[ApiSettings]:
    tag = uuid.uuid4().hex[:8]
    settings = ApiSettings(kafka_bootstrap=kafka_bootstrap, topic=f"t-{tag}-changes", dlq_topic=f"t-{tag}-dlq",
                           group_id=f"t-{tag}-indexer")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(settings.topic, 1, 1), NewTopic(settings.dlq_topic, 1, 1)])
    try:
        yield settings
    finally:
        admin.delete_topics([settings.topic, settings.dlq_topic])
        admin.close()


def _produce(settings: ApiSettings, product_id: str, version: int) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    event = {"event_id": f"e-{version}", "type": "patch", "product_id": product_id, "shop_id": "s1",
             "version": version, "occurred_at": "2026-11-26T00:00:00Z", "patch": {"price": version}}
    producer.send(settings.topic, key=product_id.encode(), value=orjson.dumps(event)).get(timeout=10)
    producer.close()


def _commit(settings: ApiSettings, offset: int) -> None:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=settings.group_id,
                             enable_auto_commit=False)
    consumer.commit({TopicPartition(settings.topic, 0): OffsetAndMetadata(offset, "", -1)})
    consumer.close()


def test_a_kept_consumer_sees_new_events_and_new_commits(reader_settings: ApiSettings) -> None:
    reader = StreamReader(reader_settings)
    try:
        _produce(reader_settings, "p1", 1)
        _produce(reader_settings, "p1", 2)
        first = reader.product("p1")
        assert first.available and [e["version"] for e in first.pending] == [1, 2]

        _commit(reader_settings, 1)  # the indexer acknowledged version 1
        _produce(reader_settings, "p1", 3)
        second = reader.product("p1")
        assert [e["version"] for e in second.pending] == [2, 3]
        assert second.committed_offset == 1

        reader.close()  # the next look-up opens a new consumer
        assert [e["version"] for e in reader.product("p1").pending] == [2, 3]
        assert reader.product("p2").pending == []
    finally:
        reader.close()


def test_look_ups_at_once_each_get_a_consumer_and_leave_it_idle(reader_settings: ApiSettings) -> None:
    _produce(reader_settings, "p1", 1)
    reader = StreamReader(reader_settings)
    try:
        start = threading.Barrier(3)
        answers: list[int] = []

        def look_up() -> None:
            start.wait()
            answers.append(len(reader.product("p1").pending))

        threads = [threading.Thread(target=look_up) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert answers == [1, 1, 1]
        assert 1 <= len(reader._idle) <= 3  # made as needed, all kept, none busy
    finally:
        reader.close()
    assert reader._idle == []
