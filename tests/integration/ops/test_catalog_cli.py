"""The ``catalog`` ops commands through the CLI itself (typer's runner), against real ES and Kafka.

init, status (lag, DLQ size, "reindex needed"), dlq list / show / replay, export / import
(a snapshot moved to another alias equals the event log), rollback's one-line refusal, and
the --help example of every command.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import Elasticsearch
from typer.main import get_command
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "indexer"))
from harness import (
    EventGen,
    assert_no_diffs,
    expected_state,
    indexer_thread,
    produce,
    read_topic,
    thread_settings,
    wait_caught_up,
)

from indexer.cli import app as catalog

pytestmark = pytest.mark.slow

runner = CliRunner()


def run(*args: str) -> Any:
    """Invoke ``catalog ARGS``; returns the result (exit code, stdout, stderr)."""
    return runner.invoke(catalog, list(args))


def run_json(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, es_url: str, kafka_bootstrap: str, topics: dict[str, str], unique: str,
        es: Elasticsearch) -> Iterator[dict[str, str]]:
    """POCKET_* settings naming the test's topics, a not-yet-created alias and a group."""
    names = {**topics, "index": f"{unique}-products", "group": f"{unique}-indexer"}
    for key, value in {"POCKET_ES_URL": es_url, "POCKET_KAFKA_BOOTSTRAP": kafka_bootstrap,
                       "POCKET_TOPIC": names["topic"], "POCKET_DLQ_TOPIC": names["dlq_topic"],
                       "POCKET_INDEX": names["index"], "POCKET_GROUP_ID": names["group"]}.items():
        monkeypatch.setenv(key, value)
    yield names
    es.options(ignore_status=404).indices.delete(index=f"{unique}-*")


POISON = [b"{not json", b'{"type": "rename", "product_id": "x"}',
          orjson.dumps({"event_id": "bad-1", "type": "upsert", "product_id": "p-bad", "shop_id": "s1",
                        "version": 1, "occurred_at": "2024-11-11T00:00:00Z", "product": {"title": "无价格"}})]


def test_status_dlq_and_snapshots_through_the_cli(env: dict[str, str], es: Elasticsearch, es_url: str,
                                                   kafka_bootstrap: str, tmp_path: Path) -> None:
    init = run("init")
    assert init.exit_code == 0, init.output
    assert es.indices.exists_alias(name=env["index"])

    gen = EventGen(seed=21, products=120)
    events = gen.events(400)
    produced = produce(kafka_bootstrap, env["topic"], [*events[:200], *POISON, *events[200:]])
    settings = thread_settings(es_url=es_url, bootstrap=kafka_bootstrap, topics=env, index=env["index"],
                               group=env["group"])
    with indexer_thread(settings):
        wait_caught_up(kafka_bootstrap, env["topic"], env["group"])
        es.indices.refresh(index=env["index"])

        status = run_json("status", "--json")
        assert status["alias"] == env["index"] and status["index"].startswith(env["index"])
        assert status["total_lag"] == 0 and set(status["lag"]) == {"0", "1", "2"}
        assert status["dlq_size"] == len(POISON)
        expected = expected_state(events)
        assert status["searchable"] == sum(
            1 for p in expected.values() if p is not None and p.get("status", "on_shelf") == "on_shelf")
        assert status["reindex_needed"] == []
        assert status["catch_up"] == [] and status["segments"] >= 1  # caught up: no bulk setting left on

        # dead letters: listed with their reasons, filtered, shown with the original bytes
        letters = run_json("dlq", "list", "--json")
        assert sorted(r["reason"] for r in letters) == ["invalid_json", "schema_violation", "unknown_type"]
        only = run_json("dlq", "list", "--reason", "schema_violation", "--json")
        assert [r["reason"] for r in only] == ["schema_violation"]
        shown = run("dlq", "show", only[0]["id"])
        assert shown.exit_code == 0, shown.output
        letter = orjson.loads(shown.stdout)
        assert letter["value"].encode() == POISON[2]
        assert str(letter["partition"]) == str(produced[202].partition)
        assert str(letter["offset"]) == str(produced[202].offset)
        # at-least-once DLQ: a second copy of a letter (same source record) is listed and replayed once
        dup = next(r for r in read_topic(kafka_bootstrap, env["dlq_topic"]) if r.value == POISON[2])
        _copy_letter(kafka_bootstrap, env["dlq_topic"], dup)
        listed = run_json("dlq", "list", "--json")
        assert len(listed) == len(POISON)
        assert {r["reason"]: r["copies"] for r in listed}["schema_violation"] == 2
        once = run("dlq", "replay", "--reason", "schema_violation")
        assert once.exit_code == 0 and "replayed 1 dead letters" in once.stdout
        missing = run("dlq", "show", "9:999999")
        assert missing.exit_code == 1 and "no dead letter 9:999999" in missing.stderr
        assert "Traceback" not in missing.output

        # replay goes through the normal path: still invalid, so dead-lettered again, nothing lost
        assert run("dlq", "replay", "--since", "2999-01-01T00:00:00").exit_code == 0
        replayed = run("dlq", "replay", "--reason", "invalid_json")
        assert replayed.exit_code == 0 and "replayed 1 dead letters" in replayed.stdout
        wait_caught_up(kafka_bootstrap, env["topic"], env["group"])
        again = [r for r in read_topic(kafka_bootstrap, env["dlq_topic"]) if r.value == POISON[0]]
        assert len(again) == 2

        # reindex with the ops' own canaries: the report checks exactly those queries; the same
        # analysis keeps every canary's top 10 (overlap 1.0 required)
        brand = next(p["brand"] for p in expected.values() if p is not None and p.get("brand"))
        done = run_json("reindex", "--yes", "--json", "--canary", brand, "--canary", "连衣裙",
                        "--canary-overlap", "1")
        assert set(done["checks"]["canaries"]) == {brand, "连衣裙"}, done["checks"]
        assert done["checks"]["canaries"][brand]["top10_overlap"] == 1.0
        assert run("reindex", "--yes", "--canary-overlap", "1.5").exit_code == 2  # out of range
        wait_caught_up(kafka_bootstrap, env["topic"], env["group"])

        # export, then import into another alias: the snapshot rebuilds the same catalog
        snapshot = tmp_path / "backup.jsonl"
        exported = run("export", str(snapshot))
        assert exported.exit_code == 0, exported.output
        lines = [orjson.loads(x) for x in snapshot.read_bytes().splitlines()]
        assert {e["type"] for e in lines} <= {"upsert", "delete"}
        assert len(lines) == sum(1 for p in expected.values() if p is not None) + \
            sum(1 for e in lines if e["type"] == "delete")

    other = f"{env['index']}-restored"
    assert runner.invoke(catalog, ["init"], env={"POCKET_INDEX": other}).exit_code == 0
    imported = runner.invoke(catalog, ["import", str(snapshot)], env={"POCKET_INDEX": other})
    assert imported.exit_code == 0, imported.output
    assert f"imported {len(lines)} events" in imported.stdout
    es.indices.refresh(index=other)
    assert_no_diffs(es, other, expected)


