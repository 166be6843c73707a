"""Shared fixtures: real services, and a private index and topics per test.

Services come from ``scripts/services.py`` (``make test`` starts them). Outside CI a
missing service skips the integration tests; with ``CI=true`` it fails them, loudly.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()
sys.path.insert(0, str(ROOT / "scripts"))

import services as svc  # noqa: E402  (scripts/services.py: start/stop ES and Kafka for real)

from analyzers import get_analyzer  # noqa: E402
from indexer.admin import create_index  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if "integration" in path.parts:
            item.add_marker(pytest.mark.integration)
        elif "unit" in path.parts:
            item.add_marker(pytest.mark.unit)


def _missing(what: str) -> None:
    msg = f"{what} is not reachable; start it with `make services`"
    if IN_CI:
        pytest.fail(f"CI: {msg} (a skipped integration test is a failure)", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def services_config() -> svc.Config:
    return svc.Config.from_env()


def _wait_for(cfg: svc.Config, name: str, healthy: bool) -> bool:
    """A service restarted by a fault test is back within a minute; wait, bounded."""
    if healthy:
        return True
    try:
        svc.wait_healthy(cfg, name, timeout=90)
        return True
    except svc.ServiceError:
        return False


@pytest.fixture(scope="session")
def require_service(services_config: svc.Config) -> Callable[[str], str]:
    """``require("es")`` / ``require("kafka")``: the service's address once it is healthy; else a
    skip, or a failure under CI. For fixtures of any scope (the merchant world is per session)."""
    cfg = services_config

    def require(name: str) -> str:
        if name == "es":
            if not _wait_for(cfg, "es", svc.es_healthy(cfg)):
                _missing(f"Elasticsearch at {cfg.es_url}")
            return cfg.es_url
        if not _wait_for(cfg, "kafka", svc.kafka_healthy(cfg)):
            _missing(f"Kafka at {cfg.kafka_bootstrap}")
        return cfg.kafka_bootstrap

    return require


@pytest.fixture
def es_url(require_service: Callable[[str], str]) -> str:
    return require_service("es")  # per test: a fault test may have restarted it


@pytest.fixture
def kafka_bootstrap(require_service: Callable[[str], str]) -> str:
    return require_service("kafka")


@pytest.fixture
def es(es_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(es_url, request_timeout=60, max_retries=3, retry_on_timeout=True)
    yield client
    client.close()


@pytest.fixture
def unique() -> str:
    """A short name unique to this test: prefix indices, aliases, topics and groups with it."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def index_alias(es: Elasticsearch, unique: str) -> Iterator[str]:
    """A fresh alias over a fresh index with the real mapping; deleted after the test."""
    alias = f"{unique}-products"
    name = f"{alias}-v1"
    create_index(es, name, get_analyzer())
    es.indices.put_alias(index=name, name=alias, is_write_index=True)
    yield alias
    es.options(ignore_status=404).indices.delete(index=f"{alias}-*")


@pytest.fixture
def topics(kafka_bootstrap: str, unique: str) -> Iterator[dict[str, str]]:
    """Fresh source and dead-letter topics (3 partitions and 1); deleted after the test."""
    from kafka import KafkaAdminClient

    from indexer.admin import ensure_topics

    names = {"topic": f"{unique}.changes", "dlq_topic": f"{unique}.changes.dlq"}
    ensure_topics(kafka_bootstrap, {names["topic"]: 3, names["dlq_topic"]: 1})
    yield names
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.delete_topics(list(names.values()))
    except Exception:
        pass
    finally:
        admin.close()
