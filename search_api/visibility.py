"""Why is my product not showing? One listing's visibility, answered from the index and the stream.

:meth:`VisibilityService.visibility` puts together, for one product id:

* **indexed**: the indexed version and ``indexed_at``, against the events of this product
  the indexer has not committed yet (read from the product's partition of the change
  topic, from the indexer group's committed offset to the end) and its dead letters;
* **eligible**: every rule that hides or sinks it, each with a reason code (:data:`REASONS`);
* **query** (with ``q``): tokens and per-field matches, missing terms, the rank among all
  results marketplace-wide and in the shop's storefront (counted with the very ES body
  ``/search`` runs, so it equals the position there), the score breakdown, the top 3
  competitors (searchable products only) and suggestions in Chinese;
* a one-line Chinese ``summary``.

Tenancy: with ``shop_id`` given (the merchant endpoints), a product of another shop and a
product that does not exist raise the same :class:`NotFound`, after the same work (the stream
is always read, whatever the index says), so ids cannot be probed by status or by timing.
``shop_id=None`` is the ops view of the CLI.

Shop suspension (``search_api/shops.py``) hides every listing of the shop with the
``shop_suspended`` reason and the reason ops gave.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2
from kafka.structs import TopicPartition

from analyzers import INDEX_TEXT_FIELDS
from indexer.dlq import parse_headers
from schemas.errors import BackendUnavailable, NotFound
from search_api.intent import parse_price_intent
from search_api.params import SearchParams
from search_api.service import SearchService
from search_api.settings import ApiSettings

log = logging.getLogger("pocket.api.merchant")

#: Reason codes and their effect: ``hidden`` (not in any result), ``demoted`` (shown, ranked
#: lower), ``stale`` (the index shows an older version than the stream has).
REASONS: dict[str, tuple[str, str]] = {
    "not_indexed": ("hidden", "商品尚未进入搜索索引"),
    "deleted": ("hidden", "商品已删除"),
    "off_shelf": ("hidden", "商品已下架，上架后才能被搜索到"),
    "banned": ("hidden", "商品已被平台封禁，不会出现在搜索结果中"),
    "shop_suspended": ("hidden", "店铺已被暂停，店内商品暂不展示"),
    "out_of_stock": ("demoted", "库存为 0，商品被降权"),
    "pending": ("stale", "最新修改尚未生效，正在等待索引"),
    "dead_lettered": ("stale", "最新修改未能入库（进入死信队列），请修正后重新提交"),
}
TITLE_FIELDS = ("title_words", "title_chars", "title_bigrams", "title_pinyin", "title_initials",
                "brand_words")
_NOT_FOUND = "no listing {!r} in your shop"


def reason(code: str, **extra: Any) -> dict[str, Any]:
    effect, message = REASONS[code]
    return {"code": code, "effect": effect, "message": message, **extra}


# ---------------------------------------------------------------------------- the stream


@dataclass
class StreamState:
    """What the change topic and the dead-letter topic hold for one product id."""

    available: bool = True
    error: str | None = None
    partition: int | None = None
    committed_offset: int | None = None
    end_offset: int | None = None
    truncated: bool = False
    pending: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    def shop_ids(self) -> list[str]:
        return [e["shop_id"] for e in self.pending + self.dead_letters if e.get("shop_id")]


def partition_for(key: bytes, partitions: int) -> int:
    """The partition kafka-python's DefaultPartitioner (murmur2, as the Java client) picks for ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def _event_fields(value: bytes | None) -> dict[str, Any]:
    try:
        obj = orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict):
        return {"version": None, "event_id": None, "type": None, "shop_id": None, "occurred_at": None}
    version = obj.get("version")
    return {"version": version if isinstance(version, int) and not isinstance(version, bool) else None,
            "event_id": str(obj.get("event_id"))[:100] if obj.get("event_id") is not None else None,
            "type": str(obj.get("type"))[:20] if obj.get("type") is not None else None,
            "shop_id": obj.get("shop_id") if isinstance(obj.get("shop_id"), str) else None,
            "occurred_at": str(obj.get("occurred_at"))[:40] if obj.get("occurred_at") is not None else None}


