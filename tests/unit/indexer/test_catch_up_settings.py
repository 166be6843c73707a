"""Reading the bulk catch-up state back from an index's settings (``indexer/refresh.py``)."""

from __future__ import annotations

from indexer.refresh import REFRESH, SEGMENTS_PER_TIER, catch_up_modes
from indexer.settings import IndexerSettings


def shown(flat: dict) -> list[str]:
    """What ``catalog status`` says of an index with these flat settings (default indexer settings)."""
    return [m.label for m in catch_up_modes(None, IndexerSettings()) if m.shown_by(flat)]  # type: ignore[arg-type]


def test_nothing_in_effect_on_an_index_with_its_own_settings() -> None:
    assert shown({}) == []
    assert shown({REFRESH: "1s", SEGMENTS_PER_TIER: "12"}) == []


def test_both_modes_read_back_whatever_form_es_returns_the_number_in() -> None:
    for value in ("50", "50.0", 50, 50.0):
        assert shown({REFRESH: "-1", SEGMENTS_PER_TIER: value}) == ["refreshes off", "merges deferred"]


def test_a_value_that_is_not_a_number_is_not_the_bulk_one() -> None:
    assert shown({SEGMENTS_PER_TIER: "lots"}) == []
