"""Dead letters: the original bytes, the reason, and where they came from.

A dead letter's value and key are the original message's, byte for byte, so a fixed
letter can be replayed as it is; the reason and origin travel in headers (the Kafka
Connect convention):

=================  ===============================================
header             value
=================  ===============================================
``dlq.reason``     a code from :data:`indexer.decode.REASONS`
``dlq.detail``     a one-line explanation
``dlq.topic``      source topic
``dlq.partition``  source partition
``dlq.offset``     source offset
``dlq.failed_at``  ISO-8601 UTC time of dead-lettering
``dlq.event_id``   the event id, when the message parsed that far
=================  ===============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaProducer


@dataclass(frozen=True)
class DeadLetter:
    value: bytes | None
    key: bytes | None
    reason: str
    detail: str
    topic: str
    partition: int
    offset: int
    event_id: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        h = [
            ("dlq.reason", self.reason),
            ("dlq.detail", self.detail[:2000]),
            ("dlq.topic", self.topic),
            ("dlq.partition", str(self.partition)),
            ("dlq.offset", str(self.offset)),
            ("dlq.failed_at", datetime.now(UTC).isoformat(timespec="milliseconds")),
        ]
        if self.event_id:
            h.append(("dlq.event_id", self.event_id))
        return [(k, v.encode()) for k, v in h]


def parse_headers(headers: list[tuple[str, bytes]] | None) -> dict[str, str]:
    """Headers of a dead letter as a dict of strings (``dlq.`` prefix removed)."""
    return {k.removeprefix("dlq."): v.decode(errors="replace") for k, v in headers or [] if k.startswith("dlq.")}


class DeadLetterWriter:
    """Writes dead letters and waits for the broker's acknowledgement.

    ``send_all`` blocks until every letter is acknowledged (acks=all) and raises the
    producer's error otherwise: the caller must not commit the source offsets before.
    """

    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self._producer = producer
        self.topic = topic

    def send_all(self, letters: list[DeadLetter], *, timeout: float = 30.0) -> None:
        futures = [
            self._producer.send(self.topic, value=dl.value, key=dl.key, headers=dl.headers())
            for dl in letters
        ]
        self._producer.flush(timeout=timeout)
        for f in futures:
            f.get(timeout=timeout)
