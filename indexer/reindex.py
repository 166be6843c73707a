"""Zero-downtime reindex that loses no live write, and rollback.

The sequence follows Searchkick's reindex-and-promote (create, load, check, swap the
alias in one call, keep the old index), and closes its known hole, writes lost during
the load (ankane/searchkick#1456):

1. take the lock (a document created with ``op_type=create``: two reindexes refuse);
2. create ``<alias>-<UTC timestamp>`` (refresh off, no replicas);
3. record the live consumer group's committed offsets **before** reading the source;
4. load the source (the live index re-analysed, a JSONL snapshot, or the topic);
5. catch up: apply every event after the recorded offsets to the new index, until the
   lag is small; restore the settings; check counts, canaries and facets (a canary or
   facet drift is checked again after catching up to the log's end, twice at most: the old
   index keeps taking live writes the new one may be behind on);
6. swap the alias in one ``_aliases`` call that removes every old target;
7. catch up once more, from where step 5 stopped to the log end after the swap;
8. keep the last N old indices for rollback, delete older ones, release the lock.

Why nothing is lost: every event committed before step 3 is in the source; every event
after it is applied in steps 5 and 7; and from the swap on the live indexer writes to
the new index itself. Applying an event twice is a no-op (``indexer/merge.py``), and the
live indexer's conditional writes (``if_seq_no``) turn its race with the swap into a
409 that it re-reads from the new index.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.helpers import parallel_bulk, scan
from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from analyzers import Analyzer
from indexer.admin import create_index, new_index_name
from indexer.decode import decode_event
from indexer.document import build_source
from indexer.merge import Event
from indexer.settings import DEFAULT_CANARIES, DEFAULT_CANARY_OVERLAP
from indexer.sink import EsSink
from schemas.errors import InvalidEvent, PocketSearchError
from schemas.events import Product

log = logging.getLogger("pocket.reindex")
LOCK_INDEX = "pocket-locks"
#: Checks of the new index against the old before the swap; a drift is re-checked after a catch-up.
CHECK_ATTEMPTS = 3
Progress = Callable[[str, int, int | None], None]  # (phase, done, total)


class ReindexError(PocketSearchError):
    """An expected reindex failure: lock held, check failed, nothing to roll back to."""

    code = "reindex_failed"


class DriftError(ReindexError):
    """A canary or facet differs between the old and the new index: a broken analysis or load,
    or only the live writes the new index has not caught up with yet (re-checked after a catch-up)."""


@dataclass
class ReindexConfig:
    alias: str
    topic: str
    group_id: str
    kafka_bootstrap: str
    source: str = "index"  # index | file | topic
    path: str | None = None
    retain: int = 2
    replicas: int = 0
    refresh_interval: str = "1s"
    catch_up_lag: int = 100
    canaries: tuple[str, ...] = DEFAULT_CANARIES
    canary_min_overlap: float = DEFAULT_CANARY_OVERLAP
    facet_tolerance: float = 0.10  # live writes keep moving the old index while we compare
    facet_min_slack: int = 5


@dataclass
class ReindexReport:
    new_index: str
    old_indices: list[str]
    loaded: int = 0
    caught_up: int = 0
    final_caught_up: int = 0
    documents: int = 0
    deleted_indices: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    docs_per_second: float = 0.0
    #: The phase a ``--resume`` picked up from (``load``, ``catch-up`` or ``swap``), else None.
    resumed_from: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


# ---------------------------------------------------------------- the lock

def _lock_id(alias: str) -> str:
    return f"reindex:{alias}"


def take_lock(es: Elasticsearch, alias: str, state: dict[str, Any]) -> None:
    """Create the lock document, or raise ReindexError naming the holder."""
    if not es.indices.exists(index=LOCK_INDEX):
        es.options(ignore_status=400).indices.create(
            index=LOCK_INDEX, settings={"number_of_shards": 1, "number_of_replicas": 0},
            mappings={"dynamic": False, "properties": {}})
    try:
        es.create(index=LOCK_INDEX, id=_lock_id(alias), document=state, refresh="wait_for")
    except Exception as err:
        if getattr(err, "meta", None) is not None and err.meta.status == 409:  # type: ignore[attr-defined]
            held = read_lock(es, alias) or {}
            raise ReindexError(
                f"a reindex of {alias!r} is already running or half-finished (by {held.get('owner')}, since "
                f"{held.get('started_at')}, into {held.get('new_index')}); use --resume or --abort") from err
        raise


def read_lock(es: Elasticsearch, alias: str) -> dict[str, Any] | None:
    try:
        return dict(es.get(index=LOCK_INDEX, id=_lock_id(alias))["_source"])
    except NotFoundError:
        return None


def update_lock(es: Elasticsearch, alias: str, **changes: Any) -> None:
    es.update(index=LOCK_INDEX, id=_lock_id(alias), doc=changes, refresh="wait_for")


def release_lock(es: Elasticsearch, alias: str) -> None:
    es.options(ignore_status=404).delete(index=LOCK_INDEX, id=_lock_id(alias), refresh="wait_for")


# ---------------------------------------------------------------- offsets

def committed_offsets(bootstrap: str, group_id: str, topic: str) -> dict[int, int]:
    """The group's committed offsets per partition (the log start where none is committed).

    Reads them with an OffsetFetch; this consumer never joins the group.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        begin = consumer.beginning_offsets(tps)
        out = {}
        for tp in tps:
            off = consumer.committed(tp)
            out[tp.partition] = off if off is not None and off >= 0 else begin[tp]
        return out
    finally:
        consumer.close(autocommit=False)


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return {tp.partition: off for tp, off in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def replay(bootstrap: str, topic: str, start: dict[int, int], sink: EsSink, *, stop_at: dict[int, int] | None = None,
           until_lag: int = 0, progress: Progress | None = None, batch: int = 1000) -> tuple[int, dict[int, int]]:
    """Apply events from ``start`` offsets to the sink's index, outside any consumer group.

    Stops when every partition reached ``stop_at`` (default: the log end, re-read as it
    grows) within ``until_lag`` messages. Invalid events are skipped here: the live
    indexer dead-letters them. Returns (events applied, the offsets reached).
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             max_poll_records=batch, auto_offset_reset="earliest")
    pos = dict(start)
    applied = 0
    try:
        tps = [TopicPartition(topic, p) for p in pos]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, pos[tp.partition])
        while True:
            target = stop_at or {tp.partition: off for tp, off in consumer.end_offsets(tps).items()}
            lag = sum(max(0, target[p] - pos[p]) for p in pos)
            if progress:
                progress("catch-up", applied, applied + lag)
            if lag <= until_lag:
                return applied, pos
            polled = consumer.poll(timeout_ms=1000)
            events: list[Event] = []
            for tp, recs in polled.items():
                for r in recs:
                    if stop_at and r.offset >= stop_at[tp.partition]:
                        continue
                    pos[tp.partition] = max(pos[tp.partition], r.offset + 1)
                    try:
                        events.append(decode_event(r.value))
                    except InvalidEvent:
                        continue
            if events:
                sink.apply(events)
                applied += len(events)
    finally:
        consumer.close()


# ---------------------------------------------------------------- sources

def scan_index(es: Elasticsearch, alias: str, **search: Any) -> Iterator[dict[str, Any]]:
    """Every hit behind ``alias``, in index order (a scroll: one consistent snapshot); ``search``
    adds to the request (``_source_includes``, ``seq_no_primary_term``).

    The index is refreshed first. A scroll sees only refreshed documents, and the live
    indexer may switch refresh off while it catches up (bulk mode): without the refresh, writes
    acknowledged a moment before would be missing (for a reindex: in neither the snapshot nor
    the catch-up from the recorded offsets, so the new index would lose them).
    """
    es.indices.refresh(index=alias)
    yield from scan(es, index=alias, query={"query": {"match_all": {}}}, size=1000, preserve_order=False,
                    scroll="5m", **search)


def _from_index(es: Elasticsearch, alias: str) -> Iterator[dict[str, Any]]:
    """Every ``_source`` behind ``alias`` (:func:`scan_index`)."""
    for hit in scan_index(es, alias):
        yield hit["_source"]


def _events_from_file(path: str) -> Iterator[Event]:
    with open(path, "rb") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield decode_event(line.rstrip(b"\n"))
                except InvalidEvent as err:
                    raise ReindexError(f"{path}:{i}: {err.reason}: {err.detail}") from err


def _chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    buf: list[Any] = []
    for it in items:
        buf.append(it)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf


def load_from_index(es: Elasticsearch, alias: str, new_index: str, analyzer: Analyzer,
                    progress: Progress | None = None, *, threads: int = 2) -> int:
    """Copy every document (tombstones included: they keep delete versions) into ``new_index``.

    Documents analysed with another analyzer version (a dictionary change) are analysed
    again; the others are copied as they are. Bulk requests run on ``threads`` threads, so
    ES indexes one chunk while Python reads and analyses the next.
    """
    total = es.count(index=alias)["count"]

    def actions() -> Iterator[dict[str, Any]]:
        for src in _from_index(es, alias):
            doc = build_source(dict(src), analyzer, text_changed=False)
            yield {"_op_type": "index", "_index": new_index, "_id": doc["product_id"], "_source": doc}

    done = 0
    for ok, item in parallel_bulk(es, actions(), thread_count=threads, chunk_size=500, queue_size=4,
                                  raise_on_error=False, raise_on_exception=True):
        if not ok:
            raise ReindexError(f"bulk load failed: {item}")
        done += 1
        if progress and done % 1000 == 0:
            progress("load", done, total)
    if progress:
        progress("load", done, total)
    return done


def count_events(path: str) -> int:
    """Non-blank lines of a JSONL snapshot: the total a progress bar needs for its ETA (one
    quick read of the file before the load)."""
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def load_events(events: Iterable[Event], sink: EsSink, progress: Progress | None = None,
                total: int | None = None) -> int:
    done = 0
    for chunk in _chunks(events, 1000):
        sink.apply(chunk)
        done += len(chunk)
        if progress:
            progress("load", done, total)
    return done


# ---------------------------------------------------------------- checks

def _facet_counts(es: Elasticsearch, index: str, keys: dict[str, list[str]] | None = None
                  ) -> dict[str, dict[str, int]]:
    """Top brand and category counts of searchable documents; with ``keys``, exactly those keys.

    The new index is counted on the old index's keys, so that a key just outside one side's
    top N is compared by its real count, not as a 0.
    """
    fields = {"brand": "brand", "category": "category_levels"}
    aggs = {}
    for name, es_field in fields.items():
        terms: dict[str, Any] = {"field": es_field, "size": 20}
        if keys is not None:
            terms.update(include=keys[name] or ["\u0000"], size=max(1, len(keys[name])))
        aggs[name] = {"terms": terms}
    resp = es.search(index=index, size=0, query={"term": {"searchable": True}}, aggs=aggs)
    return {k: {b["key"]: b["doc_count"] for b in resp["aggregations"][k]["buckets"]} for k in fields}


def _canary_hits(es: Elasticsearch, index: str, analyzer: Analyzer, q: str) -> list[str]:
    from search_api.text_query import build_text_query

    qa = analyzer.analyze_query(q)
    body = {"bool": {"must": [build_text_query(qa)], "filter": [{"term": {"searchable": True}}]}}
    # Ties broken by product id, as /search does: ES would break them by internal doc id,
    # which differs between the old and the new index.
    resp = es.search(index=index, query=body, size=10, source=False,
                     sort=[{"_score": "desc"}, {"product_id": "asc"}])
    return [h["_id"] for h in resp["hits"]["hits"]]


def check(es: Elasticsearch, old: str | None, new: str, cfg: ReindexConfig, analyzer: Analyzer,
          expected_docs: int | None) -> dict[str, Any]:
    """Counts, canaries and facet distributions; raise ReindexError when one fails.

    Both sides are refreshed first: the live index may be in the indexer's bulk mode
    (refresh off while it catches up), and a stale view of it reads as a facet drift.
    """
    es.indices.refresh(index=[new, old] if old else new)
    out: dict[str, Any] = {}
    count = es.count(index=new)["count"]
    out["documents"] = count
    if expected_docs is not None and count < expected_docs:
        raise ReindexError(f"new index has {count} documents, the source had {expected_docs}")
    if old is None:
        return out
    canaries = {}
    for q in cfg.canaries:
        before, after = _canary_hits(es, old, analyzer, q), _canary_hits(es, new, analyzer, q)
        overlap = len(set(before) & set(after)) / max(1, len(before))
        canaries[q] = {"old": len(before), "new": len(after), "top10_overlap": round(overlap, 2)}
        if before and (not after or overlap < cfg.canary_min_overlap):
            raise DriftError(f"canary {q!r}: top hits changed too much ({canaries[q]})")
    out["canaries"] = canaries
    f_old = _facet_counts(es, old)
    f_new = _facet_counts(es, new, {k: list(v) for k, v in f_old.items()})
    for facet in ("brand", "category"):
        for key, n in f_old[facet].items():
            m = f_new[facet].get(key, 0)
            if abs(m - n) > max(cfg.facet_min_slack, cfg.facet_tolerance * n):
                raise DriftError(f"facet {facet}={key!r}: {n} before, {m} after (tolerance "
                                 f"{cfg.facet_tolerance:.0%})")
    out["facets"] = "within bounds"
    return out


def _check_settled(es: Elasticsearch, old: str | None, new: str, cfg: ReindexConfig, analyzer: Analyzer,
                   expected_docs: int | None, sink: EsSink, pos: dict[int, int],
                   report: ReindexReport) -> tuple[dict[str, Any], dict[int, int]]:
    """:func:`check`, again after a catch-up when a canary or facet drifts; returns the checks
    and the offsets reached.

    The old index takes live writes the new one may still be up to ``catch_up_lag`` events
    behind on: a drift is checked again after catching up to the log's end as of then. A real
    fault (a broken analysis, a lost load) drifts the same way every time.
    """
    for attempt in range(1, CHECK_ATTEMPTS):
        try:
            return check(es, old, new, cfg, analyzer, expected_docs), pos
        except DriftError as err:
            log.warning("reindex check drifted; catching up and checking again",
                        extra={"error": str(err), "attempt": attempt})
            more, pos = replay(cfg.kafka_bootstrap, cfg.topic, pos, sink,
                               stop_at=end_offsets(cfg.kafka_bootstrap, cfg.topic))
            report.caught_up += more
    return check(es, old, new, cfg, analyzer, expected_docs), pos


# ---------------------------------------------------------------- alias swap

def alias_targets(es: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(es.indices.get_alias(name=alias))
    except NotFoundError:
        return []


def swap_alias(es: Elasticsearch, alias: str, new_index: str) -> list[str]:
    """Point ``alias`` at ``new_index`` alone, in ONE ``_aliases`` call. Returns the old targets."""
    old = [i for i in alias_targets(es, alias) if i != new_index]
    actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in old]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    es.indices.update_aliases(actions=actions)
    return old


def versioned_indices(es: Elasticsearch, alias: str) -> list[str]:
    """``<alias>-*`` indices, oldest first by creation date."""
    got = es.indices.get(index=f"{alias}-*", expand_wildcards="open", features=["settings"])
    created = {name: int(body["settings"]["index"]["creation_date"]) for name, body in got.items()
               if name.startswith(alias + "-")}
    return sorted(created, key=lambda n: (created[n], n))


def prune(es: Elasticsearch, alias: str, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` old indices (the alias target is never deleted)."""
    live = set(alias_targets(es, alias))
    old = [i for i in versioned_indices(es, alias) if i not in live]
    doomed = old[: max(0, len(old) - keep)]
    for i in doomed:
        es.indices.delete(index=i)
    return doomed


# ---------------------------------------------------------------- the commands

def reindex(es: Elasticsearch, cfg: ReindexConfig, analyzer: Analyzer, *, resume: bool = False,
            progress: Progress | None = None) -> ReindexReport:
    """Run the whole sequence (see the module docstring). Raises ReindexError on expected failures.

    ``resume`` picks a half-finished reindex up where its lock says it stopped: an
    interrupted load is done again (loading is idempotent); after a finished load only the
    catch-up, checks and swap run; after the swap, only the final catch-up and the pruning.
    """
    t0 = time.monotonic()
    old_targets = alias_targets(es, cfg.alias)
    phase = "load"
    loaded_before = 0
    if resume:
        state = read_lock(es, cfg.alias)
        if not state:
            raise ReindexError(f"no half-finished reindex of {cfg.alias!r} to resume")
        new_index, start = state["new_index"], {int(k): v for k, v in state["offsets"].items()}
        phase = state.get("phase") or "load"
        loaded_before = int(state.get("loaded") or 0)
        if state.get("source") and state["source"] != cfg.source:  # resume what was started
            cfg = dataclasses.replace(cfg, source=state["source"], path=state.get("path") or cfg.path)
        if not es.indices.exists(index=new_index):
            create_index(es, new_index, analyzer, replicas=0, refresh_interval="-1")
            phase = "load"
        if phase == "create":  # stopped before the offsets were recorded: start them now
            start = _record_offsets(es, cfg)
            phase = "load"
    else:
        new_index = new_index_name(cfg.alias)
        take_lock(es, cfg.alias, {"owner": f"{getpass.getuser()}@{socket.gethostname()}:{os.getpid()}",
                                  "started_at": datetime.now(UTC).isoformat(), "new_index": new_index,
                                  "phase": "create", "offsets": {}, "source": cfg.source, "path": cfg.path})
        create_index(es, new_index, analyzer, replicas=0, refresh_interval="-1")
        start = _record_offsets(es, cfg)
    swapped = new_index in old_targets  # resumed after the swap itself
    old_targets = [i for i in old_targets if i != new_index]
    report = ReindexReport(new_index=new_index, old_indices=old_targets,
                           resumed_from=phase if resume else None)
    sink = EsSink(es, index=new_index, analyzer=analyzer)

    expected: int | None = None
    if phase == "load":
        expected = _load(es, cfg, new_index, old_targets, sink, analyzer, start, report, progress)
        update_lock(es, cfg.alias, phase="catch-up", loaded=report.loaded)
    elif cfg.source == "index":
        expected = loaded_before
    load_seconds = time.monotonic() - t0

    pos = start
    if not swapped:
        report.caught_up, pos = replay(cfg.kafka_bootstrap, cfg.topic, start, sink, until_lag=cfg.catch_up_lag,
                                       progress=progress)
        es.indices.put_settings(index=new_index, settings={"index": {
            "refresh_interval": cfg.refresh_interval, "number_of_replicas": cfg.replicas}})
        report.checks, pos = _check_settled(es, old_targets[0] if old_targets else None, new_index, cfg,
                                            analyzer, expected, sink, pos, report)
        update_lock(es, cfg.alias, phase="swap")
        swap_alias(es, cfg.alias, new_index)
        if progress:
            progress("swap", 1, 1)
    after_swap = end_offsets(cfg.kafka_bootstrap, cfg.topic)
    report.final_caught_up, _ = replay(cfg.kafka_bootstrap, cfg.topic, pos, sink, stop_at=after_swap)
    for old in old_targets:  # what rollback needs to bring an old index up to date again
        es.indices.put_mapping(index=old, meta={**_meta(es, old), "retired_at_offsets":
                                                {str(k): v for k, v in after_swap.items()}})
    es.indices.refresh(index=new_index)
    report.documents = es.count(index=new_index)["count"]
    report.deleted_indices = prune(es, cfg.alias, cfg.retain)
    release_lock(es, cfg.alias)
    report.seconds = round(time.monotonic() - t0, 2)
    report.docs_per_second = round(report.loaded / load_seconds, 1) if report.loaded and load_seconds else 0.0
    return report


def _record_offsets(es: Elasticsearch, cfg: ReindexConfig) -> dict[int, int]:
    """The live indexer's committed offsets, recorded in the lock before the load: the catch-up
    replays from them."""
    start = committed_offsets(cfg.kafka_bootstrap, cfg.group_id, cfg.topic)
    update_lock(es, cfg.alias, phase="load", offsets={str(k): v for k, v in start.items()})
    return start


def _load(es: Elasticsearch, cfg: ReindexConfig, new_index: str, old_targets: list[str], sink: EsSink,
          analyzer: Analyzer, start: dict[int, int], report: ReindexReport,
          progress: Progress | None) -> int | None:
    """Bulk-load the source into ``new_index``; return the document count the new index must
    reach (``None`` when the source is events rather than documents)."""
    if cfg.source == "index":
        if not old_targets:
            raise ReindexError(f"alias {cfg.alias!r} has no index to reindex from (use --from file or topic)")
        report.loaded = load_from_index(es, cfg.alias, new_index, analyzer, progress)
        return report.loaded
    if cfg.source == "file":
        if not cfg.path:
            raise ReindexError("--from file needs a PATH")
        total = count_events(cfg.path) if progress else None
        report.loaded = load_events(_events_from_file(cfg.path), sink, progress, total)
        return None
    if cfg.source == "topic":
        report.loaded, _ = replay(cfg.kafka_bootstrap, cfg.topic, {p: 0 for p in start}, sink, stop_at=start,
                                  progress=progress)
        return None
    raise ReindexError(f"unknown source {cfg.source!r}: index, file or topic")


def _meta(es: Elasticsearch, index: str) -> dict[str, Any]:
    return dict(es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {}))


