"""A rebalance while a batch is in hand: its records go back to Kafka uncommitted, and nothing is lost.

kafka-python 3 runs the rebalance listener on its IO thread, where a blocking commit raises;
the indexer used to flush and commit the batch there, which always failed. Merely dropping the
batch then lost events: kafka-python 3 keeps the fetch position of a partition that comes
back in the new assignment. Both found by this test.
"""

from __future__ import annotations

import logging

from harness import EventGen, assert_no_diffs, expected_state, indexer_thread, produce, wait_caught_up
from tenacity import Retrying, stop_after_delay, wait_fixed


def eventually_logged(caplog, text: str, timeout: float = 30) -> None:
    for attempt in Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(0.2), reraise=True):
        with attempt:
            assert text in caplog.text


def test_rebalance_mid_batch_loses_nothing(es, kafka_bootstrap, topics, index_alias, group, make_settings,
                                           caplog):
    caplog.set_level(logging.INFO, logger="pocket.indexer")
    events = EventGen(seed=13, products=300, prefix="rf").events(1500)
    # A long linger keeps the first batch in hand while the second indexer joins.
    slow = make_settings(batch_linger_ms=8000, batch_max_events=100_000)
    with indexer_thread(slow):
        eventually_logged(caplog, "partitions assigned")
        produce(kafka_bootstrap, topics["topic"], events[:1000])
        with indexer_thread(make_settings()):
            eventually_logged(caplog, "rebalance: records in hand put back")
            produce(kafka_bootstrap, topics["topic"], events[1000:])
            wait_caught_up(kafka_bootstrap, topics["topic"], group, es=es, index=index_alias)
    assert "Cannot block on net.run()" not in caplog.text
    assert_no_diffs(es, index_alias, expected_state(events))
