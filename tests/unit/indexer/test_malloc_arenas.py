"""The indexer asks glibc for one malloc arena (its peak RSS bar); the environment wins."""

from __future__ import annotations

import pytest

from indexer.main import limit_malloc_arenas

pytestmark = pytest.mark.unit


def test_one_arena_is_set_on_glibc() -> None:
    assert limit_malloc_arenas() is True


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
