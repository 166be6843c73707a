"""Bulk catch-up: refreshes off and merges deferred while far behind, put back when caught up or
restarted (``indexer/refresh.py``)."""

from __future__ import annotations

from harness import EventGen, assert_no_diffs, expected_state, indexer_thread, produce, wait_caught_up

from indexer.metrics import IndexerMetrics
from indexer.refresh import REFRESH, SEGMENTS_PER_TIER, merge_mode, refresh_mode


def setting(es, alias: str, name: str) -> str | None:
    got = es.indices.get_settings(index=alias, name=name, flat_settings=True)  # {} when not set
    return next(iter(got.values()), {}).get("settings", {}).get(name)


def test_refresh_off_while_far_behind_and_restored(es, index_alias):
    mode = refresh_mode(es, index_alias, interval="1s", enter_lag=100)
    mode.update(99)
    assert not mode.active
    mode.update(100)
    assert mode.active and setting(es, index_alias, REFRESH) == "-1"
    mode.update(30)  # above a quarter of the threshold: stays in bulk mode
    assert setting(es, index_alias, REFRESH) == "-1"
    mode.update(24)
    assert not mode.active and setting(es, index_alias, REFRESH) == "1s"


def test_merges_deferred_while_far_behind_then_back_to_the_index_default(es, index_alias):
    mode = merge_mode(es, index_alias, segments_per_tier=50, enter_lag=100)
    mode.update(100)
    assert mode.active and float(setting(es, index_alias, SEGMENTS_PER_TIER)) == 50
    mode.update(24)
    assert not mode.active and setting(es, index_alias, SEGMENTS_PER_TIER) is None  # ES's own default again


def test_a_killed_indexers_bulk_settings_are_undone_at_start(es, index_alias):
    es.indices.put_settings(index=index_alias, settings={REFRESH: "-1"})
    es.indices.put_settings(index=index_alias, settings={SEGMENTS_PER_TIER: "50.0"})
    refresh_mode(es, index_alias, interval="1s", enter_lag=50_000).reset()
    merge_mode(es, index_alias, segments_per_tier=50, enter_lag=20_000).reset()
    assert setting(es, index_alias, REFRESH) == "1s"
    assert setting(es, index_alias, SEGMENTS_PER_TIER) is None


def test_an_operators_own_merge_setting_is_left_alone_at_start(es, index_alias):
    es.indices.put_settings(index=index_alias, settings={SEGMENTS_PER_TIER: 12})
    merge_mode(es, index_alias, segments_per_tier=50, enter_lag=20_000).reset()
    assert float(setting(es, index_alias, SEGMENTS_PER_TIER)) == 12


def test_catch_up_in_bulk_mode_gives_no_differences(es, kafka_bootstrap, topics, index_alias, group,
                                                    make_settings):
    events = EventGen(seed=12, products=1000, prefix="bk").events(4000)
    produce(kafka_bootstrap, topics["topic"], events)
    metrics = IndexerMetrics()
    deferred: list[float | None] = []  # /metrics' view of the merge mode, batch by batch

    def on_batch(_counts: dict[str, int]) -> None:
        deferred.append(metrics.registry.get_sample_value("pocket_indexer_catch_up", {"setting": SEGMENTS_PER_TIER}))

    with indexer_thread(make_settings(bulk_refresh_lag=1000, bulk_merge_lag=1000, batch_max_events=500),
                        metrics=metrics, on_batch=on_batch):
        wait_caught_up(kafka_bootstrap, topics["topic"], group)
    assert 1.0 in deferred  # the mode was on, and said so
    # Both put back when caught up, at the latest on stop.
    assert setting(es, index_alias, REFRESH) == "1s"
    assert setting(es, index_alias, SEGMENTS_PER_TIER) is None
    assert_no_diffs(es, index_alias, expected_state(events))
