"""catalog reindex under a live indexer, a steady writer and search traffic (issue 6 bars).

Zero lost writes: after the reindex the index equals the event log, document by document
(the oracle is the indexer harness's, independent of indexer/merge.py). Zero downtime:
every /search during the reindex answers 200.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "indexer"))
from harness import (
    Background,
    EventGen,
    assert_no_diffs,
    expected_state,
    indexer_thread,
    produce,
    thread_settings,
    wait_caught_up,
)

from analyzers import get_analyzer
from indexer.reindex import (
    ReindexConfig,
    ReindexError,
    _canary_hits,
    abort,
    alias_targets,
    export_events,
    read_lock,
    reindex,
    rollback,
    take_lock,
)
from search_api.main import create_app
from search_api.settings import ApiSettings

pytestmark = pytest.mark.slow


class SearchTraffic(threading.Thread):
    """Storefront traffic on a thread: /search in a loop, every status and latency recorded."""

    def __init__(self, client: TestClient, queries: list[str]) -> None:
        super().__init__(daemon=True)
        self.client, self.queries = client, queries
        self.results: list[tuple[float, int, float]] = []  # (start, status, seconds)
        self.halt = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.halt.is_set():
            q = self.queries[i % len(self.queries)]
            i += 1
            t0 = time.perf_counter()
            try:
                status = self.client.get("/search", params={"q": q, "size": 10}).status_code
            except Exception:
                status = -1
            self.results.append((t0, status, time.perf_counter() - t0))

    @property
    def failures(self) -> list[tuple[float, int, float]]:
        return [r for r in self.results if r[1] != 200]


def _caught_up(settings: Any) -> None:
    """Wait until the live indexer has committed everything produced so far."""
    wait_caught_up(settings.kafka_bootstrap, settings.topic, settings.group_id)


@pytest.fixture
def world(es_url: str, kafka_bootstrap: str, topics: dict[str, str], index_alias: str, unique: str,
          es: Elasticsearch) -> Iterator[dict[str, Any]]:
    settings = thread_settings(es_url=es_url, bootstrap=kafka_bootstrap, topics=topics, index=index_alias,
                               group=f"{unique}-indexer")
    cfg = ReindexConfig(alias=index_alias, topic=topics["topic"], group_id=settings.group_id,
                        kafka_bootstrap=kafka_bootstrap, retain=1, canaries=("手机", "面霜"))
    yield {"settings": settings, "cfg": cfg}
    es.options(ignore_status=404).delete(index="pocket-locks", id=f"reindex:{index_alias}")


def test_reindex_under_live_writes_and_search_loses_nothing_and_never_fails(
    es: Elasticsearch, es_url: str, world: dict[str, Any]
) -> None:
    settings, cfg = world["settings"], world["cfg"]
    gen = EventGen(seed=11, products=1500)
    before, during = gen.events(4000), gen.events(1500)
    produce(settings.kafka_bootstrap, settings.topic, before)
    with indexer_thread(settings), TestClient(create_app(ApiSettings(es_url=es_url, index=cfg.alias))) as api:
        _caught_up(settings)
        old = alias_targets(es, cfg.alias)
        writer = Background(settings.kafka_bootstrap, settings.topic, during, chunk=50, interval=0.2)
        traffic = SearchTraffic(api, ["手机", "华为手机", "面霜", "坚果", "蓝牙耳机", "保温杯"])
        traffic.start()
        writer.start()
        try:
            report = reindex(es, cfg, get_analyzer())
        finally:
            writer.finish()
            _caught_up(settings)
            traffic.halt.set()
            traffic.join(30)
    assert alias_targets(es, cfg.alias) == [report.new_index] and report.new_index not in old
    assert read_lock(es, cfg.alias) is None
    assert report.loaded >= 1 and report.checks["documents"] >= report.loaded
    assert len(traffic.results) > 20
    assert traffic.failures == [], f"{len(traffic.failures)} failed searches during the reindex"
    assert_no_diffs(es, cfg.alias, expected_state(before + during))


def test_a_check_that_drifts_only_by_live_writes_passes_after_a_catch_up(
    es: Elasticsearch, world: dict[str, Any]
) -> None:
    """Live writes land in the old index while the new one may still be catch_up_lag events
    behind: that drift must not fail the reindex (a real fault keeps drifting: see the canary test)."""
    settings = world["settings"]
    cfg = dataclasses.replace(world["cfg"], catch_up_lag=100_000)  # check before catching up at all
    gen = EventGen(seed=15, products=200)
    first = gen.events(600)
    shops = {e["product_id"]: e["shop_id"] for e in first}
    rebrand = [{"event_id": f"rebrand-{pid}", "type": "patch", "product_id": pid, "shop_id": shops[pid],
                "version": 10**6, "occurred_at": "2024-11-11T00:00:00Z", "patch": {"brand": "新牌子"}}
               for pid, st in expected_state(first).items() if st is not None]
    produce(settings.kafka_bootstrap, settings.topic, first)
    sent: list[bool] = []

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "catch-up" and not sent:  # after the load: the live index moves on alone
            sent.append(True)
            produce(settings.kafka_bootstrap, settings.topic, rebrand)
            _caught_up(settings)

    with indexer_thread(settings):
        _caught_up(settings)
        report = reindex(es, cfg, get_analyzer(), progress=progress)
        _caught_up(settings)
    assert sent and report.caught_up >= len(rebrand) > 50
    assert alias_targets(es, cfg.alias) == [report.new_index]
    assert_no_diffs(es, cfg.alias, expected_state(first + rebrand))


def test_reindex_copies_writes_the_live_index_has_not_refreshed_yet(es: Elasticsearch, world: dict[str, Any]) -> None:
    """Writes acknowledged before the recorded offsets but not yet refreshed (1 s refresh, or the
    indexer's bulk mode with refresh off) are in the new index: the load refreshes its source."""
    settings, cfg = world["settings"], world["cfg"]
    gen = EventGen(seed=14, products=300)
    first, unrefreshed = gen.events(600), gen.events(400)
    produce(settings.kafka_bootstrap, settings.topic, first)
    with indexer_thread(settings):
        _caught_up(settings)
        es.indices.put_settings(index=cfg.alias, settings={"index": {"refresh_interval": "-1"}})
        es.indices.refresh(index=cfg.alias)
        produce(settings.kafka_bootstrap, settings.topic, unrefreshed)
        _caught_up(settings)
        report = reindex(es, cfg, get_analyzer())
    assert report.caught_up == 0  # all of it came from the load, none from the replay
    assert_no_diffs(es, cfg.alias, expected_state(first + unrefreshed))


def test_rollback_points_back_and_replays_what_the_old_index_missed(
    es: Elasticsearch, world: dict[str, Any]
) -> None:
    settings, cfg = world["settings"], world["cfg"]
    gen = EventGen(seed=12, products=300)
    first, later = gen.events(900), gen.events(400)
    produce(settings.kafka_bootstrap, settings.topic, first)
    with indexer_thread(settings):
        _caught_up(settings)
        original = alias_targets(es, cfg.alias)
        report = reindex(es, cfg, get_analyzer())
        produce(settings.kafka_bootstrap, settings.topic, later)  # lands in the new index only
        _caught_up(settings)
        out = rollback(es, cfg.alias, get_analyzer(), kafka_bootstrap=settings.kafka_bootstrap,
                       topic=settings.topic)
    assert out["now"] == original[0] and out["was"] == [report.new_index]
    assert alias_targets(es, cfg.alias) == original
    assert out["replayed_events"] >= len(later)
    assert_no_diffs(es, cfg.alias, expected_state(first + later))


def test_a_canary_that_loses_its_top_hits_stops_the_swap_until_ops_lower_the_bar(
    es: Elasticsearch, world: dict[str, Any], tmp_path: Path
) -> None:
    """A snapshot without most of 手机's top 10 loads and counts fine (the file is the source),
    but the canary check refuses to swap; ``canary_min_overlap`` (``--canary-overlap``) is what
    lets a deliberate re-ranking through."""
    settings, cfg = world["settings"], world["cfg"]
    gen = EventGen(seed=16, products=300)
    produce(settings.kafka_bootstrap, settings.topic, gen.events(900))
    with indexer_thread(settings):
        _caught_up(settings)
        original = alias_targets(es, cfg.alias)
        es.indices.refresh(index=cfg.alias)  # committed is not yet searchable (bulk mode: refresh off)
        top = _canary_hits(es, cfg.alias, get_analyzer(), "手机")
        assert len(top) == 10
        gone = set(top[:6])
        snapshot = tmp_path / "without-top.jsonl"
        with snapshot.open("wb") as out:
            export_events(es, cfg.alias, out)
        lines = [x for x in snapshot.read_bytes().splitlines() if orjson.loads(x)["product_id"] not in gone]
        snapshot.write_bytes(b"\n".join(lines) + b"\n")
        from_file = dataclasses.replace(cfg, source="file", path=str(snapshot), canaries=("手机",))

        with pytest.raises(ReindexError, match="canary '手机': top hits changed too much"):
            reindex(es, from_file, get_analyzer())
        assert alias_targets(es, cfg.alias) == original
        abort(es, cfg.alias)

        relaxed = dataclasses.replace(from_file, canary_min_overlap=0.3, facet_min_slack=10_000)
        report = reindex(es, relaxed, get_analyzer())
    assert alias_targets(es, cfg.alias) == [report.new_index]
    assert report.checks["canaries"]["手机"]["top10_overlap"] == 0.4


def test_two_reindexes_refuse_and_a_half_done_one_can_be_aborted(es: Elasticsearch, world: dict[str, Any]) -> None:
    cfg = world["cfg"]
    take_lock(es, cfg.alias, {"owner": "someone", "started_at": "2026-11-25T00:00:00Z",
                              "new_index": f"{cfg.alias}-half", "offsets": {}})
    es.indices.create(index=f"{cfg.alias}-half")
    with pytest.raises(ReindexError, match="already running or half-finished"):
        reindex(es, cfg, get_analyzer())
    assert abort(es, cfg.alias) == f"{cfg.alias}-half"
    assert not es.indices.exists(index=f"{cfg.alias}-half")
    assert read_lock(es, cfg.alias) is None


def test_a_reindex_stopped_after_its_load_resumes_without_loading_again(
    es: Elasticsearch, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies in the catch-up (after the load): --resume skips the load, catches up,
    checks and swaps, and the index still equals the event log."""
    import indexer.reindex as reindex_mod

    settings, cfg = world["settings"], world["cfg"]
    gen = EventGen(seed=13, products=400)
    first, during = gen.events(1200), gen.events(300)
    produce(settings.kafka_bootstrap, settings.topic, first)
    with indexer_thread(settings):
        _caught_up(settings)
        original = alias_targets(es, cfg.alias)
        real_replay = reindex_mod.replay

        def dying_replay(*args: Any, **kw: Any) -> Any:
            if kw.get("until_lag") is not None:  # the catch-up of the first run
                raise KeyboardInterrupt("killed in the catch-up")
            return real_replay(*args, **kw)

        monkeypatch.setattr(reindex_mod, "replay", dying_replay)
        with pytest.raises(KeyboardInterrupt):
            reindex(es, cfg, get_analyzer())
        state = read_lock(es, cfg.alias)
        assert state is not None and state["phase"] == "catch-up" and state["loaded"] > 0
        assert alias_targets(es, cfg.alias) == original  # nothing swapped yet

        produce(settings.kafka_bootstrap, settings.topic, during)  # writes while it was down
        _caught_up(settings)
        monkeypatch.setattr(reindex_mod, "replay", real_replay)
        loads: list[int] = []
        monkeypatch.setattr(reindex_mod, "load_from_index", lambda *a, **k: loads.append(1) or 0)
        # catch up fully before the checks: a 300-event burst is a big share of this small catalog
        report = reindex(es, dataclasses.replace(cfg, catch_up_lag=0), get_analyzer(), resume=True)
        _caught_up(settings)
    assert loads == [] and report.loaded == 0 and report.resumed_from == "catch-up"
    assert report.new_index == state["new_index"] and alias_targets(es, cfg.alias) == [report.new_index]
    assert report.checks["documents"] >= state["loaded"]
    assert read_lock(es, cfg.alias) is None
    assert_no_diffs(es, cfg.alias, expected_state(first + during))


def test_cli_fails_with_one_line_reason_when_elasticsearch_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer.cli import app

    monkeypatch.setenv("POCKET_ES_URL", "http://127.0.0.1:9")
    for args in (["status"], ["reindex", "--yes"], ["rollback"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output
        assert "not reachable" in result.output, result.output
