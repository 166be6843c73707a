"""Bulk catch-up mode: index settings that speed a long catch-up, put back once caught up.

While the consumer is tens of thousands of events behind, nobody gains from an index kept in
its best shape for search every second. Two index settings can trade that for speed, each
switched on at its own lag (``enter_lag``; 0 disables it), and put back once the lag falls
below a quarter of that, and when the indexer stops:

**Merges deferred** (:func:`merge_mode`, on by default above 20k events behind): the
index's ``merge.policy.segments_per_tier`` goes from ES's 8 to 50, so the segments that the
1 s refreshes make pile up instead of being merged a few at a time, again and again as they
grow. Lucene's merges (the completion field's FST much of them) were a quarter to a
third of ES's CPU during a load; the pile is merged once when the setting is put back. Raw
bulk loads of 100k real-sized documents at the pipeline's pace (2,600 docs/s) measured ES at
0.34 and 0.36 ms of CPU a document with it, against 0.49 and 0.42 without, and a load's whole
merge work (its trailing merges included) at 0.52-0.73 ms a document without it. Search
meanwhile reads more segments, which costs ES CPU per search (18 segments: 2.5x the CPU of 4);
but ES's own policy also lags behind a load (25-28 segments at the end of the same loads,
against 28-31 deferred), so the difference shows on catch-ups of millions of events, where
the deferred tiers grow to ~50 segments. The ranking is unchanged.

**Refreshes off** (:func:`refresh_mode`, off by default: ``POCKET_BULK_REFRESH_LAG=0``): the
``refresh_interval`` goes to ``-1``, and one refresh is forced on leaving. Measured on the node
this project runs (ES 9.5, 768 MB heap, 2 cores) it makes a catch-up slower, not faster:
``bench.bench_indexer --events 100000`` went from 0.62 to 0.75 of the raw ceiling with it
off, and a raw ``parallel_bulk`` of 60k documents into an index with ``refresh_interval``
``1s`` ran at 4,574 and 4,705 docs/s against 3,901 and 3,981 with ``-1`` (and ~4,000 with
``5s`` or ``30s``), with less ES CPU per document. The likely cause: with refreshes off, the
write threads themselves flush the full in-memory buffer to a segment, while a scheduled
refresh does it on ES's refresh thread, a third worker beside the two write threads. The
forced refresh on leaving the mode also blocked the consumer for seconds. On a node with a
big heap and more cores, measure with ``--env POCKET_BULK_REFRESH_LAG=50000``.

Both are safe for the indexer itself: the read-merge-write of :mod:`indexer.sink` reads with
realtime ``mget``, which sees unrefreshed writes, and merges change no document. The hole is a
SIGKILLed indexer that never comes back: the setting would stay. Every indexer therefore puts
back a bulk value it finds when it starts (:meth:`CatchUpSetting.reset`). With several
indexers in a group, one that is caught up may put a setting back while another is catching
up: that costs speed, never correctness.

``catalog reindex`` keeps refreshes off while it copies an index: that load is the other way
round on the same node (100k documents copied as they are, chunks of 500: 3,379 and 3,386
docs/s with ``-1`` against 3,170 and 3,171 with ``1s``, ES 0.443 against 0.503 ms a
document). There ES does nearly all the work; in the indexer's load Python analyses each
document while ES writes the one before.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer.settings import IndexerSettings

log = logging.getLogger("pocket.indexer")

REFRESH = "index.refresh_interval"
SEGMENTS_PER_TIER = "index.merge.policy.segments_per_tier"


class CatchUpSetting:
    """Switch one setting of ``index`` (an alias or index) between ``bulk`` and ``normal`` by
    consumer lag. ``normal=None`` means the index default (the setting removed).

    ``enter_lag=0`` disables it. ES errors are logged and ignored: the setting is an
    optimisation, and an unreachable ES is the consumer's retry loop's business.
    """

    def __init__(self, es: Elasticsearch, index: str, *, name: str, label: str, bulk: str, normal: str | None,
                 enter_lag: int, refresh_on_leave: bool = False) -> None:
        self.es = es
        self.index = index
        self.name = name
        self.label = label  # what ``catalog status`` says while it is on
        self.bulk = bulk
        self.normal = normal
        self.enter_lag = enter_lag
        self.refresh_on_leave = refresh_on_leave
        self.active = False

    def update(self, lag: int) -> None:
        """Enter bulk mode when ``lag`` >= ``enter_lag``; leave it below a quarter of that."""
        if not self.enter_lag:
            return
        if not self.active and lag >= self.enter_lag:
            if self._put(self.bulk):
                self.active = True
                log.info("bulk catch-up: setting changed", extra={"setting": self.name, "value": self.bulk,
                                                                  "lag": lag, "index": self.index})
        elif self.active and lag < self.enter_lag // 4:
            self.restore()

    def restore(self) -> None:
        """Put the normal value back (and refresh once, if asked to); no-op unless active."""
        if self.active and self._put(self.normal):
            self.active = False
            log.info("bulk catch-up over: setting restored", extra={"setting": self.name, "value": self.normal})
            if self.refresh_on_leave:
                with contextlib.suppress(ApiError, TransportError):
                    self.es.indices.refresh(index=self.index)

    def shown_by(self, flat: dict[str, Any]) -> bool:
        """Whether an index's flat settings hold this mode's bulk value (``"50"`` and ``"50.0"`` alike)."""
        value = flat.get(self.name)
        if value is None:
            return False
        try:
            return str(value) == self.bulk or float(str(value)) == float(self.bulk)
        except ValueError:
            return False

    def reset(self) -> None:
        """At start-up: undo a bulk value left behind by an indexer that was killed in bulk mode."""
        try:
            got = self.es.indices.get_settings(index=self.index, name=self.name, flat_settings=True)
        except (ApiError, TransportError) as err:
            log.warning("could not read an index setting", extra={"setting": self.name, "error": str(err)[:300]})
            return
        if any(self.shown_by(s.get("settings", {})) for s in got.values()):
            self.active = True
            self.restore()

    def _put(self, value: str | None) -> bool:
        try:
            self.es.indices.put_settings(index=self.index, settings={self.name: value})
            return True
        except (ApiError, TransportError) as err:
            log.warning("could not change an index setting", extra={
                "setting": self.name, "value": value, "error": str(err)[:300]})
            return False


def refresh_mode(es: Elasticsearch, index: str, *, interval: str, enter_lag: int) -> CatchUpSetting:
    """Refreshes off (``-1``) while far behind; ``interval`` and one refresh when caught up."""
    return CatchUpSetting(es, index, name=REFRESH, label="refreshes off", bulk="-1", normal=interval,
                          enter_lag=enter_lag, refresh_on_leave=True)


def merge_mode(es: Elasticsearch, index: str, *, segments_per_tier: int, enter_lag: int) -> CatchUpSetting:
    """Merges deferred (``segments_per_tier``) while far behind; the index default when caught up."""
    return CatchUpSetting(es, index, name=SEGMENTS_PER_TIER, label="merges deferred", bulk=str(segments_per_tier),
                          normal=None, enter_lag=enter_lag)


def catch_up_modes(es: Elasticsearch, s: IndexerSettings) -> list[CatchUpSetting]:
    """Both modes on ``s.index`` as the indexer settings ``s`` configure them: what the consumer
    switches, ``catalog status`` reports and the benchmark's ceiling copies."""
    return [refresh_mode(es, s.index, interval=s.refresh_interval, enter_lag=s.bulk_refresh_lag),
            merge_mode(es, s.index, segments_per_tier=s.bulk_segments_per_tier, enter_lag=s.bulk_merge_lag)]
