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
from schemas.mapping import index_body, mappings

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
        names = list(es.indices.get_alias(name=alias))
        for name in names:
            add_missing_fields(es, name, analyzer)
        return names[0]
    if es.indices.exists(index=alias):
        raise ValueError(f"{alias!r} is an index, not an alias; reindex into a versioned index first")
    name = new_index_name(alias)
    create_index(es, name, analyzer)
    es.indices.put_alias(index=name, name=alias, is_write_index=True)
    log.info("created index %s behind alias %s", name, alias)
    return name


def add_missing_fields(es: Elasticsearch, index: str, analyzer: Analyzer) -> list[str]:
    """Add to ``index`` the fields this code's mapping has and the live one lacks; return them.

    The mapping is strict, so a document with a field the index does not know is refused: an
    indexer started on an index made by an older version would dead-letter every write. New
    fields are added in place (ES allows adding, never changing, a field); the index keeps its
    ``mapping_version``, so ``catalog status`` still asks for the reindex that fills the new
    fields of the documents already there.
    """
    live = next(iter(es.indices.get_mapping(index=index).values()))["mappings"].get("properties", {})
    code = mappings(analysis_version=analyzer.version)["properties"]
    missing = {name: spec for name, spec in code.items() if name not in live}
    if missing:
        es.indices.put_mapping(index=index, properties=missing)
        log.warning("added fields %s to %s; run `catalog reindex` to fill them in the documents already "
                    "indexed", sorted(missing), index)
    return sorted(missing)


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
