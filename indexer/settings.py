"""Settings of the indexer deployable (env prefix ``POCKET_``), validated at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Queries whose top 10 a reindexed index must mostly keep (``catalog reindex --canary``).
DEFAULT_CANARIES = ("手机", "连衣裙", "面霜", "坚果", "耳机")
#: The least share of each canary's old top 10 that the new index keeps (``--canary-overlap``).
DEFAULT_CANARY_OVERLAP = 0.5


class IndexerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POCKET_", extra="ignore")

    es_url: str = "http://127.0.0.1:9200"
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic: str = "products.changes"
    dlq_topic: str = "products.changes.dlq"
    group_id: str = "pocket-indexer"
    index: str = Field("products", description="alias (or index) the indexer writes to")
    topic_partitions: int = Field(3, ge=1, description="partitions when the indexer creates the topics")

    batch_max_events: int = Field(2000, ge=1)
    batch_max_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    batch_linger_ms: int = Field(100, ge=0, description="wait this long for a batch to fill")
    bulk_chunk_size: int = Field(200, ge=1)
    bulk_threads: int = Field(2, ge=1, description="bulk requests in flight while the next chunk is analysed")
    max_event_bytes: int = Field(256 * 1024, ge=1024)
    refresh_interval: str = Field("1s", description="the index's refresh_interval outside bulk catch-up")
    bulk_refresh_lag: int = Field(
        0, ge=0, description="lag that turns refreshes off until caught up; 0: never (the default: on a "
                             "small-heap ES node it slows a catch-up, see indexer/refresh.py)")
    bulk_merge_lag: int = Field(
        20_000, ge=0, description="lag that defers segment merges until caught up; 0: never (indexer/refresh.py)")
    bulk_segments_per_tier: int = Field(50, ge=2, description="the index's segments_per_tier while merges are deferred")

    retry_initial_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(15.0, gt=0)
    max_poll_interval_ms: int = Field(300_000, ge=10_000)
    kafka_check_crcs: bool | None = Field(
        None, description="verify record CRCs when consuming; None: only if the C crc32c module is installed")
    session_timeout_ms: int = Field(10_000, ge=6_000)
    stall_restart_s: float = Field(
        60.0, gt=0, description="replace the Kafka consumer when it has read nothing for this long while "
                                "its partitions hold uncommitted events (see Indexer._check_stalled)")

    metrics_port: int = Field(9464, ge=0, le=65535, description="0 disables /metrics")
    metrics_host: str = Field("127.0.0.1", description="address /metrics listens on (0.0.0.0 in a container, "
                                                       "for a published port or a scraper elsewhere)")
    log_level: str = "INFO"
