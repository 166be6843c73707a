"""The indexer and ``catalog`` ask glibc for one malloc arena (the indexer's peak RSS bar);
the environment wins."""

from __future__ import annotations

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
