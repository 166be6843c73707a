"""The relevance evaluation's own arithmetic and query variants (no services)."""

from __future__ import annotations

import math

import pytest

from indexer.relevance import QUERY_VARIANTS, evaluate, mrr_at_k, ndcg_at_k, precision_at_k, score_run


def test_ndcg_is_one_for_an_ideal_ranking_and_discounts_by_position() -> None:
    assert ndcg_at_k(["a", "b", "x"], {"a", "b"}) == 1.0
    assert ndcg_at_k(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["x"], set()) == 0.0
    # The ideal is capped at k: 20 relevant, all 10 slots relevant, is perfect.
    assert ndcg_at_k([str(i) for i in range(10)], {str(i) for i in range(20)}) == 1.0


def test_precision_and_mrr() -> None:
    assert precision_at_k(["a", "x", "b"], {"a", "b"}) == 0.2
    assert mrr_at_k(["x", "x", "a"], {"a"}) == pytest.approx(1 / 3)
    assert mrr_at_k(["x"] * 10 + ["a"], {"a"}) == 0.0
    assert score_run([(["a"], {"a"}), (["x"], {"a"})]) == {"ndcg@10": 0.5, "p@10": 0.05, "mrr@10": 0.5}


def test_query_variants_are_how_shoppers_write_the_same_query() -> None:
    assert QUERY_VARIANTS["traditional"]("兰蔻 菁纯面霜") == "蘭蔻 菁純面霜"
    assert QUERY_VARIANTS["fullwidth"]("AHC B5玻尿酸乳液") == "ＡＨＣ\u3000Ｂ５玻尿酸乳液"
    assert QUERY_VARIANTS["nospace"]("AHC B5玻尿酸乳液") == "AHCB5玻尿酸乳液"


def test_the_homophone_variant_makes_one_same_sound_typo_the_same_way_every_run() -> None:
    from pypinyin import Style, lazy_pinyin

    typo = QUERY_VARIANTS["homophone"]
    for q in ("连衣裙", "兰蔻小黑瓶", "AHC B5玻尿酸乳液", "三只松鼠坚果"):
        t = typo(q)
        diff = [(a, b) for a, b in zip(q, t, strict=True) if a != b]
        assert len(diff) == 1, (q, t)
        assert lazy_pinyin(diff[0][0], style=Style.NORMAL) == lazy_pinyin(diff[0][1], style=Style.NORMAL)
        assert typo(q) == t
    assert typo("iphone 15") == "iphone 15"  # no Chinese character: nothing to mistype


def test_an_unknown_variant_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="unknown query variant"):
        evaluate(None, variants=["klingon"])


def test_the_cli_refuses_an_unknown_variant_naming_the_option(tmp_path) -> None:
    from typer.testing import CliRunner

    from indexer.cli import app

    judgments = tmp_path / "j.jsonl"
    judgments.write_text('{"query": "手机", "relevant": ["p1"]}\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["eval", "relevance", "--judgments", str(judgments), "--variant", "klingon"])
    assert res.exit_code == 2, res.output
    assert "--variant" in res.output and "traditional" in res.output