class StreamReader:
    """The merchant look-ups' reads of the change topic and the DLQ, with Kafka consumers kept
    per API process instead of one opened per look-up.

    A new consumer per look-up spent ~130 ms of each one opening a connection and fetching
    the cluster metadata (measured: 140 ms a look-up against a local broker, 6-8 ms with the
    consumer kept). Up to ``merchant.stream_consumers`` look-ups read at once, each on a
    consumer of its own (a ``KafkaConsumer`` is not thread-safe, and look-ups run in worker
    threads); a consumer is made when none is idle. Each look-up assigns the partitions it
    reads and leaves none assigned. Committed offsets are fetched from the broker on every
    look-up, never cached. A consumer that raised a Kafka error is closed, not kept.
    """

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._idle: list[KafkaConsumer] = []
        self._slots = threading.BoundedSemaphore(settings.merchant.stream_consumers)

    def product(self, product_id: str) -> StreamState:
        """The product's uncommitted events and its dead letters. Blocking (run it in a thread).

        Reads the product's partition of ``settings.topic`` from ``settings.group_id``'s
        committed offset (the beginning if the group never committed) to the end, and every
        partition of ``settings.dlq_topic``, keeping the records keyed by ``product_id``.
        Bounded by ``merchant.stream_scan_max`` records and ``merchant.stream_timeout_s``; past
        either the answer says ``truncated``. Kafka errors give ``available=False``, never an
        exception.
        """
        return self._read(key=product_id.encode())

    def shop(self, shop_id: str) -> StreamState:
        """Like :meth:`product`, over every partition, keeping the events that name ``shop_id``.

        Hidden cost: every uncommitted event and every dead letter is parsed (bounded as above).
        """
        return self._read(shop_id=shop_id)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for consumer in idle:
            _close_quietly(consumer)

    def _open(self) -> KafkaConsumer:
        m = self.settings.merchant
        return KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=self.settings.group_id,
                             enable_auto_commit=False, client_id="pocket-merchant-visibility",
                             request_timeout_ms=int(m.stream_timeout_s * 1000) + 1000,
                             max_poll_records=2000, consumer_timeout_ms=1000,
                             metadata_max_age_ms=30_000)  # new partitions are seen within 30 s

    def _read(self, *, key: bytes | None = None, shop_id: str | None = None) -> StreamState:
        with self._slots:
            with self._lock:
                consumer = self._idle.pop() if self._idle else None
            kept = False
            try:
                if consumer is None:
                    consumer = self._open()
                state = _read_stream(consumer, self.settings, key=key, shop_id=shop_id)
                consumer.unsubscribe()  # no partition stays assigned between look-ups
                kept = True
            except KafkaError as err:
                return StreamState(available=False, error=type(err).__name__)
            finally:
                if not kept and consumer is not None:  # a Kafka error, or anything else
                    _close_quietly(consumer)
            with self._lock:
                self._idle.append(consumer)
            return state


def _close_quietly(consumer: KafkaConsumer) -> None:
    try:
        consumer.close(autocommit=False)
    except Exception:  # closing a broken consumer must not hide the error that broke it
        log.debug("closing a merchant stream consumer failed", exc_info=True)


