"""Write product events to the change topic (keyed by product id), as producers should."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from kafka import KafkaProducer


def make_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024,
                         compression_type=None, max_request_size=4 * 1024 * 1024)


def produce_events(bootstrap: str, topic: str, events: Iterable[dict[str, Any]], *,
                   producer: KafkaProducer | None = None) -> int:
    """Send every event (a JSON-ready dict) keyed by its ``product_id``; block until all are acked.

    Returns the number sent. Raises the producer's KafkaError if any send failed.
    """
    own = producer is None
    prod = producer if producer is not None else make_producer(bootstrap)
    futures = []
    try:
        for ev in events:
            futures.append(prod.send(topic, value=orjson.dumps(ev), key=str(ev.get("product_id", "")).encode()))
        prod.flush(timeout=120)
        for f in futures:
            f.get(timeout=60)
    finally:
        if own:
            prod.close(timeout=10)
    return len(futures)
