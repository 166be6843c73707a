"""Visibility rules without services: reasons, partitions, float32 ties, missing words, summary."""

from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

import pytest
from kafka.partitioner.default import DefaultPartitioner

from search_api.visibility import (
    _float32_next,
    _missing_words,
    _suggestions,
    _summary,
    eligibility_reasons,
    partition_for,
    reason,
)


def doc(**kw: Any) -> dict[str, Any]:
    base = {"title": "羽绒服", "visible": True, "searchable": True, "in_stock": True, "status": "on_shelf",
            "stock": 5, "version": 1, "meta": {"v_upsert": 1, "v_delete": 0}}
    return base | kw


def codes(d: dict[str, Any] | None) -> list[str]:
    return [r["code"] for r in eligibility_reasons(d, 0.25)]


@pytest.mark.parametrize(("d", "expected"), [
    (None, ["not_indexed"]),
    (doc(title=None, visible=False, searchable=False, meta={"v_upsert": 0, "v_delete": 0}), ["not_indexed"]),
    (doc(), []),
    (doc(status="off_shelf", searchable=False), ["off_shelf"]),
    (doc(status="banned", searchable=False), ["banned"]),
    (doc(visible=False, searchable=False, meta={"v_upsert": 1, "v_delete": 2}), ["deleted"]),
    (doc(in_stock=False, stock=0), ["out_of_stock"]),
    (doc(in_stock=False, stock=0, status="off_shelf", searchable=False), ["off_shelf"]),  # hidden wins
])
def test_eligibility_reasons(d: dict[str, Any] | None, expected: list[str]) -> None:
    assert codes(d) == expected


def test_out_of_stock_sinks_and_says_so() -> None:
    (r,) = eligibility_reasons(doc(in_stock=False, stock=0), 0.25)
    assert r["effect"] == "demoted" and r["multiplier"] == 0.25 and r["message"] == "库存为 0，商品被降权"


class _Cluster:
    def __init__(self, n: int) -> None:
        self.n = n

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, _: str) -> set[int]:
        return set(range(self.n))

    available_partitions_for_topic = partitions_for_topic


@pytest.mark.parametrize("pid", ["p1", "a-live", "商品-1", "x" * 64])
@pytest.mark.parametrize("n", [1, 3, 12])
def test_partition_for_matches_the_producers_partitioner(pid: str, n: int) -> None:
    key = pid.encode()
    assert partition_for(key, n) == DefaultPartitioner().partition("t", pid, key, None, None, _Cluster(n))


def test_float32_next_is_the_next_representable_score() -> None:
    same, above = _float32_next(4.2518)
    assert struct.unpack("<f", struct.pack("<f", same))[0] == same
    assert above > same
    bits = struct.unpack("<I", struct.pack("<f", same))[0]
    assert struct.unpack("<I", struct.pack("<f", above))[0] == bits + 1


def test_missing_words_accept_synonyms_and_runs_of_characters() -> None:
    qa = SimpleNamespace(words=["加厚", "羽绒服", "外套"], synonyms={"外套": ["大衣"]})
    d = {"title_words": "羽绒 羽绒服 大衣", "title_chars": "羽 绒 服 大 衣"}
    assert _missing_words(qa, d) == ["加厚"]


def test_suggestions_and_summary_in_chinese() -> None:
    reasons = [reason("out_of_stock", stock=0)]
    query = {"q": "加厚羽绒服", "missing_terms": ["加厚"],
             "rank": {"marketplace": {"position": 3, "total": 9, "in_results": True},
                      "storefront": {"position": 1, "total": 2, "in_results": True}}}
    tips = _suggestions(reasons, query)
    assert "标题不含查询词『加厚』" in tips and any("库存为 0，商品被降权" in t for t in tips)
    summary = _summary({"eligible": {"reasons": reasons}, "query": query})
    assert summary == ("商品可被搜索到，在『加厚羽绒服』的全站结果中排第 3 位（共 9 个），店内第 1 位；"
                       "库存为 0，商品被降权")
    hidden = _summary({"eligible": {"reasons": [reason("off_shelf")]}, "query": None})
    assert hidden == "商品不可见：商品已下架，上架后才能被搜索到"
