"""Reading the bulk catch-up state back from an index's settings (``indexer/refresh.py``)."""

from __future__ import annotations

from indexer.refresh import REFRESH, SEGMENTS_PER_TIER, in_effect


def test_nothing_in_effect_on_an_index_with_its_own_settings() -> None:
    assert in_effect({}, segments_per_tier=50) == []
    assert in_effect({REFRESH: "1s", SEGMENTS_PER_TIER: "12"}, segments_per_tier=50) == []


def test_both_modes_read_back_whatever_form_es_returns_the_number_in() -> None:
    for value in ("50", "50.0", 50, 50.0):
        assert in_effect({REFRESH: "-1", SEGMENTS_PER_TIER: value}, segments_per_tier=50) == [
            "refreshes off", "merges deferred"]


def test_a_value_that_is_not_a_number_is_not_the_bulk_one() -> None:
    assert in_effect({SEGMENTS_PER_TIER: "lots"}, segments_per_tier=50) == []
