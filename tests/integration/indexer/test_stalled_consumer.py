"""A consumer that reads nothing while events wait in its partitions is replaced, losing nothing.

The fault itself (a rebalance kafka-python never finished: alive, assigned, nothing read) came
and went with the broker's history, so it is simulated here the way it looks from outside:
the consumer's partitions are paused behind the indexer's back, so that it stays in the group
with its partitions and fetches nothing.
"""

from __future__ import annotations

import time

from harness import EventGen, assert_no_diffs, expected_state, indexer_thread, produce, wait_caught_up


def restarts(ix) -> float:
    return ix.metrics.registry.get_sample_value("pocket_indexer_consumer_restarts_total")


def test_a_consumer_that_reads_nothing_while_events_wait_is_replaced(es, kafka_bootstrap, topics, index_alias,
                                                                      group, make_settings):
    gen = EventGen(seed=23, products=80, prefix="st")
    first, second = gen.events(200), gen.events(300)
    with indexer_thread(make_settings(stall_restart_s=2.0)) as ix:
        produce(kafka_bootstrap, topics["topic"], first, keys=[e["product_id"].encode() for e in first])
        wait_caught_up(kafka_bootstrap, topics["topic"], group)
        time.sleep(5)  # idle with nothing waiting: not a stall
        assert restarts(ix) == 0
        stalled = ix.consumer
        stalled.pause(*stalled.assignment())
        produce(kafka_bootstrap, topics["topic"], second, keys=[e["product_id"].encode() for e in second])
        wait_caught_up(kafka_bootstrap, topics["topic"], group, timeout=60, es=es, index=index_alias)
        assert restarts(ix) == 1
        assert ix.consumer is not stalled
    assert_no_diffs(es, index_alias, expected_state(first + second))
