"""/metrics after a run: the counters an operator needs are exposed and add up."""

from __future__ import annotations

import urllib.request

import orjson
from harness import EventGen, free_port, indexer_thread, parse_metrics, produce, wait_caught_up

from indexer.metrics import IndexerMetrics


def test_metrics_endpoint_exposes_counters_after_a_run(es, kafka_bootstrap, topics, index_alias, group,
                                                       make_settings):
    events = EventGen(seed=11, products=100, prefix="mx").events(500)
    metrics = IndexerMetrics()
    port = free_port()
    metrics.serve(port)
    with indexer_thread(make_settings(), metrics=metrics):
        produce(kafka_bootstrap, topics["topic"], [*events, b"{broken", orjson.dumps({"type": "nope"})],
                keys=[*(e["product_id"].encode() for e in events), b"x", b"y"])
        wait_caught_up(kafka_bootstrap, topics["topic"], group)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        assert r.status == 200
        text = r.read().decode()
    m = parse_metrics(text)
    assert m["pocket_indexer_events_consumed_total"] == 502
    outcomes = {k: v for k, v in m.items() if k.startswith("pocket_indexer_events_total")}
    assert sum(outcomes.values()) == 502  # every message has exactly one outcome
    assert m['pocket_indexer_events_total{outcome="indexed"}'] > 0
    assert m['pocket_indexer_dead_letters_total{reason="invalid_json"}'] == 1
    assert m['pocket_indexer_dead_letters_total{reason="unknown_type"}'] == 1
    assert m["pocket_indexer_batch_size_count"] >= 1
    assert m["pocket_indexer_batch_seconds_count"] >= 1
    assert m["pocket_indexer_paused"] == 0
    for stage in ("decode", "validate", "analyse", "encode", "es"):
        assert f'pocket_indexer_stage_seconds_total{{stage="{stage}"}}' in m, stage
    assert any(k.startswith("pocket_indexer_consumer_lag{") for k in m)