def _copy_letter(bootstrap: str, topic: str, rec: Any) -> None:
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        p.send(topic, value=rec.value, key=rec.key, headers=list(rec.headers)).get(timeout=30)
    finally:
        p.close(timeout=10)


def test_status_says_reindex_needed_when_the_dictionary_changed(env: dict[str, str], es: Elasticsearch) -> None:
    assert run("init").exit_code == 0
    target = next(iter(es.indices.get_alias(name=env["index"])))
    meta = es.indices.get_mapping(index=target)[target]["mappings"]["_meta"]
    es.indices.put_mapping(index=target, meta={**meta, "analysis_version": "000000000000"})
    status = run_json("status", "--json")
    assert status["reindex_needed"] == ["dictionary or analysis changed"]
    assert status["analysis_version"]["index"] == "000000000000"
    table = run("status")
    assert table.exit_code == 0 and "dictionary or analysis changed" in table.stdout


def test_status_shows_a_bulk_catch_up_in_effect(env: dict[str, str], es: Elasticsearch) -> None:
    from indexer.refresh import merge_mode, refresh_mode

    assert run("init").exit_code == 0
    assert run_json("status", "--json")["catch_up"] == []
    merges = merge_mode(es, env["index"], segments_per_tier=50, enter_lag=10)
    refreshes = refresh_mode(es, env["index"], interval="1s", enter_lag=10)
    merges.update(10)
    refreshes.update(10)
    assert run_json("status", "--json")["catch_up"] == ["refreshes off", "merges deferred"]
    assert "merges deferred" in run("status").stdout
    merges.restore()
    refreshes.restore()
    assert run_json("status", "--json")["catch_up"] == []


def test_expected_failures_are_one_line_and_exit_1(env: dict[str, str]) -> None:
    no_alias = run("status")
    assert no_alias.exit_code == 1
    assert f"alias {env['index']!r} does not exist (run: catalog init)" in no_alias.stderr
    assert run("init").exit_code == 0
    nothing = run("rollback")
    assert nothing.exit_code == 1 and "Traceback" not in nothing.output
    assert len(nothing.stderr.strip().splitlines()) == 1, nothing.stderr
    resume = run("reindex", "--resume", "--yes")
    assert resume.exit_code == 1 and "no half-finished reindex" in resume.stderr


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


def test_every_command_has_help_with_an_example() -> None:
    paths = list(_commands(get_command(catalog)))
    assert {("status",), ("reindex",), ("rollback",), ("export",), ("import",), ("dlq", "replay")} <= set(paths)
    for path in paths:
        result = run(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "Example:" in result.stdout, f"catalog {' '.join(path)} --help has no example"
