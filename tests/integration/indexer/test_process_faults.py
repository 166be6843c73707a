"""Faults that need a real indexer process or a real outage: SIGKILL, ES down, broker restart, rebalance.

Each restarts what it stopped in a ``finally`` block: other people's tests share these services.
"""

from __future__ import annotations

import random
import time

import pytest
import services as svc
from harness import (
    Background,
    EventGen,
    assert_no_diffs,
    committed_offsets,
    count_visible,
    end_offsets,
    expected_state,
    group_members,
    produce,
    read_topic,
    wait_caught_up,
)
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

pytestmark = pytest.mark.slow


def eventually(check, *, timeout: float = 60.0, every: float = 0.3):
    """Retry ``check`` (an assertion) until it passes or ``timeout`` s; return its result."""
    for attempt in Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(every),
                            retry=retry_if_exception_type((AssertionError, OSError)), reraise=True):
        with attempt:
            return check()
    return None


def total(offsets: dict[int, int]) -> int:
    return sum(offsets.values())


def test_sigkill_five_times_during_20k_events_loses_nothing(es, kafka_bootstrap, topics, index_alias, group,
                                                            spawn):
    events = EventGen(seed=4, products=3000, prefix="kl", desc_chars=40).events(20_000)
    # 500 events/s for 40 s: five kills and restarts (~2 s each on a fast box) all land mid-stream.
    feed = Background(kafka_bootstrap, topics["topic"], events, chunk=400, interval=0.8)
    feed.start()
    rng = random.Random(4)
    proc = spawn()
    for _kill in range(5):
        before = total(committed_offsets(kafka_bootstrap, group, topics["topic"]))

        def progressed(before=before):
            assert total(committed_offsets(kafka_bootstrap, group, topics["topic"])) > before
        eventually(progressed, timeout=90)
        time.sleep(rng.uniform(0.1, 0.8))  # fault timing, not synchronisation: kill mid-batch
        assert total(committed_offsets(kafka_bootstrap, group, topics["topic"])) < len(events), \
            "caught up before the kill: not a mid-stream fault"
        proc.kill()
        proc = spawn()
    feed.finish()
    wait_caught_up(kafka_bootstrap, topics["topic"], group, timeout=180, es=es, index=index_alias)
    assert_no_diffs(es, index_alias, expected_state(events))


def test_es_stopped_30s_pauses_keeps_membership_commits_nothing_and_catches_up(
        es, kafka_bootstrap, topics, index_alias, group, spawn, services_config):
    events = EventGen(seed=5, products=1500, prefix="es", desc_chars=60).events(6000)
    proc = spawn(metrics=True)
    produce(kafka_bootstrap, topics["topic"], events[:1000])
    wait_caught_up(kafka_bootstrap, topics["topic"], group)
    members_before = eventually(lambda: _members(kafka_bootstrap, group, 1))
    feed = Background(kafka_bootstrap, topics["topic"], events[1000:], chunk=100, interval=0.5)
    stopped_at = time.monotonic()
    try:
        svc.stop(services_config, "es")
        feed.start()
        committed = committed_offsets(kafka_bootstrap, group, topics["topic"])
        eventually(lambda: _assert_metric(proc, "pocket_indexer_paused", 1.0), timeout=30)
        # While ES is down: produced events pile up, and no committed offset moves.
        while time.monotonic() - stopped_at < 30:
            assert committed_offsets(kafka_bootstrap, group, topics["topic"]) == committed
            assert proc.alive
            time.sleep(2)  # sampling interval of the invariant above
        assert total(end_offsets(kafka_bootstrap, topics["topic"])) > total(committed)
        assert _members(kafka_bootstrap, group, 1) == members_before, "the indexer lost its membership"
    finally:
        svc.start(services_config, "es")
    feed.finish()
    wait_caught_up(kafka_bootstrap, topics["topic"], group, timeout=180, es=es, index=index_alias)
    assert proc.alive
    assert _members(kafka_bootstrap, group, 1) == members_before, "the indexer rejoined (was evicted)"
    m = proc.metrics()
    assert m["pocket_indexer_paused"] == 0.0
    assert m['pocket_indexer_retries_total{cause="elasticsearch"}'] >= 1
    assert_no_diffs(es, index_alias, expected_state(events))


