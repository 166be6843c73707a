"""The one place that writes products to Elasticsearch.

:meth:`EsSink.apply` takes a batch of events and makes the index reflect them: chunk
by chunk, one ``mget`` of the current documents, the merge rule of :mod:`indexer.merge`
in Python, then the ``bulk`` of conditional writes (``if_seq_no``/``if_primary_term`` for
documents that exist, ``create`` for new ones). A write that loses a race (409) is
read, merged and written again. This read-merge-write replaces painless scripts,
which the stock integ-test ES does not have.

Every bulk item's status is checked: a 400 (mapping, parse) dead-letters the events that
produced the document (``es_rejected``), after isolating them so that valid events merged
into the same document are still indexed; a document the analyzer or the encoder fails on
is dead-lettered the same way (``unindexable``). Any other failed status (429, 5xx, 403
write blocks, 404 missing index) and connection failures raise the retriable
:class:`BackendUnavailable`, and the caller retries the whole batch, which is safe because
applying events twice changes nothing. The read and analysis of the next chunk overlap the
bulk request in flight (``threads`` > 1, via ``parallel_bulk``).

**New products skip the read.** While the products coming in are new (a catalog load, a
new shop), the ``mget`` only ever says "not there"; skipping it saved ES 3-12% of its CPU
per event (A/B, ARCHITECTURE section 3). So once a batch's reads found none of its
products (at least a chunk of them), the next batch writes every product straight away
as ``create``, merged from nothing. That is exactly what the read would have led to:
``create`` succeeds only if no document with that id exists, tombstones included, which ES
checks atomically. A product that does exist
gets a 409 and goes through the read-merge-write in the next round, like any lost race.
When more than 2% of a batch's products turn out to exist, the sink goes back to reading
first: for updates of existing products the read is needed, and a refused ``create`` would
waste its analysis.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.helpers import parallel_bulk, streaming_bulk

from analyzers import Analyzer
from indexer.document import build_source
from indexer.merge import Event, merge_events
from schemas.errors import BackendUnavailable


@dataclass
class Rejection:
    event: Event
    reason: str
    detail: str


@dataclass
class ApplyReport:
    indexed: list[Event] = field(default_factory=list)
    stale: list[Event] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    conflicts: int = 0
    #: Products written as new without a read (``create``) that turned out to exist (409).
    create_misses: int = 0
    #: CPU seconds of this process by stage (thread time), and the wall time of the ES round trips.
    analyse_seconds: float = 0.0
    encode_seconds: float = 0.0
    es_seconds: float = 0.0
    es_wall_seconds: float = 0.0


class _TimedAnalyzer:
    """The analyzer, with the CPU time of its calls added up (``cpu``), for the stage metrics."""

    def __init__(self, inner: Analyzer) -> None:
        self.inner = inner
        self.version = inner.version
        self.cpu = 0.0

    def analyze_product(self, **kw: Any) -> tuple[dict[str, str], list[str]]:
        t = time.thread_time()
        try:
            return self.inner.analyze_product(**kw)
        finally:
            self.cpu += time.thread_time() - t


def _encode(doc: dict[str, Any]) -> bytes:
    """The document as JSON bytes (orjson: several times faster than the client's json).

    orjson refuses integers beyond 64 bits; those go through ``json`` and ES rejects them (400).
    """
    try:
        return orjson.dumps(doc)
    except TypeError:
        return json.dumps(doc, ensure_ascii=False).encode()


class EsSink:
    """Applies events to the index behind ``index`` (an alias or index name)."""

    def __init__(self, es: Elasticsearch, *, index: str, analyzer: Analyzer, chunk_size: int = 500,
                 max_chunk_bytes: int = 20 * 1024 * 1024, max_conflict_rounds: int = 10,
                 threads: int = 1) -> None:
        self.es = es
        self.index = index
        self.analyzer = analyzer
        self.chunk_size = chunk_size
        self.max_chunk_bytes = max_chunk_bytes
        self.max_conflict_rounds = max_conflict_rounds
        self.threads = threads
        #: Whether the products coming in have lately all been new: then the next batch is
        #: written with ``create`` and no read (see the module docstring).
        self.assume_new = False

    def apply(self, events: list[Event]) -> ApplyReport:
        """Make the index reflect ``events``; return what happened to each.

        Raises :class:`BackendUnavailable` when ES is unreachable or overloaded (after the
        bulk helper's own retries of 429s): nothing is lost, retry the same batch.
        Blocks for the ES round trips (one mget and one bulk per round).
        """
        report = ApplyReport()
        by_product: dict[str, list[Event]] = defaultdict(list)
        for ev in events:
            by_product[ev.product_id].append(ev)
        split = self._rounds(dict(by_product), report, isolate=True)
        # A product whose merged document ES rejected: apply its events one at a time (in
        # version order, one layer per event), so that only the event that makes the document
        # unindexable is dead-lettered, not the valid events that shared its batch.
        layers = max((len(evs) for evs in split.values()), default=0)
        for i in range(layers):
            layer = {pid: [sorted(evs, key=lambda e: e.version)[i]]
                     for pid, evs in split.items() if len(evs) > i}
            self._rounds(layer, report, isolate=False)
        return report

    def _rounds(self, pending: dict[str, list[Event]], report: ApplyReport, *,
                isolate: bool) -> dict[str, list[Event]]:
        """Merge-and-write ``pending`` until no write conflicts; return the products to isolate."""
        split: dict[str, list[Event]] = {}
        blind = isolate and self.assume_new  # the first round only: a 409 then goes through a read
        for _round in range(self.max_conflict_rounds):
            if not pending:
                break
            offered = len(pending)
            pending, found = self._round(pending, report, split if isolate else None, read=not blind)
            if blind:
                report.create_misses += len(pending)
                self.assume_new = len(pending) * 50 <= offered
                blind = False
                continue
            report.conflicts += len(pending)
            if isolate and _round == 0:
                self.assume_new = found == 0 and offered >= self.chunk_size
        if pending:  # pathological contention: let the caller retry the batch later
            raise BackendUnavailable(f"{len(pending)} products still conflicting after retries")
        return split

    def _round(self, pending: dict[str, list[Event]], report: ApplyReport,
               split: dict[str, list[Event]] | None, *, read: bool = True
               ) -> tuple[dict[str, list[Event]], int]:
        """One read-merge-write of ``pending``; return the products to retry (409) and how many the
        reads found. ``read=False``: every product is taken as new (``create``, no ``mget``)."""
        outcome: dict[str, tuple[list[Event], list[Event]]] = {}
        timed = _TimedAnalyzer(self.analyzer)
        gen_cpu = [0.0]  # CPU of the action generator (merge, analysis, encoding), whatever thread runs it
        mget_cpu = [0.0]
        found = [0]
        ids = list(pending)
        retry: dict[str, list[Event]] = {}

        def actions() -> Iterator[dict[str, Any]]:
            # Lazy: with parallel_bulk this runs in the pool's feeder thread, so the next
            # chunk is read, merged and analysed while the previous one is in flight to ES
            # (one mget a chunk, so ES does not wait for a whole batch's reads).
            for start in range(0, len(ids), self.chunk_size):
                chunk_ids = ids[start:start + self.chunk_size]
                current: dict[str, dict[str, Any]] = {}
                if read:
                    c = time.thread_time()
                    current = self._mget(chunk_ids)
                    mget_cpu[0] += time.thread_time() - c
                    found[0] += len(current)
                yield from chunk(chunk_ids, current)

        def chunk(chunk_ids: list[str], current: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for pid in chunk_ids:
                evs = pending[pid]
                c = time.thread_time()
                cur = current.get(pid)
                res = merge_events(cur["_source"] if cur else None, evs)
                if not res.changed:
                    report.stale.extend(evs)
                    gen_cpu[0] += time.thread_time() - c
                    continue
                try:
                    doc = build_source(res.source, cast(Analyzer, timed), text_changed=res.text_changed)
                    body = _encode(doc)
                except Exception as err:  # a text the analyzer chokes on must not kill the consumer
                    gen_cpu[0] += time.thread_time() - c
                    if not read:  # merged from nothing: judge it on the stored document, after a read
                        retry[pid] = evs
                    elif split is not None and len(evs) > 1:
                        split[pid] = evs
                    else:
                        detail = f"{type(err).__name__}: {err}"[:1000]
                        report.rejected.extend(Rejection(e, "unindexable", detail) for e in res.applied)
                        report.stale.extend(res.stale)
                    continue
                action: dict[str, Any] = {"_index": self.index, "_id": pid, "_source": body}
                if cur:
                    action.update(_op_type="index", if_seq_no=cur["_seq_no"],
                                  if_primary_term=cur["_primary_term"])
                else:
                    action["_op_type"] = "create"
                outcome[pid] = (res.applied, res.stale)
                gen_cpu[0] += time.thread_time() - c
                yield action

        unavailable: list[str] = []
        c1, w1 = time.thread_time(), time.perf_counter()
        try:
            for ok, item in self._bulk(actions(), len(pending)):
                op = next(iter(item.values()))
                pid = op["_id"]
                applied, stale = outcome[pid]
                status = op.get("status", 0)
                if ok:
                    report.indexed.extend(applied)
                    report.stale.extend(stale)
                elif status == 409 or (status == 400 and not read):
                    # A lost race, a product written as new that exists, or a document merged from
                    # nothing that ES refused: read, merge and write it again.
                    retry[pid] = pending[pid]
                elif status != 400:
                    # 429, 5xx, and the statuses of a broken setup rather than a broken event: 403
                    # (write block, e.g. disk flood stage), 404 (index gone): retry, never dead-letter.
                    unavailable.append(f"{pid}: {status} {op.get('error', {}).get('type', '')}")
                elif split is not None and len(pending[pid]) > 1:
                    split[pid] = pending[pid]
                else:
                    err = op.get("error", {})
                    detail = f"{err.get('type', status)}: {err.get('reason', '')}"[:1000]
                    report.rejected.extend(Rejection(e, "es_rejected", detail) for e in applied)
                    report.stale.extend(stale)
        except (TransportError, ApiError) as err:
            raise BackendUnavailable(f"bulk failed: {err}") from err
        bulk_cpu = time.thread_time() - c1
        report.analyse_seconds += timed.cpu
        report.encode_seconds += gen_cpu[0] - timed.cpu  # merge, derived fields and JSON encoding
        # The client side of the reads and the bulk: the generator's mget calls, and this thread's
        # CPU outside the generator (with parallel_bulk the generator runs in the pool's feeder
        # thread, and the HTTP work in its workers).
        outside = bulk_cpu - gen_cpu[0] - mget_cpu[0] if self._serial(len(pending)) else bulk_cpu
        report.es_seconds += mget_cpu[0] + max(0.0, outside)
        report.es_wall_seconds += time.perf_counter() - w1
        if unavailable:
            raise BackendUnavailable(f"ES refused {len(unavailable)} writes, e.g. {unavailable[0]}")
        return retry, found[0]

    def _serial(self, n: int) -> bool:
        return self.threads <= 1 or n <= self.chunk_size

    def _bulk(self, actions: Iterator[dict[str, Any]], n: int) -> Iterable[tuple[bool, dict[str, Any]]]:
        """The one ES write of the project: ``streaming_bulk``, or ``parallel_bulk`` for big rounds."""
        if not self._serial(n):
            return parallel_bulk(self.es, actions, thread_count=self.threads, queue_size=self.threads,
                                 chunk_size=self.chunk_size, max_chunk_bytes=self.max_chunk_bytes,
                                 raise_on_error=False, raise_on_exception=True)
        return streaming_bulk(self.es, actions, chunk_size=self.chunk_size,
                              max_chunk_bytes=self.max_chunk_bytes, raise_on_error=False,
                              raise_on_exception=True, max_retries=3, initial_backoff=0.5, max_backoff=5)

    def _mget(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        try:
            resp = self.es.mget(index=self.index, ids=ids)
        except (TransportError, ApiError) as err:
            raise BackendUnavailable(f"mget failed: {err}") from err
        out = {}
        for d in resp["docs"]:
            if d.get("found"):
                out[d["_id"]] = d
            elif "error" in d:
                raise BackendUnavailable(f"mget item failed: {d['error']}")
        return out
