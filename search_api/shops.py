"""Shop status: a suspended shop disappears from every storefront path at once, no reindex.

One document (``<shops_index>/status``) holds the suspended shops and why::

    {"suspended": {"shop-7": {"reason": "资质过期", "since": "2026-11-25T10:00:00+00:00"}}}

Ops write it with ``catalog shops suspend|resume`` (the CLI is a write path, like the keys).
The API reads it through :class:`ShopStatus`, cached for ``shop_status_ttl_s`` seconds, and
:func:`not_suspended` turns it into the ``must_not`` clause that joins the one storefront
filter: hits, facets, recovery probes and the merchant rank all see the same set.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch import AsyncElasticsearch, ConflictError, Elasticsearch, NotFoundError, TransportError

from schemas.errors import BackendUnavailable

DOC_ID = "status"
_MAPPINGS = {"dynamic": False, "properties": {"suspended": {"type": "object", "enabled": False}}}


def not_suspended(suspended: dict[str, Any]) -> dict[str, Any] | None:
    """The filter clause that hides suspended shops (None when no shop is suspended)."""
    if not suspended:
        return None
    return {"bool": {"must_not": [{"terms": {"shop_id": sorted(suspended)}}]}}


class ShopStatus:
    """The suspended shops, read from ES at most every ``ttl_s`` seconds (per process).

    One read at a time: the searches that find the cache expired while a read is out wait for
    that read instead of each sending their own (at 400 searches a second, each expiry finds
    up to the API's in-flight searches reading the same document, each taking a place in the ES
    gate). With ``ttl_s`` 0 every search reads for itself, so it sees every write made before it.
    """

    def __init__(self, es: AsyncElasticsearch, *, index: str, ttl_s: float) -> None:
        self.es = es
        self.index = index
        self.ttl_s = ttl_s
        self.current: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._reading: asyncio.Future[None] | None = None

    async def refresh(self) -> dict[str, Any]:
        """Return the suspended shops, re-reading them when the cache is older than the TTL.

        If ES cannot be reached, the last known set is kept (raises BackendUnavailable
        only when there is none yet; the search would fail anyway).
        """
        now = time.monotonic()
        if self._fetched_at is not None and now - self._fetched_at < self.ttl_s:
            return self.current
        if self.ttl_s <= 0:  # no cache: every search reads, and sees every write made before it
            return await self._read(now)
        if self._reading is not None:  # a read started before this search: its answer will do
            await asyncio.shield(self._reading)
            if self._fetched_at is None:
                raise BackendUnavailable("elasticsearch unreachable")
            return self.current
        reading = self._reading = asyncio.get_running_loop().create_future()
        try:
            return await self._read(now)
        finally:
            self._reading = None
            reading.set_result(None)  # the waiting searches go on, with the new set or the last known

    async def _read(self, now: float) -> dict[str, Any]:
        try:
            resp = await self.es.options(ignore_status=404).get(index=self.index, id=DOC_ID)
        except TransportError as err:
            if self._fetched_at is None:
                raise BackendUnavailable("elasticsearch unreachable") from err
            return self.current
        self.current = dict(resp["_source"].get("suspended") or {}) if resp.get("found") else {}
        self._fetched_at = now
        return self.current


# ---------------------------------------------------------------- the ops write path (sync)

def list_suspended(es: Elasticsearch, index: str) -> dict[str, Any]:
    try:
        return dict(es.get(index=index, id=DOC_ID)["_source"].get("suspended") or {})
    except NotFoundError:
        return {}


def set_suspended(es: Elasticsearch, index: str, shop_id: str, reason: str | None) -> bool:
    """Suspend ``shop_id`` (with ``reason``) or, with ``reason=None``, resume it.

    Read-modify-write with ``if_seq_no``, retried on a concurrent change. Returns whether
    anything changed.
    """
    es.options(ignore_status=400).indices.create(index=index, mappings=_MAPPINGS,
                                                 settings={"number_of_shards": 1, "number_of_replicas": 0})
    for _ in range(10):
        try:
            resp = es.get(index=index, id=DOC_ID)
            doc, cond = dict(resp["_source"]), {"if_seq_no": resp["_seq_no"], "if_primary_term": resp["_primary_term"]}
        except NotFoundError:
            doc, cond = {"suspended": {}}, {"op_type": "create"}
        suspended = dict(doc.get("suspended") or {})
        if reason is None:
            if shop_id not in suspended:
                return False
            suspended.pop(shop_id)
        else:
            suspended[shop_id] = {"reason": reason, "since": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            es.index(index=index, id=DOC_ID, document={"suspended": suspended}, refresh="wait_for", **cond)
            return True
        except ConflictError:
            continue
    raise BackendUnavailable("shop status changed concurrently too often; try again")
