"""What ``catalog impact`` counts as a document tokenised differently (indexer/impact.py)."""

from __future__ import annotations

from analyzers import get_analyzer
from indexer.impact import changed_fields


def _stored(title: str) -> tuple[dict[str, object], dict[str, str], list[str]]:
    fields, inputs = get_analyzer().analyze_product(title=title)
    return {**fields, "suggest": {"input": list(inputs)}}, fields, inputs


def test_the_same_analysis_changes_nothing() -> None:
    stored, fields, inputs = _stored("夏季冰丝凉席三件套 可水洗")
    assert changed_fields(stored, fields, inputs) == {}


def test_words_in_another_order_are_the_same_words() -> None:
    """A segmentation tie resolved the other way (痘 痘痘 印 / 痘痘 痘 印) matches and scores alike."""
    stored, fields, inputs = _stored("痘痘痘印 修复")
    stored["title_words"] = " ".join(reversed(str(stored["title_words"]).split()))
    stored["suggest"] = {"input": list(reversed(inputs))}
    assert changed_fields(stored, fields, inputs) == {}


def test_characters_in_another_order_are_another_phrase() -> None:
    stored, fields, inputs = _stored("冰丝凉席")
    stored["title_chars"] = "丝 冰 凉 席"
    assert changed_fields(stored, fields, inputs) == {"title_chars": {"removed": [], "added": []}}


def test_lost_and_gained_tokens_are_listed() -> None:
    stored, fields, inputs = _stored("冰丝凉席")
    assert fields["title_words"] == "冰 丝 凉席"  # the shipped dictionary has no 冰丝凉席
    stored["title_words"] = "冰丝凉席 凉席"  # as a dictionary holding the word cut it
    assert changed_fields(stored, fields, inputs) == {"title_words": {"removed": ["冰丝凉席"], "added": ["丝", "冰"]}}


def test_a_product_without_suggestions_is_not_compared_on_them() -> None:
    stored, fields, inputs = _stored("冰丝凉席")
    del stored["suggest"]  # off shelf: no completion inputs are stored
    assert changed_fields(stored, fields, inputs) == {}
