"""The indexer and ``catalog`` ask glibc for one malloc arena (the indexer's peak RSS bar);
the environment wins. The start-up heap is frozen out of the garbage collector's walks."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.malloc import limit_malloc_arenas

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


_FREEZE_SCENARIO = """
import gc, weakref
from indexer.malloc import freeze_startup_heap

class Cycle:
    def __init__(self):
        self.me = self

kept, dropped = [Cycle()], Cycle()
gone = weakref.ref(dropped)
del dropped  # cyclic garbage made before the freeze
frozen = freeze_startup_heap()
assert frozen > 0 and frozen == gc.get_freeze_count(), frozen
assert gone() is None, "garbage from before the freeze was frozen, not collected"
assert all(obj is not kept[0] for obj in gc.get_objects()), "a kept object is still in a generation"
"""


def test_the_start_up_heap_is_frozen_and_garbage_is_not() -> None:
    # A fresh interpreter, as at a process's start: in this one, threads left by earlier tests
    # may be collecting, and gc.collect() does nothing while another thread is.
    done = subprocess.run([sys.executable, "-c", _FREEZE_SCENARIO], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3], timeout=60)
    assert done.returncode == 0, done.stderr


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