def abort(es: Elasticsearch, alias: str) -> str | None:
    """Drop a half-finished reindex: its new index (unless live) and the lock."""
    state = read_lock(es, alias)
    if not state:
        raise ReindexError(f"no half-finished reindex of {alias!r} to abort")
    new_index = state.get("new_index")
    if new_index and new_index not in alias_targets(es, alias):
        es.options(ignore_status=404).indices.delete(index=new_index)
    release_lock(es, alias)
    return new_index


def rollback(es: Elasticsearch, alias: str, analyzer: Analyzer, *, kafka_bootstrap: str, topic: str
             ) -> dict[str, Any]:
    """Point the alias back at the previous index in one call, then replay what it missed."""
    live = alias_targets(es, alias)
    ordered = versioned_indices(es, alias)
    newest_live = max((ordered.index(i) for i in live if i in ordered), default=len(ordered))
    older = [i for i in ordered[:newest_live] if i not in live]
    if not older:
        raise ReindexError(f"no previous index of {alias!r} to roll back to")
    previous = older[-1]
    swap_alias(es, alias, previous)
    retired = _meta(es, previous).get("retired_at_offsets")
    replayed = 0
    if retired:
        sink = EsSink(es, index=previous, analyzer=analyzer)
        replayed, _ = replay(kafka_bootstrap, topic, {int(k): v for k, v in retired.items()}, sink)
    return {"alias": alias, "now": previous, "was": live, "replayed_events": replayed}


def export_events(es: Elasticsearch, alias: str, out: Any) -> int:
    """Write the index as JSONL upsert/delete events (a snapshot ``--from file`` can load)."""
    n = 0
    now = datetime.now(UTC).isoformat()
    for src in _from_index(es, alias):
        meta = src.get("meta") or {}
        base = {"event_id": f"export-{src['product_id']}-{src.get('version')}", "product_id": src["product_id"],
                "shop_id": src["shop_id"], "occurred_at": now}
        if not src.get("visible"):
            if meta.get("v_delete"):
                out.write(orjson.dumps({**base, "type": "delete", "version": meta["v_delete"]}) + b"\n")
                n += 1
            continue
        product = {k: src.get(k) for k in Product.model_fields}
        product = {k: v for k, v in product.items() if v is not None}
        out.write(orjson.dumps({**base, "type": "upsert", "version": src.get("version") or 1,
                                "product": product}) + b"\n")
        n += 1
    return n
