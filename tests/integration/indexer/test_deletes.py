"""A delete stays deleted when an older upsert arrives long after ES forgot the delete's version."""

from __future__ import annotations

import time

from harness import EventGen, assert_no_diffs, expected_state, indexer_thread, produce, wait_caught_up


def test_delete_then_older_upsert_after_gc_deletes_stays_deleted(es, kafka_bootstrap, topics, index_alias,
                                                                  group, make_settings):
    # ES keeps a real delete's version for index.gc_deletes only; shorten it so that a
    # scheme relying on it (external versions + real deletes) would resurrect the product.
    es.indices.put_settings(index=index_alias, settings={"index.gc_deletes": "1s"})
    gen = EventGen(seed=3, products=3, prefix="gc")
    a, b, c = gen._src

    def ev(src, kind, version):
        src.version = version - 1
        return gen.event_for(src, kind) | {"version": version}

    first = [ev(a, "upsert", 1), ev(a, "delete", 5),  # upserted then deleted
             ev(b, "delete", 5),                      # a delete before anything else
             ev(c, "upsert", 2), ev(c, "delete", 4), ev(c, "upsert", 6)]  # deleted and back
    with indexer_thread(make_settings()):
        produce(kafka_bootstrap, topics["topic"], first)
        wait_caught_up(kafka_bootstrap, topics["topic"], group)
        time.sleep(3)  # not for synchronisation: let gc_deletes (1 s) expire, then a refresh prunes
        es.indices.refresh(index=index_alias)
        late = [ev(a, "upsert", 3), ev(b, "upsert", 2), ev(c, "upsert", 3), ev(c, "patch", 5)]
        produce(kafka_bootstrap, topics["topic"], late)
        wait_caught_up(kafka_bootstrap, topics["topic"], group, es=es, index=index_alias)
    expected = expected_state(first + late)
    assert expected[a.product_id] is None and expected[b.product_id] is None
    assert_no_diffs(es, index_alias, expected)
    tomb = es.get(index=index_alias, id=a.product_id)["_source"]
    assert tomb["visible"] is False and tomb["meta"]["v_delete"] == 5
