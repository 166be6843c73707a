"""Create what the pipeline needs: the versioned index behind the alias, and the topics."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from analyzers import Analyzer
from schemas.mapping import index_body

log = logging.getLogger("pocket.admin")


def new_index_name(alias: str) -> str:
    """``products-20261125t174501123``: sortable, unique per millisecond."""
    return f"{alias}-{datetime.now(UTC).strftime('%Y%m%dt%H%M%S%f')[:-3]}"


def create_index(es: Elasticsearch, name: str, analyzer: Analyzer, **settings: Any) -> None:
    es.indices.create(index=name, **index_body(analysis_version=analyzer.version, **settings))


def ensure_alias(es: Elasticsearch, alias: str, analyzer: Analyzer) -> str:
    """Return the index behind ``alias``, creating ``<alias>-<timestamp>`` if there is none.

    Idempotent. Raises ``ValueError`` if ``alias`` is a concrete index (not an alias).
    """
    if es.indices.exists_alias(name=alias):
        return next(iter(es.indices.get_alias(name=alias)))
    if es.indices.exists(index=alias):
        raise ValueError(f"{alias!r} is an index, not an alias; reindex into a versioned index first")
    name = new_index_name(alias)
    create_index(es, name, analyzer)
    es.indices.put_alias(index=name, name=alias, is_write_index=True)
    log.info("created index %s behind alias %s", name, alias)
    return name


def ensure_topics(bootstrap: str, topics: dict[str, int]) -> None:
    """Create the topics that do not exist (name -> partitions). Idempotent."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="pocket-admin")
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(name, partitions, 1) for name, partitions in topics.items() if name not in existing]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
    finally:
        admin.close()
