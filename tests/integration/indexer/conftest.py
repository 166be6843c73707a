"""Fixtures of the indexer fault matrix: a group name, the indexer's env, a subprocess factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import IndexerProcess, free_port, indexer_env, thread_settings

from indexer.settings import IndexerSettings


@pytest.fixture
def group(unique: str) -> str:
    return f"{unique}-indexer"


@pytest.fixture
def make_settings(es_url: str, kafka_bootstrap: str, topics: dict[str, str], index_alias: str,
                  group: str) -> Callable[..., IndexerSettings]:
    def make(**extra: object) -> IndexerSettings:
        return thread_settings(es_url=es_url, bootstrap=kafka_bootstrap, topics=topics, index=index_alias,
                               group=group, **extra)
    return make


@pytest.fixture
def spawn(es_url: str, kafka_bootstrap: str, topics: dict[str, str], index_alias: str, group: str,
          tmp_path: Path) -> Iterator[Callable[..., IndexerProcess]]:
    """Start ``python -m indexer.main`` processes for this test; all are stopped at the end."""
    procs: list[IndexerProcess] = []

    def start(*, metrics: bool = False, **extra: object) -> IndexerProcess:
        env = indexer_env(es_url=es_url, bootstrap=kafka_bootstrap, topic=topics["topic"],
                          dlq_topic=topics["dlq_topic"], index=index_alias, group=group,
                          metrics_port=free_port() if metrics else 0, **extra)
        p = IndexerProcess(env, tmp_path / f"indexer-{len(procs)}.log").start()
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.__exit__(None, None, None)
