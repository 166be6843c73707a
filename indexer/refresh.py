"""Bulk catch-up mode: no index refreshes while the indexer is far behind, restored when it is not.

A refresh makes new documents searchable and costs ES a new segment (and later merges).
While the consumer is tens of thousands of events behind, nobody gains from seeing a
half-loaded catalog every second, so the index's ``refresh_interval`` is set to ``-1``;
it goes back to the configured value (and one refresh is forced) once the lag falls below a
quarter of the threshold, and when the indexer stops.

It is safe for the indexer itself: the read-merge-write of :mod:`indexer.sink` reads with
realtime ``mget``, which sees unrefreshed writes. The hole is a SIGKILLed indexer that never
comes back: the index would stay unrefreshed. Every indexer therefore restores the setting
when it starts (:meth:`BulkRefreshMode.reset`). With several indexers in a group, one that is
caught up may restore it while another is catching up: that costs speed, never correctness.

It is off by default (``POCKET_BULK_REFRESH_LAG=0``), because measured on the node this
project runs (ES 9.5, 768 MB heap, 2 cores) it makes a catch-up slower, not faster:
``bench.bench_indexer --events 100000`` went from 0.62 to 0.75 of the raw ceiling with it
off, and a raw ``parallel_bulk`` of 60k documents into an index with ``refresh_interval``
``1s`` ran at 4,574 and 4,705 docs/s against 3,901 and 3,981 with ``-1`` (and ~4,000 with
``5s`` or ``30s``), with less ES CPU per document. No indexing throttling and no merges
showed in either; ES used 1.72 cores with refreshes against 1.59 without. The likely cause:
with refreshes off, the write threads themselves flush the full in-memory buffer to a segment,
while a scheduled refresh does it on ES's refresh thread, a third worker beside the two write
threads. The forced refresh on leaving the mode also blocked the consumer for seconds. On a
node with a big heap and more cores, measure with ``--env POCKET_BULK_REFRESH_LAG=50000``.

``catalog reindex`` keeps refreshes off while it copies an index: that load is the other way
round on the same node (100k documents copied as they are, chunks of 500: 3,379 and 3,386
docs/s with ``-1`` against 3,170 and 3,171 with ``1s``, ES 0.443 against 0.503 ms a
document). There ES does nearly all the work; in the indexer's load Python analyses each
document while ES writes the one before.
"""

from __future__ import annotations

import contextlib
import logging

from elasticsearch import ApiError, Elasticsearch, TransportError

log = logging.getLogger("pocket.indexer")


class BulkRefreshMode:
    """Switch ``index`` (an alias or index) between ``-1`` and ``interval`` by consumer lag.

    ``enter_lag=0`` disables the mode. ES errors are logged and ignored: the setting is an
    optimisation, and an unreachable ES is the consumer's retry loop's business.
    """

    def __init__(self, es: Elasticsearch, index: str, *, interval: str = "1s",
                 enter_lag: int = 50_000) -> None:
        self.es = es
        self.index = index
        self.interval = interval
        self.enter_lag = enter_lag
        self.active = False

    def update(self, lag: int) -> None:
        """Enter bulk mode when ``lag`` >= ``enter_lag``; leave it below a quarter of that."""
        if not self.enter_lag:
            return
        if not self.active and lag >= self.enter_lag:
            if self._put("-1"):
                self.active = True
                log.info("bulk catch-up: refresh disabled", extra={"lag": lag, "index": self.index})
        elif self.active and lag < self.enter_lag // 4:
            self.restore()

    def restore(self) -> None:
        """Put the normal refresh interval back and refresh once (no-op unless active)."""
        if self.active and self._put(self.interval):
            self.active = False
            log.info("bulk catch-up over: refresh restored", extra={"interval": self.interval})
            with contextlib.suppress(ApiError, TransportError):
                self.es.indices.refresh(index=self.index)

    def reset(self) -> None:
        """At start-up: undo a ``-1`` left behind by an indexer that was killed in bulk mode."""
        try:
            got = self.es.indices.get_settings(index=self.index, name="index.refresh_interval")
        except (ApiError, TransportError) as err:
            log.warning("could not read refresh_interval", extra={"error": str(err)[:300]})
            return
        if any(s.get("settings", {}).get("index", {}).get("refresh_interval") == "-1" for s in got.values()):
            self.active = True
            self.restore()

    def _put(self, value: str) -> bool:
        try:
            self.es.indices.put_settings(index=self.index, settings={"index": {"refresh_interval": value}})
            return True
        except (ApiError, TransportError) as err:
            log.warning("could not set refresh_interval", extra={"value": value, "error": str(err)[:300]})
            return False
