"""The world of the merchant tests: two shops, every hiding reason produced for real.

Everything goes through Kafka and the real indexer (:class:`indexer.consumer.Indexer`):
off-shelf, ban and zero stock are patches, the delete is a delete event, the dead letters
are invalid events the indexer itself dead-letters. Then the indexer stops and a few more
events are produced: those are the versions still in flight.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from tenacity import retry, stop_after_delay, wait_fixed

from indexer.consumer import Indexer
from indexer.produce import produce_events
from indexer.settings import IndexerSettings
from search_api.settings import ApiSettings

A, B = "shop-a", "shop-b"
NOW = datetime.now(UTC).isoformat()
MISSING = "nope-404"


def upsert(pid: str, shop: str, title: str, *, version: int = 1, stock: int = 10, sales: int = 50,
           status: str = "on_shelf") -> dict[str, Any]:
    return {"event_id": f"{pid}-u{version}", "type": "upsert", "product_id": pid, "shop_id": shop,
            "version": version, "occurred_at": NOW,
            "product": {"title": title, "description": title, "category": ["服装", "外套"], "price": 399.0,
                        "stock": stock, "sales": sales, "rating": 4.5, "status": status,
                        "shop_name": f"{shop}的店"}}


def patch(pid: str, shop: str, version: int, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"{pid}-p{version}", "type": "patch", "product_id": pid, "shop_id": shop,
            "version": version, "occurred_at": NOW, "patch": fields}


def delete(pid: str, shop: str, version: int) -> dict[str, Any]:
    return {"event_id": f"{pid}-d{version}", "type": "delete", "product_id": pid, "shop_id": shop,
            "version": version, "occurred_at": NOW}


#: Indexed by the real indexer.
INDEXED: list[dict[str, Any]] = [
    upsert("a-live", A, "加厚羽绒服 男款 冬季 保暖", sales=500),
    upsert("a-twin", A, "轻薄羽绒服 女款"),
    upsert("b-twin", B, "轻薄羽绒服 女款"),  # ties with a-twin: the id breaks the tie
    upsert("b-live", B, "羽绒服 男 加厚 长款", sales=3000),
    upsert("b-vest", B, "羽绒马甲 保暖", sales=10),
    upsert("b-off", B, "羽绒服 秘密新品 限量", status="off_shelf", sales=9000),
    upsert("a-shoes", A, "跑步鞋 透气 运动鞋"),
    upsert("a-nostock", A, "羽绒服 儿童款"), patch("a-nostock", A, 2, stock=0),
    upsert("a-off", A, "羽绒服 旧款"), patch("a-off", A, 2, status="off_shelf"),
    upsert("a-ban", A, "仿冒 羽绒服"), patch("a-ban", A, 2, status="banned"),
    upsert("a-del", A, "羽绒服 清仓"), delete("a-del", A, 2),
    upsert("a-dlq", A, "羽绒服 新款"), patch("a-dlq", A, 2, price=-5),  # schema_violation
    {**upsert("a-new-dlq", A, "羽绒服 未入库"), "product": {"title": "羽绒服 未入库"}},  # no category/price
    upsert("a-pending", A, "羽绒服 短款"),
]
#: Produced after the indexer stopped: in flight.
IN_FLIGHT: list[dict[str, Any]] = [
    patch("a-pending", A, 2, title="羽绒服 短款 新版"),
    upsert("a-new-pending", A, "羽绒服 预售"),
    upsert("b-secret", B, "羽绒服 未发布 机密"),
]


def _end_offsets(bootstrap: str, group: str, topic: str) -> tuple[dict[int, int], dict[int, int | None]]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
        ends = c.end_offsets(tps)
        return {tp.partition: ends[tp] for tp in tps}, {tp.partition: c.committed(tp) for tp in tps}
    finally:
        c.close(autocommit=False)


@retry(stop=stop_after_delay(90), wait=wait_fixed(0.5), reraise=True)
def _wait_caught_up(bootstrap: str, group: str, topic: str) -> None:
    ends, committed = _end_offsets(bootstrap, group, topic)
    assert ends and all((committed[p] or 0) >= ends[p] for p in ends), (ends, committed)


def build(settings: IndexerSettings) -> None:
    """Index :data:`INDEXED` with the real indexer, stop it, then produce :data:`IN_FLIGHT`."""
    events = list(INDEXED)
    random.Random(7).shuffle(events)
    # Per product, versions in order on the wire is what producers do; shuffle only across products.
    events.sort(key=lambda e: e["version"])
    produce_events(settings.kafka_bootstrap, settings.topic, events)
    indexer = Indexer(settings)
    thread = threading.Thread(target=indexer.run, daemon=True)
    thread.start()
    try:
        _wait_caught_up(settings.kafka_bootstrap, settings.group_id, settings.topic)
    finally:
        indexer.stop()
        thread.join(timeout=60)
    produce_events(settings.kafka_bootstrap, settings.topic, IN_FLIGHT)


def merchant_settings(base: ApiSettings, **limits: object) -> ApiSettings:
    """``base`` with some merchant settings changed (e.g. the failed-attempt limits)."""
    return base.model_copy(update={"merchant": base.merchant.model_copy(update=limits)})


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key is not None else {}
