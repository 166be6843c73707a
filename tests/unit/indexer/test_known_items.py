"""Known-item queries made from a catalog (``catalog eval known-items``; no services)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from analyzers.normalize import normalize
from indexer.known_items import join_words, known_item_queries, title_words

ROWS = [
    {"id": "a1", "title": "三只松鼠每日坚果750g混合果仁礼盒孕妇零食"},
    {"id": "a2", "title": "三只松鼠 每日坚果 750G 混合果仁礼盒，孕妇零食"},  # the same listing, written apart
    {"id": "b1", "title": "Apple iPhone 13 手机壳 透明硅胶防摔保护套"},
    {"id": "c1", "title": "雅诗兰黛小棕瓶精华液50ml修护抗老"},
    {"id": "d1", "title": "纯棉T恤"},  # too short to hold a query that is only part of it
    {"id": "e1", "title": "2021 / 100 ***"},  # no word at all
]


def _subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def test_a_query_is_words_of_its_title_in_the_title_order() -> None:
    queries = known_item_queries(ROWS, count=10, seed=3)
    assert queries
    titles = {r["id"]: normalize(r["title"]).replace(" ", "") for r in ROWS}
    for q in queries:
        assert 4 <= len(q["query"]) <= 20, q
        assert _subsequence(q["query"].replace(" ", ""), titles[q["relevant"][0]]), q


def test_every_listing_of_the_same_title_is_relevant_and_nothing_else() -> None:
    queries = known_item_queries(ROWS, count=10, seed=3)
    by_first = {q["relevant"][0]: q["relevant"] for q in queries}
    assert by_first.get("a1") == ["a1", "a2"]  # full-width, case, spacing and punctuation aside
    assert all(len(q["relevant"]) == 1 for q in queries if q["relevant"][0] != "a1")


def test_short_and_wordless_titles_make_no_query() -> None:
    ids = {i for q in known_item_queries(ROWS, count=10, seed=3) for i in q["relevant"]}
    assert ids == {"a1", "a2", "b1", "c1"}


def test_the_same_rows_and_seed_give_the_same_queries_and_count_is_a_ceiling() -> None:
    assert known_item_queries(ROWS, seed=5) == known_item_queries(list(ROWS), seed=5)
    assert len(known_item_queries(ROWS, count=2, seed=5)) == 2
    many = [{"id": f"p{i}", "title": f"品牌{i}号 保湿面霜 补水乳液 清爽控油 男女学生"} for i in range(50)]
    assert known_item_queries(many, count=20, seed=1) != known_item_queries(many, count=20, seed=2)


def test_title_words_are_the_words_a_shopper_could_type() -> None:
    words = title_words("Apple iPhone 13 手机壳 透明硅胶防摔保护套 2021")
    assert "iphone" in words and "手机" in words  # jieba's general dictionary cuts 手机|壳
    assert "2021" not in words and "13" not in words  # bare numbers say nothing alone
    assert all(len(w) >= 2 for w in words)
    assert len(words) == len(set(words))


def test_words_are_joined_as_typed() -> None:
    assert join_words(["iphone", "13"]) == "iphone 13"
    assert join_words(["华为", "mate60", "手机"]) == "华为mate60手机"
    assert join_words(["每日", "坚果"]) == "每日坚果"


def test_the_cli_writes_judgments_that_eval_relevance_reads(tmp_path) -> None:
    from indexer.cli import app
    from indexer.relevance import load_judgments

    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    out = tmp_path / "known.jsonl"
    res = CliRunner().invoke(app, ["eval", "known-items", "--catalog", str(catalog), "--count", "3",
                                   "--seed", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    judged = load_judgments(out)
    assert len(judged) == 3 and all(query and relevant for query, relevant in judged)
