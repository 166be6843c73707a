"""The indexer and ``catalog`` ask glibc for one malloc arena (the indexer's peak RSS bar);
the environment wins. The start-up heap is frozen out of the garbage collector's walks."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

from indexer.malloc import freeze_startup_heap, limit_malloc_arenas

pytestmark = pytest.mark.unit


def test_one_arena_is_set_on_glibc() -> None:
    assert limit_malloc_arenas() is True


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


def test_catalog_asks_before_any_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from indexer import cli

    calls: list[int] = []
    monkeypatch.setattr(cli, "limit_malloc_arenas", lambda: calls.append(1) or True)
    result = CliRunner().invoke(cli.app, ["status", "--help"])
    assert result.exit_code == 0, result.output
    assert calls == [1]


def test_the_start_up_heap_is_frozen_and_garbage_is_not() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    gc.unfreeze()
    kept, dropped = [Cycle()], Cycle()
    gone = weakref.ref(dropped)
    del dropped  # cyclic garbage made before the freeze is collected, not frozen
    try:
        frozen = freeze_startup_heap()
        assert frozen > 0 and frozen == gc.get_freeze_count()
        # gc.collect() does nothing while another thread is collecting (threads left by earlier
        # tests in this process can be). Garbage that was frozen can never be collected again,
        # so collecting until it is gone still proves it was not frozen.
        for _ in range(100):
            if gone() is None:
                break
            time.sleep(0.01)
            gc.collect()
        assert gone() is None
        assert all(obj is not kept[0] for obj in gc.get_objects())  # out of every generation
    finally:
        gc.unfreeze()


def test_the_api_freezes_its_heap_once_started() -> None:
    from fastapi.testclient import TestClient

    from search_api.main import create_app
    from search_api.settings import ApiSettings

    gc.unfreeze()
    try:
        with TestClient(create_app(ApiSettings(es_url="http://127.0.0.1:1"))):
            assert gc.get_freeze_count() > 100_000  # the analyzer's tables among them
    finally:
        gc.unfreeze()


def test_catalog_bulk_commands_get_the_analyzer_with_the_heap_frozen() -> None:
    from analyzers import get_analyzer
    from indexer import cli

    gc.unfreeze()
    try:
        assert cli._bulk_analyzer() is get_analyzer()  # what `catalog import` and `reindex` analyse with
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
