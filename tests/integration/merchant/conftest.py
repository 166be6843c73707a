"""Fixtures of the merchant tests: the world built once per session (indexing through Kafka is
the slow part), API keys for both shops, and clients of the real app."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import merchant_world as world
import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch
from fastapi.testclient import TestClient

from analyzers import get_analyzer
from indexer.admin import create_index, ensure_topics
from indexer.settings import IndexerSettings
from search_api.keys import KeyStore
from search_api.main import create_app
from search_api.settings import ApiSettings, MerchantSettings


@dataclass
class Keys:
    a: str
    b: str
    a_revoked: str
    a_id: str


@dataclass
class World:
    settings: ApiSettings
    keys: Keys
    es: Elasticsearch


async def _issue_keys(settings: ApiSettings) -> Keys:
    es = AsyncElasticsearch(settings.es_url)
    try:
        store = KeyStore(es, index=settings.merchant.keys_index, iterations=settings.merchant.key_iterations)
        a, b, r = (await store.create(world.A), await store.create(world.B), await store.create(world.A))
        assert await store.revoke(r.key_id)
        return Keys(a=a.key, b=b.key, a_revoked=r.key, a_id=a.key_id)
    finally:
        await es.close()


@pytest.fixture(scope="session")
def merchant_world(require_service: Callable[[str], str]) -> Iterator[World]:
    es_url, bootstrap = require_service("es"), require_service("kafka")
    u = f"t{uuid.uuid4().hex[:10]}"
    es = Elasticsearch(es_url, request_timeout=60, max_retries=3, retry_on_timeout=True)
    alias, topic, dlq = f"{u}-products", f"{u}.changes", f"{u}.changes.dlq"
    create_index(es, f"{alias}-v1", get_analyzer())
    es.indices.put_alias(index=f"{alias}-v1", name=alias, is_write_index=True)
    ensure_topics(bootstrap, {topic: 3, dlq: 1})
    settings = ApiSettings(
        es_url=es_url, index=alias, kafka_bootstrap=bootstrap, topic=topic, dlq_topic=dlq,
        group_id=f"{u}-indexer", shops_index=f"{u}-shops", shop_status_ttl_s=0,
        merchant=MerchantSettings(keys_index=f"{u}-keys", key_iterations=1000, max_failures_per_key=10_000,
                                  max_failures_per_address=10_000, stream_timeout_s=20))
    try:
        world.build(IndexerSettings(es_url=settings.es_url, kafka_bootstrap=bootstrap, topic=topic, dlq_topic=dlq,
                                    index=alias, group_id=settings.group_id, metrics_port=0, batch_linger_ms=50,
                                    session_timeout_ms=6000, retry_max_s=2.0))
        es.indices.refresh(index=alias)
        yield World(settings=settings, keys=asyncio.run(_issue_keys(settings)), es=es)
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{alias}-*")
        es.options(ignore_status=404).indices.delete(index=f"{u}-keys")
        es.options(ignore_status=404).indices.delete(index=f"{u}-shops")
        es.close()
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            admin.delete_topics([topic, dlq])
        except Exception:
            pass
        finally:
            admin.close()


@pytest.fixture(scope="session")
def client(merchant_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(merchant_world.settings)) as c:
        yield c
