"""The merge rule: how an event changes a product's stored state, by version only.

Every product document keeps, in ``meta`` (not indexed), the version that last wrote
each field, the version of the newest full upsert and the version of the newest delete::

    meta = {"v_upsert": 7, "v_delete": 0, "fv": {"title": 7, "price": 9, ...}}

The rules (``v`` is the event's source version):

* **upsert v**: stale if ``v <= v_upsert`` or ``v <= v_delete``. Otherwise every product
  field whose version is older than ``v`` takes the upsert's value (missing optional
  fields become null), and ``v_upsert = v``.
* **patch v**: stale if ``v <= v_delete``. Otherwise each patched field applies if
  ``v > fv[field]``; stale if none applies. A late, older patch still sets the fields no
  newer write touched, and never undoes a newer value.
* **delete v**: stale if ``v <= v_upsert`` or ``v <= v_delete``; otherwise ``v_delete = v``.
  The document stays as a tombstone (``visible = false``) so that an older upsert
  arriving any time later, long after ES's ``index.gc_deletes`` (60 s) would have
  forgotten a real delete's version, is still recognised as stale.

A product is ``visible`` when ``v_upsert > v_delete``. Each field ends with the value of
the newest event that set it, so the result does not depend on arrival order, and a
replayed event (same version) is always stale: the index converges to the state that
exactly-once, in-order delivery would give.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.events import PRODUCT_FIELDS, DeleteEvent, PatchEvent, Product, ProductStatus, UpsertEvent

Event = UpsertEvent | PatchEvent | DeleteEvent

#: Fields whose change means the text must be analysed again.
TEXT_SOURCE_FIELDS = frozenset({"title", "brand", "description", "category", "attributes"})
#: Fields tracked per version: the product's, plus the shop it belongs to.
VERSIONED_FIELDS = (*PRODUCT_FIELDS, "shop_id")


@dataclass
class MergeResult:
    """The new state of one product after some events, and what each event did."""

    source: dict[str, Any]
    changed: bool
    text_changed: bool
    applied: list[Event]
    stale: list[Event]


def empty_state(product_id: str, shop_id: str) -> dict[str, Any]:
    """The state of a product nothing has been written for yet."""
    return {"product_id": product_id, "shop_id": shop_id,
            "meta": {"v_upsert": 0, "v_delete": 0, "fv": {}}, "version": 0}


_STATUS = {s: s.value for s in ProductStatus}
_ON_SHELF = ProductStatus.ON_SHELF.value


def product_values(product: Product) -> dict[str, Any]:
    """``product.model_dump(mode="json")``, at a tenth of its cost (the indexing hot path).

    The validated values are JSON-ready already except the status enum and the datetimes;
    lists and dicts are shared with the (frozen) model and never mutated.
    """
    values = dict(product.__dict__)
    values["status"] = _STATUS[product.status]
    if product.created_at is not None or product.updated_at is not None:
        values.update(product.model_dump(mode="json", include={"created_at", "updated_at"}))
    return values


def _apply(state: dict[str, Any], event: Event) -> tuple[bool, bool]:
    """Apply one event in place; return (changed, text_changed)."""
    meta = state["meta"]
    fv: dict[str, int] = meta["fv"]
    v = event.version
    if isinstance(event, DeleteEvent):
        if v <= meta["v_upsert"] or v <= meta["v_delete"]:
            return False, False
        meta["v_delete"] = v
        return True, False
    if isinstance(event, UpsertEvent):
        if v <= meta["v_upsert"] or v <= meta["v_delete"]:
            return False, False
        values = product_values(event.product)
        values["shop_id"] = event.shop_id
        meta["v_upsert"] = v
    else:
        if v <= meta["v_delete"]:
            return False, False
        values = event.patch.fields()
    changed = text_changed = False
    for name, value in values.items():
        if v > fv.get(name, 0):
            fv[name] = v
            # A full upsert rewrites every field; re-analyse only when a text really differs
            # (most upserts of a CDC stream carry a new price or stock, not a new title).
            text_changed |= name in TEXT_SOURCE_FIELDS and state.get(name) != value
            state[name] = value
            changed = True
    return changed or isinstance(event, UpsertEvent), text_changed


def merge_events(current: dict[str, Any] | None, events: list[Event]) -> MergeResult:
    """Fold ``events`` (all of one product, any order) into ``current`` (a stored ``_source``).

    Returns the new source with its bookkeeping fields (``version``, ``visible``,
    ``searchable``, ``in_stock``, ``event_id``) recomputed. Pure: ``current`` is not mutated.
    Derived search fields (analysis, category levels) are added by the document builder.
    """
    first = events[0]
    state = _copy_state(current) if current else empty_state(first.product_id, first.shop_id)
    applied: list[Event] = []
    stale: list[Event] = []
    text_changed = False
    for ev in sorted(events, key=lambda e: e.version):
        ch, tch = _apply(state, ev)
        (applied if ch else stale).append(ev)
        text_changed |= tch
    if applied:
        meta = state["meta"]
        newest = applied[-1]
        state["version"] = max(meta["v_upsert"], meta["v_delete"], *meta["fv"].values(), 0)
        state["visible"] = meta["v_upsert"] > meta["v_delete"]
        state["searchable"] = bool(state["visible"] and state.get("status") == _ON_SHELF)
        state["in_stock"] = bool((state.get("stock") or 0) > 0)
        state["event_id"] = newest.event_id
        state["indexed_at"] = _now_iso()
    return MergeResult(state, bool(applied), text_changed, applied, stale)


_second: tuple[int, str] = (-1, "")


def _now_iso() -> str:
    """``datetime.now(UTC).isoformat(timespec="milliseconds")``, its seconds formatted once a second."""
    global _second
    sec, frac = divmod(time.time_ns() // 1_000_000, 1000)
    cached_sec, text = _second  # one read: another thread may replace the pair meanwhile
    if cached_sec != sec:
        text = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (sec, text)
    return f"{text}.{frac:03d}+00:00"


def _copy_state(source: dict[str, Any]) -> dict[str, Any]:
    out = dict(source)
    meta = source.get("meta") or {"v_upsert": 0, "v_delete": 0, "fv": {}}
    out["meta"] = {"v_upsert": meta.get("v_upsert", 0), "v_delete": meta.get("v_delete", 0),
                   "fv": dict(meta.get("fv", {}))}
    return out
