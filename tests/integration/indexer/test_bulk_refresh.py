"""Bulk catch-up: refreshes off while far behind, back on when caught up or restarted."""

from __future__ import annotations

from harness import EventGen, assert_no_diffs, expected_state, indexer_thread, produce, wait_caught_up

from indexer.refresh import BulkRefreshMode


def refresh_interval(es, alias: str) -> str | None:
    got = es.indices.get_settings(index=alias, name="index.refresh_interval")
    return next(iter(got.values()))["settings"].get("index", {}).get("refresh_interval")


def test_refresh_off_while_far_behind_and_restored(es, index_alias):
    mode = BulkRefreshMode(es, index_alias, interval="1s", enter_lag=100)
    mode.update(99)
    assert not mode.active
    mode.update(100)
    assert mode.active and refresh_interval(es, index_alias) == "-1"
    mode.update(30)  # above a quarter of the threshold: stays in bulk mode
    assert refresh_interval(es, index_alias) == "-1"
    mode.update(24)
    assert not mode.active and refresh_interval(es, index_alias) == "1s"


def test_a_killed_indexers_minus_one_is_undone_at_start(es, index_alias):
    es.indices.put_settings(index=index_alias, settings={"index": {"refresh_interval": "-1"}})
    BulkRefreshMode(es, index_alias, interval="1s").reset()
    assert refresh_interval(es, index_alias) == "1s"


def test_catch_up_in_bulk_mode_gives_no_differences(es, kafka_bootstrap, topics, index_alias, group,
                                                    make_settings):
    events = EventGen(seed=12, products=1000, prefix="bk").events(4000)
    produce(kafka_bootstrap, topics["topic"], events)
    with indexer_thread(make_settings(bulk_refresh_lag=1000, batch_max_events=500)):
        wait_caught_up(kafka_bootstrap, topics["topic"], group)
    assert refresh_interval(es, index_alias) == "1s"  # restored when caught up, at the latest on stop
    assert_no_diffs(es, index_alias, expected_state(events))
