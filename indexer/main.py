"""``pocket-indexer``: run one indexer process (``python -m indexer.main``)."""

from __future__ import annotations

import logging
import signal
import sys

from analyzers import get_analyzer
from indexer.admin import ensure_alias, ensure_topics
from indexer.consumer import Indexer, es_client
from indexer.logs import setup_logging
from indexer.malloc import freeze_startup_heap, limit_malloc_arenas
from indexer.settings import IndexerSettings

log = logging.getLogger("pocket.indexer")


def main() -> int:
    limit_malloc_arenas()
    settings = IndexerSettings()
    setup_logging(settings.log_level)
    analyzer = get_analyzer()
    es = es_client(settings)
    ensure_alias(es, settings.index, analyzer)
    ensure_topics(settings.kafka_bootstrap, {settings.topic: settings.topic_partitions,
                                             settings.dlq_topic: 1})
    indexer = Indexer(settings, es=es, analyzer=analyzer)
    freeze_startup_heap()
    if settings.metrics_port:
        indexer.metrics.serve(settings.metrics_port, host=settings.metrics_host)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: indexer.stop())
    indexer.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
