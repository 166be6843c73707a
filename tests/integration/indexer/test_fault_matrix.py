"""The indexer's fault matrix (issue 4), against real Kafka and Elasticsearch.

Every test compares the final index document by document with the oracle of
``harness.expected_state``, which replays the event log without the indexer's merge code.
"""

from __future__ import annotations

import random

from harness import EventGen, assert_no_diffs, expected_state, indexer_thread, produce, wait_caught_up


def test_replayed_twice_gives_no_differences(es, kafka_bootstrap, topics, index_alias, group, make_settings):
    events = EventGen(seed=1, products=300, prefix="rp").events(2000)
    produce(kafka_bootstrap, topics["topic"], events)
    produce(kafka_bootstrap, topics["topic"], events)  # the whole topic again
    with indexer_thread(make_settings()):
        wait_caught_up(kafka_bootstrap, topics["topic"], group, es=es, index=index_alias)
    assert_no_diffs(es, index_alias, expected_state(events))


def test_shuffled_and_late_events_give_no_differences(es, kafka_bootstrap, topics, index_alias, group,
                                                      make_settings):
    events = EventGen(seed=2, products=200, prefix="sh").events(3000)
    rng = random.Random(2)
    late = set(rng.sample(range(len(events)), 400))
    early = [e for i, e in enumerate(events) if i not in late]
    rng.shuffle(early)  # every product's upserts, patches and deletes out of version order
    late_events = [events[i] for i in sorted(late, reverse=True)]  # newest first
    with indexer_thread(make_settings()):
        produce(kafka_bootstrap, topics["topic"], early)
        wait_caught_up(kafka_bootstrap, topics["topic"], group)
        produce(kafka_bootstrap, topics["topic"], late_events)  # after the rest was indexed
        wait_caught_up(kafka_bootstrap, topics["topic"], group, es=es, index=index_alias)
    assert_no_diffs(es, index_alias, expected_state(events))