def test_kafka_broker_restart_mid_stream_loses_nothing(es, kafka_bootstrap, topics, index_alias, group, spawn,
                                                       services_config):
    events = EventGen(seed=6, products=1500, prefix="kb", desc_chars=60).events(6000)
    produce(kafka_bootstrap, topics["topic"], events[:4000])
    proc = spawn()

    def some_committed():
        assert total(committed_offsets(kafka_bootstrap, group, topics["topic"])) > 500
    eventually(some_committed, timeout=60)
    try:
        svc.stop(services_config, "kafka")
    finally:
        svc.start(services_config, "kafka")
    produce(kafka_bootstrap, topics["topic"], events[4000:])
    wait_caught_up(kafka_bootstrap, topics["topic"], group, timeout=180, es=es, index=index_alias)
    assert proc.alive, proc.log_text()[-3000:]
    assert_no_diffs(es, index_alias, expected_state(events))


def test_second_indexer_joins_then_leaves_without_loss_or_duplicates(es, kafka_bootstrap, topics, index_alias,
                                                                     group, spawn):
    events = EventGen(seed=9, products=2000, prefix="rb", desc_chars=60).events(8000)
    feed = Background(kafka_bootstrap, topics["topic"], events, chunk=200, interval=0.25)
    first = spawn()
    feed.start()
    eventually(lambda: _members(kafka_bootstrap, group, 1), timeout=60)
    second = spawn()
    eventually(lambda: _members(kafka_bootstrap, group, 2), timeout=60)
    before = total(committed_offsets(kafka_bootstrap, group, topics["topic"]))

    def progressed():
        assert total(committed_offsets(kafka_bootstrap, group, topics["topic"])) > before + 500
    eventually(progressed, timeout=60)
    assert second.terminate() == 0  # leaves the group cleanly
    eventually(lambda: _members(kafka_bootstrap, group, 1), timeout=60)
    feed.finish()
    wait_caught_up(kafka_bootstrap, topics["topic"], group, timeout=120, es=es, index=index_alias)
    assert first.alive
    expected = expected_state(events)
    assert_no_diffs(es, index_alias, expected)
    assert count_visible(es, index_alias) == sum(v is not None for v in expected.values())
    assert read_topic(kafka_bootstrap, topics["dlq_topic"], timeout_s=5) == []


def _members(bootstrap: str, group: str, n: int) -> list[str]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        members = admin.describe_groups([group])[group]["members"]
    finally:
        admin.close()
    ids = sorted(m["member_id"] if isinstance(m, dict) else m.member_id for m in members)
    assert len(ids) == n, f"{len(ids)} members, want {n}"
    return ids


def _assert_metric(proc, name: str, value: float) -> None:
    assert proc.metrics().get(name) == value


def test_sigterm_commits_exactly_what_es_acknowledged_and_leaves_the_group(es, kafka_bootstrap, topics,
                                                                           index_alias, group, spawn):
    events = EventGen(seed=14, products=1500, prefix="st", desc_chars=60).events(6000)
    landed = produce(kafka_bootstrap, topics["topic"], events)
    proc = spawn()

    def some_committed():
        assert total(committed_offsets(kafka_bootstrap, group, topics["topic"])) > 1000
    eventually(some_committed, timeout=60)
    assert proc.terminate(timeout=30) == 0
    assert "indexer stopped" in proc.log_text()
    # It left the group at once, not after the session timeout.
    assert group_members(kafka_bootstrap, group) == 0
    committed = committed_offsets(kafka_bootstrap, group, topics["topic"])
    assert total(committed) < len(events), "stopped too late to test anything"
    # The index holds exactly the committed prefix of every partition: nothing applied and left
    # uncommitted (the batch in flight was finished and committed), nothing committed unapplied.
    prefix = [e for e, at in zip(events, landed, strict=True) if at.offset < committed.get(at.partition, 0)]
    assert_no_diffs(es, index_alias, expected_state(prefix))
    spawn()
    wait_caught_up(kafka_bootstrap, topics["topic"], group, es=es, index=index_alias)
    assert_no_diffs(es, index_alias, expected_state(events))