def _read_stream(consumer: KafkaConsumer, settings: ApiSettings, *, key: bytes | None,
                 shop_id: str | None) -> StreamState:
    state = StreamState()
    ranges: dict[TopicPartition, tuple[int, int]] = {}
    parts = consumer.partitions_for_topic(settings.topic)
    chosen = sorted(parts or [])
    if chosen and key is not None:
        chosen = [chosen[partition_for(key, len(chosen))]]
    for p in chosen:
        tp = TopicPartition(settings.topic, p)
        committed = consumer.committed(tp)
        start = committed if committed is not None else consumer.beginning_offsets([tp])[tp]
        end = consumer.end_offsets([tp])[tp]
        if key is not None:
            state.partition, state.committed_offset, state.end_offset = tp.partition, committed, end
        ranges[tp] = (start, end)
    dlq_parts = consumer.partitions_for_topic(settings.dlq_topic) or set()
    dtps = [TopicPartition(settings.dlq_topic, p) for p in sorted(dlq_parts)]
    if dtps:
        begins, ends = consumer.beginning_offsets(dtps), consumer.end_offsets(dtps)
        ranges.update({t: (begins[t], ends[t]) for t in dtps})
    ranges = {t: r for t, r in ranges.items() if r[0] < r[1]}
    if ranges:
        _scan(consumer, ranges, settings, state, key=key, shop_id=shop_id)
    return state


def _scan(consumer: KafkaConsumer, ranges: dict[TopicPartition, tuple[int, int]], settings: ApiSettings,
          state: StreamState, *, key: bytes | None, shop_id: str | None) -> None:
    consumer.assign(list(ranges))
    for tp, (start, _) in ranges.items():
        consumer.seek(tp, start)
    left = dict(ranges)
    deadline = time.monotonic() + settings.merchant.stream_timeout_s
    read = 0
    while left:
        if time.monotonic() > deadline or read >= settings.merchant.stream_scan_max * 2:
            state.truncated = True
            return
        batch = consumer.poll(timeout_ms=500)
        for tp, records in batch.items():
            for rec in records:
                if tp not in left or rec.offset >= left[tp][1]:
                    continue
                read += 1
                if (key is not None and rec.key == key) or \
                        (shop_id is not None and _event_fields(rec.value)["shop_id"] == shop_id):
                    _keep(tp, rec, settings, state)
        for tp in list(left):
            if consumer.position(tp) >= left[tp][1]:
                del left[tp]
                consumer.pause(tp)


def _keep(tp: TopicPartition, rec: Any, settings: ApiSettings, state: StreamState) -> None:
    fields = _event_fields(rec.value)
    fields["product_id"] = rec.key.decode(errors="replace") if rec.key else None
    if tp.topic == settings.topic:
        state.pending.append({**fields, "partition": tp.partition, "offset": rec.offset})
        return
    h = parse_headers(rec.headers)
    state.dead_letters.append({
        "reason": h.get("reason"), "detail": h.get("detail"), "failed_at": h.get("failed_at"),
        "product_id": fields["product_id"],
        "event_id": h.get("event_id") or fields["event_id"], "version": fields["version"],
        "type": fields["type"], "shop_id": fields["shop_id"], "source_partition": h.get("partition"),
        "source_offset": h.get("offset"), "dlq_offset": rec.offset})


# ---------------------------------------------------------------------------- eligibility


def eligibility_reasons(doc: dict[str, Any] | None, stock_multiplier: float) -> list[dict[str, Any]]:
    """The index-side reasons a stored document is hidden or sunk (no stream state)."""
    if doc is None or not doc.get("title") or not (doc.get("meta") or {}).get("v_upsert", 1):
        return [reason("not_indexed")]
    out = []
    meta = doc.get("meta") or {}
    if not doc.get("visible", False) and meta.get("v_delete", 0) >= meta.get("v_upsert", 0):
        out.append(reason("deleted", version=meta.get("v_delete")))
    if doc.get("status") == "off_shelf":
        out.append(reason("off_shelf"))
    if doc.get("status") == "banned":
        out.append(reason("banned"))
    if not doc.get("in_stock", True) and doc.get("searchable"):
        out.append(reason("out_of_stock", stock=doc.get("stock"), multiplier=stock_multiplier))
    return out


