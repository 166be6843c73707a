"""Prometheus metrics of one indexer (own registry, so several can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class IndexerMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.consumed = Counter("pocket_indexer_events_consumed", "Messages read from Kafka", registry=r)
        self.consumer_restarts = Counter(
            "pocket_indexer_consumer_restarts", "Kafka consumers replaced after reading nothing while events "
            "waited in their partitions", registry=r)
        self.outcomes = Counter("pocket_indexer_events", "Events by outcome", ["outcome"], registry=r)
        self.dlq = Counter("pocket_indexer_dead_letters", "Dead letters by reason", ["reason"], registry=r)
        self.retries = Counter("pocket_indexer_retries", "Batch retries after a transient failure",
                               ["cause"], registry=r)
        self.conflicts = Counter("pocket_indexer_write_conflicts", "Conditional writes lost to a race",
                                 registry=r)
        self.create_misses = Counter(
            "pocket_indexer_create_misses",
            "Products written as new without a read that turned out to exist (then read, merged, written)",
            registry=r)
        self.batch_size = Histogram("pocket_indexer_batch_size", "Events per batch", registry=r,
                                    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000))
        self.batch_seconds = Histogram("pocket_indexer_batch_seconds", "Batch processing time", registry=r,
                                       buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.stage_seconds = Counter(
            "pocket_indexer_stage_seconds",
            "CPU seconds of the indexer by stage: decode, validate, analyse, encode (merge, derived "
            "fields, JSON), es (client side of mget and bulk)", ["stage"], registry=r)
        self.es_wall_seconds = Counter("pocket_indexer_es_wall_seconds",
                                       "Wall seconds of the ES round trips (mget, bulk)", registry=r)
        self.lag = Gauge("pocket_indexer_consumer_lag", "Messages behind the log end", ["partition"],
                         registry=r)
        self.catch_up = Gauge("pocket_indexer_catch_up", "1 while an index setting of the bulk catch-up mode is "
                              "on (setting: index.refresh_interval, index.merge.policy.segments_per_tier)",
                              ["setting"], registry=r)
        self.paused = Gauge("pocket_indexer_paused", "1 while partitions are paused for a backend outage",
                            registry=r)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Expose /metrics on host:port (a daemon thread)."""
        start_http_server(port, addr=host, registry=self.registry)
