"""A rebalance while a batch is in hand: its records go back to Kafka uncommitted, and nothing is lost.

kafka-python 3 runs the rebalance listener on its IO thread, where a blocking commit raises;
the indexer used to flush and commit the batch there, which always failed. Merely dropping the
batch then lost events: kafka-python 3 keeps the fetch position of a partition that comes
back in the new assignment. Both found by this test.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

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


def test_rebalance_while_a_batch_is_in_flight_loses_nothing(es, kafka_bootstrap, topics, index_alias, group,
                                                            make_settings, caplog):
    """One batch held in its ES write while the next is read: a second indexer joins then.

    The records of the batch being read go back to Kafka; the batch in flight is written and
    committed for the partitions still owned, and re-read (a no-op) by the new owner of the others.
    """
    caplog.set_level(logging.INFO, logger="pocket.indexer")
    events = EventGen(seed=17, products=300, prefix="rif").events(1800)
    gate, held = threading.Event(), threading.Event()
    # The first 1,000 events make a full batch, written at once and held at the gate; the next
    # 200 are read meanwhile and kept in hand by the long linger while the second indexer joins.
    with indexer_thread(make_settings(batch_max_events=1000, batch_linger_ms=8000)) as ix:
        real_apply = ix.sink.apply

        def held_apply(evs: list[Any], *, on_built: Callable[[], None] | None = None) -> Any:
            if not held.is_set():
                held.set()
                if on_built:
                    on_built()  # its requests built: the loop goes on to read the next batch
                assert gate.wait(60), "test gate never opened"
            return real_apply(evs, on_built=on_built)

        ix.sink.apply = held_apply
        eventually_logged(caplog, "partitions assigned")
        produce(kafka_bootstrap, topics["topic"], events[:1200])
        assert held.wait(30), "the first batch never reached ES"
        try:
            with indexer_thread(make_settings()):
                eventually_logged(caplog, "rebalance: records in hand put back")
                gate.set()
                produce(kafka_bootstrap, topics["topic"], events[1200:])
                wait_caught_up(kafka_bootstrap, topics["topic"], group, es=es, index=index_alias)
        finally:
            gate.set()
    assert_no_diffs(es, index_alias, expected_state(events))
