"""New products are written without a read, and that never changes what the index ends up holding.

Once a batch's reads found none of its products, the sink writes the next batch as ``create``
with no ``mget``. Products that do exist (updated, deleted, replayed) get a 409 from ES and go
through the read-merge-write. Checked document by document against the state the event log
defines, on real ES.
"""

from __future__ import annotations

import random

import orjson
from harness import EventGen, assert_no_diffs, expected_state

from analyzers import get_analyzer
from indexer.decode import decode_event
from indexer.merge import Event
from indexer.sink import EsSink


def decoded(events: list[dict]) -> list[Event]:
    return [decode_event(orjson.dumps(ev)) for ev in events]


def test_new_products_skip_the_read_and_existing_ones_still_merge(es, index_alias):
    sink = EsSink(es, index=index_alias, analyzer=get_analyzer(), chunk_size=20, threads=2)
    old = EventGen(seed=21, products=60, prefix="nr-old", desc_chars=40).events(400)
    first, later = old[:150], old[150:]

    report = sink.apply(decoded(first))
    assert sink.assume_new, "a batch whose reads found nothing makes the next one skip the read"

    new = EventGen(seed=22, products=80, prefix="nr-new", desc_chars=40).events(120)
    replayed = random.Random(3).sample(first, 30)  # old events again: stale no-ops
    second = new + later + replayed
    random.Random(4).shuffle(second)
    report = sink.apply(decoded(second))

    existing = {ev["product_id"] for ev in first}
    offered = {ev["product_id"] for ev in second}
    assert report.create_misses == len(offered & existing)
    assert report.conflicts == 0  # a refused blind create is not a lost race
    assert not sink.assume_new, "with many products existing, the sink reads first again"
    assert_no_diffs(es, index_alias, expected_state(old + new))

    # Back in read mode: a batch of updates only (every product exists) stays there.
    more = EventGen(seed=21, products=60, prefix="nr-old", desc_chars=40).events(600)[400:]
    report = sink.apply(decoded(more))
    assert report.create_misses == 0
    assert not sink.assume_new
    assert_no_diffs(es, index_alias, expected_state(old + new + more))


def test_a_deleted_product_stays_deleted_when_an_older_upsert_comes_in_blind(es, index_alias):
    sink = EsSink(es, index=index_alias, analyzer=get_analyzer(), chunk_size=10)
    gen = EventGen(seed=31, products=30, prefix="nr-del", desc_chars=40)
    first = gen.events(30)
    sink.apply(decoded(first))
    target = first[0]["product_id"]
    shop = first[0]["shop_id"]
    delete = {"event_id": "nr-del-x1", "type": "delete", "product_id": target, "shop_id": shop,
              "version": 10_000, "occurred_at": "2024-11-11T00:00:00Z"}
    sink.apply(decoded([delete]))
    assert sink.assume_new is False  # one product: too few to judge, the sink keeps reading
    sink.assume_new = True  # as after a load of new products
    stale_upsert = {**first[0], "event_id": "nr-del-x2", "version": 9_000}
    fresh = EventGen(seed=32, products=15, prefix="nr-del2", desc_chars=40).events(15)
    report = sink.apply(decoded([stale_upsert, *fresh]))
    assert report.create_misses == 1
    assert [e.event_id for e in report.stale] == ["nr-del-x2"]
    assert_no_diffs(es, index_alias, expected_state([*first, delete, stale_upsert, *fresh]))