def _letter_is_current(letter: dict[str, Any], doc: dict[str, Any] | None) -> bool:
    """A dead letter still matters unless a newer version has been indexed since."""
    if doc is None or not doc.get("version"):
        return True
    if letter.get("version") is not None:
        return int(letter["version"]) > int(doc["version"])
    return bool(letter.get("failed_at") and doc.get("indexed_at") and letter["failed_at"] > doc["indexed_at"])


def _float32_next(score: float) -> tuple[float, float]:
    """``score`` as the float32 ES computed, and the next float32 above it (for ``min_score``)."""
    bits = struct.unpack("<I", struct.pack("<f", score))[0]
    same = struct.unpack("<f", struct.pack("<I", bits))[0]
    above = struct.unpack("<f", struct.pack("<I", bits + 1))[0] if score > 0 else 1e-38
    return same, above


# ---------------------------------------------------------------------------- the service


class VisibilityService:
    """The merchant and ops view of listings. Uses the storefront's :class:`SearchService`
    for every ES body, so a rank here is the rank ``/search`` gives."""

    def __init__(self, search: SearchService, settings: ApiSettings) -> None:
        self.search = search
        self.es = search.es
        self.settings = settings
        self.stream = StreamReader(settings)

    async def _get(self, product_id: str) -> dict[str, Any] | None:
        resp = await self.es.options(ignore_status=404).get(index=self.search.index, id=product_id,
                                                            source_excludes=["suggest"])
        if not resp.get("found") and resp.get("error"):
            raise BackendUnavailable("the product index is not there yet")
        return resp["_source"] if resp.get("found") else None

    async def visibility(self, product_id: str, *, shop_id: str | None, q: str = "") -> dict[str, Any]:
        """The visibility answer for ``product_id``; with ``shop_id``, only if that shop owns it.

        Raises NotFound for a missing product and, identically, for another shop's.
        Hidden cost: a Kafka read of one partition and of the DLQ (bounded, see settings).
        """
        doc, stream = await asyncio.gather(
            self._get(product_id), asyncio.to_thread(self.stream.product, product_id))
        owner = doc.get("shop_id") if doc else next(iter(stream.shop_ids()), None)
        if owner is None or (shop_id is not None and owner != shop_id):
            raise NotFound(_NOT_FOUND.format(product_id))
        indexed = self._indexed(doc, stream)
        reasons = eligibility_reasons(doc, self.settings.ranking.out_of_stock)
        suspended = await self.search.shops.refresh()
        if owner in suspended:
            reasons.insert(0, reason("shop_suspended", **suspended[owner]))
        if indexed["pending"]:
            reasons.append(reason("pending", versions=[e["version"] for e in indexed["pending"]]))
        current_letters = [dl for dl in indexed["dead_letters"] if dl["current"]]
        if current_letters:
            last = current_letters[-1]
            reasons.append(reason("dead_lettered", dlq_reason=last["reason"], failed_at=last["failed_at"],
                                  event_id=last["event_id"]))
        searchable = bool(doc and doc.get("searchable")) and owner not in suspended
        sink = self.settings.ranking.out_of_stock
        out: dict[str, Any] = {
            "product_id": product_id, "shop_id": owner, "title": doc.get("title") if doc else None,
            "searchable": searchable, "indexed": indexed,
            "eligible": {
                "searchable": searchable, "reasons": reasons,
                "stock_policy": {"out_of_stock": "shown_demoted",
                                 "multiplier": sink,
                                 "message": f"缺货商品仍会被搜索到，但排序分数乘以 {sink}"},
            },
            "query": None,
        }
        q = q.strip()
        if q and doc and doc.get("title"):
            out["query"] = await self._query(doc, q, searchable)
        out["suggestions"] = _suggestions(reasons, out["query"])
        out["summary"] = _summary(out)
        return out

    def _indexed(self, doc: dict[str, Any] | None, stream: StreamState) -> dict[str, Any]:
        version = int(doc.get("version") or 0) if doc else 0
        pending = [e for e in stream.pending if e["version"] is None or e["version"] > version]
        letters = [{**dl, "current": _letter_is_current(dl, doc)} for dl in stream.dead_letters]
        for e in pending + letters:
            e.pop("shop_id", None)  # attribution only; never echoed
            e.pop("product_id", None)
        seen = max([version] + [e["version"] for e in pending if e["version"] is not None])
        return {
            "in_index": doc is not None, "version": version or None,
            "indexed_at": doc.get("indexed_at") if doc else None,
            "event_id": doc.get("event_id") if doc else None,
            "newest_version_in_stream": seen or None,
            "up_to_date": bool(doc) and not pending and stream.available and not stream.truncated,
            "pending": pending, "dead_letters": letters,
            "stream": {"available": stream.available, "error": stream.error, "partition": stream.partition,
                       "committed_offset": stream.committed_offset, "end_offset": stream.end_offset,
                       "truncated": stream.truncated},
        }

    # ------------------------------------------------------------------ the query

    async def _query(self, doc: dict[str, Any], q: str, searchable: bool) -> dict[str, Any]:
        svc = self.search
        text, intent = parse_price_intent(q)
        qa = svc.analyzer.analyze_query(text)
        q_tokens = svc.analyzer.explain(text) if text else {}
        fields = {}
        for name in INDEX_TEXT_FIELDS:
            toks = q_tokens.get(name) or []
            if not toks:
                continue
            have = set((doc.get(name) or "").split())
            fields[name] = {"matched": [t for t in toks if t in have],
                            "missing": [t for t in toks if t not in have]}
        missing = _missing_words(qa, doc)
        out: dict[str, Any] = {
            "q": q, "query_text": text, "intent": intent.as_dict() if intent else None,
            "query_tokens": {"words": qa.words, "chars": qa.chars, "bigrams": qa.bigrams, "brands": qa.brands,
                             "synonyms": qa.synonyms},
            "title_tokens": {name: (doc.get(name) or "").split() for name in TITLE_FIELDS},
            "fields": fields,
            "missing_terms": missing,
            "missing_messages": [f"标题中没有『{w}』" for w in missing],
            "rank": {"marketplace": None, "storefront": None},
            "score": None, "competitors": [],
        }
        scopes = {"marketplace": SearchParams(q=q), "storefront": SearchParams(q=q, shop_id=doc["shop_id"])}
        for scope, p in scopes.items():
            cheap_max = await svc._cheap_ceiling(p, qa) if intent and intent.cheap else None
            body = svc._body(p, qa, intent, cheap_max, relax=False)
            rank, score = await self._rank(body, doc["product_id"]) if searchable else (None, None)
            out["rank"][scope] = rank
            if scope == "marketplace":
                if score is not None:
                    out["score"] = svc._explain(doc, score, qa, svc.analyzer.explain(qa.text), self.settings.ranking,
                                                datetime.now(UTC))
                    out["score"]["total"] = score
                out["competitors"] = await self._competitors(body, doc["product_id"])
        return out

    async def _rank(self, body: dict[str, Any], product_id: str) -> tuple[dict[str, Any], float | None]:
        """Position of ``product_id`` in the results of ``body`` (sorted by score, then id).

        position = 1 + (results scoring higher) + (results scoring the same with a smaller id):
        four size-0 ES queries instead of paging, so a listing at rank 5,000 costs the same.
        """
        base = {k: v for k, v in body.items() if k not in ("aggs", "sort", "from", "size", "_source")}
        post = [base.pop("post_filter")] if "post_filter" in base else []

        def counted(*extra: dict[str, Any], min_score: float | None = None, size: int = 0) -> dict[str, Any]:
            b = {**base, "size": size, "_source": False, "track_total_hits": True}
            if post or extra:
                b["post_filter"] = {"bool": {"filter": [*post, *extra]}}
            if min_score is not None:
                b["min_score"] = min_score
            return b

        idx = {"index": self.search.index}
        own = await self.es.msearch(searches=[idx, counted(), idx,
                                              counted({"ids": {"values": [product_id]}}, size=1)])
        total = own["responses"][0]["hits"]["total"]["value"]
        hits = own["responses"][1]["hits"]["hits"]
        if not hits:
            out: dict[str, Any] = {"position": None, "total": total, "in_results": False}
            if total == 0:  # /search then answers with a corrected or relaxed query (its "recovery")
                out["note"] = "该查询没有完全匹配的结果，搜索页会改用纠错或放宽后的查询"
            return out, None
        score = hits[0]["_score"]
        same, above = _float32_next(score)
        before = {"range": {"product_id": {"lt": product_id}}}
        resp = await self.es.msearch(searches=[idx, counted(min_score=above),
                                               idx, counted(before, min_score=same),
                                               idx, counted(before, min_score=above)])
        higher, ge_before, gt_before = (r["hits"]["total"]["value"] for r in resp["responses"])
        position = 1 + higher + (ge_before - gt_before)
        return {"position": position, "total": total, "in_results": True,
                "page": (position - 1) // 20 + 1}, score

    async def _competitors(self, body: dict[str, Any], product_id: str) -> list[dict[str, Any]]:
        """The top 3 other results of the query: searchable products only (the body's filter)."""
        b = {k: v for k, v in body.items() if k != "aggs"}
        shown = ["title", "shop_name", "price", "in_stock"]
        b.update({"size": 4, "from": 0, "_source": shown})
        resp = await self.es.search(index=self.search.index, body=b)
        return [{"id": h["_id"], **{k: h["_source"].get(k) for k in shown},
                 "score": h.get("_score")}
                for h in resp["hits"]["hits"] if h["_id"] != product_id][:3]

    # ------------------------------------------------------------------ listing

    async def hidden_listings(self, shop_id: str, *, status: str = "hidden", page: int = 1,
                              size: int = 20) -> dict[str, Any]:
        """The shop's listings hidden now (``status="demoted"``: shown but sunk), with reasons."""
        filters: list[dict[str, Any]] = [{"term": {"shop_id": shop_id}}]
        must_not: list[dict[str, Any]] = []
        suspension = (await self.search.shops.refresh()).get(shop_id)
        if suspension is not None:
            # A suspended shop shows nothing: every listing is hidden, none merely demoted.
            if status == "demoted":
                filters.append({"match_none": {}})
        elif status == "demoted":
            filters += [{"term": {"searchable": True}}, {"term": {"in_stock": False}}]
        else:
            must_not.append({"term": {"searchable": True}})
        query = {"bool": {"filter": filters, "must_not": must_not}}
        # Never-indexed products (only in flight or only dead-lettered) are hidden too; they
        # come from the stream and are listed after the indexed ones.
        extras = await self._stream_only_listings(shop_id) if status == "hidden" else []
        start = (page - 1) * size
        resp = await self.es.search(index=self.search.index, query=query, from_=start, size=size,
                                    sort=[{"product_id": "asc"}], track_total_hits=True,
                                    source_includes=["product_id", "title", "status", "stock", "in_stock",
                                                     "visible", "searchable", "version", "indexed_at", "meta"])
        listings = []
        for h in resp["hits"]["hits"]:
            src = h["_source"]
            reasons = eligibility_reasons(src, self.settings.ranking.out_of_stock)
            if suspension is not None:
                reasons.insert(0, reason("shop_suspended", **suspension))
            listings.append({"product_id": h["_id"], "title": src.get("title"), "version": src.get("version"),
                             "indexed_at": src.get("indexed_at"), "reasons": reasons})
        es_total = resp["hits"]["total"]["value"]
        skip = max(0, start - es_total)
        listings += extras[skip:skip + size - len(listings)]
        return {"status": status, "page": page, "size": size, "total": es_total + len(extras),
                "listings": listings}

    async def _stream_only_listings(self, shop_id: str) -> list[dict[str, Any]]:
        stream = await asyncio.to_thread(self.stream.shop, shop_id)
        ids = sorted({e["product_id"] for e in stream.pending + stream.dead_letters if e.get("product_id")})
        if not ids:
            return []
        found = await self.es.mget(index=self.search.index, ids=ids, source=False)
        indexed = {d["_id"] for d in found["docs"] if d.get("found")}
        out = []
        for pid in ids:
            if pid in indexed:  # the index answers for it (and says whose it is)
                continue
            pending = [e for e in stream.pending if e.get("product_id") == pid]
            letters = [e for e in stream.dead_letters if e.get("product_id") == pid]
            reasons = [reason("not_indexed")]
            if pending:
                reasons.append(reason("pending", versions=[e["version"] for e in pending]))
            if letters:
                reasons.append(reason("dead_lettered", dlq_reason=letters[-1]["reason"],
                                      failed_at=letters[-1]["failed_at"], event_id=letters[-1]["event_id"]))
            out.append({"product_id": pid, "title": None, "version": None, "indexed_at": None,
                        "reasons": reasons})
        return out


def _missing_words(qa: Any, doc: dict[str, Any]) -> list[str]:
    """Query words the title has in no form (word, synonym, or as a run of its characters)."""
    title_words = set((doc.get("title_words") or "").split())
    norm_title = "".join((doc.get("title_chars") or "").split())
    missing = []
    for w in qa.words:
        alts = {w, *qa.synonyms.get(w, [])}
        if alts & title_words or any(a.replace(" ", "") in norm_title for a in alts if len(a) > 1):
            continue
        missing.append(w)
    return missing


def _suggestions(reasons: list[dict[str, Any]], query: dict[str, Any] | None) -> list[str]:
    out = []
    for r in reasons:
        if r["code"] == "out_of_stock":
            out.append("库存为 0，商品被降权；补货后排名会恢复")
        elif r["code"] == "dead_lettered":
            out.append(f"最新修改未能入库（原因：{r.get('dlq_reason')}），请修正后重新提交")
        elif r["code"] == "pending":
            newest = max((v for v in r["versions"] if v is not None), default="?")
            out.append(f"最新修改（版本 {newest}）正在索引中，稍后生效")
        else:
            out.append(r["message"])
    if query:
        out += [f"标题不含查询词『{w}』" for w in query["missing_terms"]]
        rank = (query.get("rank") or {}).get("marketplace")
        if rank and rank.get("in_results") is False and not query["missing_terms"]:
            out.append("商品不在该查询的结果中，请检查标题、品牌和类目是否与查询相关")
    return out


def _summary(ans: dict[str, Any]) -> str:
    reasons = ans["eligible"]["reasons"]
    hidden = [r for r in reasons if r["effect"] == "hidden"]
    if hidden:
        return "商品不可见：" + "；".join(r["message"] for r in hidden)
    parts = ["商品可被搜索到"]
    q = ans.get("query")
    if q:
        rank = q["rank"]["marketplace"]
        if rank and rank.get("position"):
            shop = q["rank"]["storefront"] or {}
            parts.append(f"在『{q['q']}』的全站结果中排第 {rank['position']} 位（共 {rank['total']} 个）"
                         + (f"，店内第 {shop['position']} 位" if shop.get("position") else ""))
        else:
            parts.append(f"但不在『{q['q']}』的结果中")
            if q["missing_terms"]:
                parts.append("标题缺少：" + "、".join(q["missing_terms"]))
    parts += [r["message"] for r in reasons if r["effect"] != "hidden"]
    return "，".join(parts[:1]) + ("，" + "；".join(parts[1:]) if len(parts) > 1 else "")
