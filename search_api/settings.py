"""Settings of the search API deployable (env prefix ``POCKET_``), validated at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RankingWeights(BaseModel):
    """How business signals combine with text relevance (see ARCHITECTURE.md, "Ranking").

    score = text × (1 + sales·log10(1+sales) + rating·rating/5 + shop_quality·shop_score/5
                    + freshness·decay(age))
            × (out_of_stock if stock is 0)
    """

    sales: float = Field(0.15, ge=0, description="per decade of units sold")
    rating: float = Field(0.2, ge=0, description="at a 5.0 rating")
    shop_quality: float = Field(0.15, ge=0, description="at a 5.0 shop score (products without one: 0)")
    freshness: float = Field(0.2, ge=0, description="for a product created today")
    freshness_scale_days: int = Field(30, ge=1, description="age at which the freshness boost halves")
    out_of_stock: float = Field(0.25, gt=0, le=1, description="multiplier for zero stock")
    brand_match: float = Field(1.5, ge=0, description="boost when the query names the product's brand")


class MerchantSettings(BaseModel):
    """The merchant endpoints (``/merchant/...``): API keys, failed-attempt limits, stream look-ups."""

    keys_index: str = Field("pocket-merchant-keys", description="ES index of API key records (hashes only)")
    key_iterations: int = Field(20_000, ge=1_000, description="PBKDF2-SHA256 rounds per key hash")
    max_failures_per_key: int = Field(5, ge=1, description="failed attempts per key id per window, then 429")
    max_failures_per_address: int = Field(20, ge=1, description="failed attempts per address per window")
    failure_window_s: float = Field(300.0, gt=0, description="the window failed attempts are counted in")
    touch_interval_s: float = Field(60.0, ge=0, description="write last_used_at at most this often per key")
    stream_scan_max: int = Field(200_000, ge=1, description="records read per topic to find pending events")
    stream_timeout_s: float = Field(10.0, gt=0, description="time budget of one topic scan")
    stream_consumers: int = Field(4, ge=1, description="Kafka consumers kept per API process for "
                                  "look-ups; as many look-ups read at once, the others wait")


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POCKET_", env_nested_delimiter="__", extra="ignore")

    es_url: str = "http://127.0.0.1:9200"
    index: str = Field("products", description="the alias storefronts search")
    shops_index: str = Field("pocket-shops", description="ES index of the shop status (suspensions)")
    shop_status_ttl_s: float = Field(2.0, ge=0, description="how long the API caches the suspended shops")
    host: str = "127.0.0.1"
    port: int = 8000
    es_timeout_ms: int = Field(1500, ge=50, description="ES-side search timeout (partial results after)")
    facet_sample: int = Field(
        2000, ge=0, description="facets of a text search count its best N matches per shard (``facets_exact`` "
        "says when that was all of them); 0: count every match")
    request_timeout_s: float = Field(5.0, gt=0, description="client-side timeout to ES")
    split_browse: bool = Field(
        True, description="run a browse (no text) as hits + cacheable counts in one msearch; false: one search")
    es_connections: int = Field(
        32, ge=1, description="HTTP connections to each ES node; above the client count, so a request "
        "never queues in the API for a connection while ES could already be working on it")
    es_client_node: Literal["lean", "aiohttp"] = Field(
        "lean", description="how the ES client speaks HTTP: ``lean`` (httptools, search_api/es_node.py; "
        "plain http:// only, https:// uses aiohttp) or ``aiohttp``, the client's default")
    es_in_flight: int = Field(
        6, ge=1, description="searches this process has in ES at once (about ES's search threads); the "
        "others wait in the API, and a started search's next request never waits (search_api/gate.py)")
    es_max_waiting: int = Field(
        1000, ge=1, description="requests waiting for ES in this process before the API answers 503 "
        "with Retry-After instead of queueing more")
    es_max_wait_ms: int = Field(
        1000, ge=1, description="how long a search may wait in the API for a place in ES before it is "
        "answered 503 with Retry-After: under overload, a fast refusal instead of a late answer")
    ranking: RankingWeights = RankingWeights()
    # The indexer's topics and group (same names as IndexerSettings): merchant pending/DLQ look-ups.
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic: str = "products.changes"
    dlq_topic: str = "products.changes.dlq"
    group_id: str = "pocket-indexer"
    merchant: MerchantSettings = MerchantSettings()
