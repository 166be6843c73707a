"""The text query built from user text stays inside the allowed query types."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from search_api.text_query import WEIGHTS, build_text_query, head_held

pytestmark = pytest.mark.unit

ALLOWED = {"match", "multi_match", "match_phrase", "term", "terms", "bool", "dis_max", "constant_score",
           "match_none"}


def _query_types(node, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"must", "should", "filter", "must_not", "queries"}:
                for q in value if isinstance(value, list) else [value]:
                    out.update(q.keys())
                    for inner in q.values():
                        _query_types(inner, out)
            elif isinstance(value, dict | list):
                _query_types(value, out)
    elif isinstance(node, list):
        for item in node:
            _query_types(item, out)
    return out


@pytest.mark.parametrize("text", ["兰蔻 菁纯面霜", "华为mate60", "lyq", "番茄酱 500g", "AND OR *:* \\", "x" * 300])
@pytest.mark.parametrize("relax", [False, True])
def test_only_allowed_query_types(analyzer, text: str, relax: bool) -> None:
    q = build_text_query(analyzer.analyze_query(text), relax=relax)
    types = _query_types({"must": [q]}, set())
    assert types <= ALLOWED, types
    assert "query_string" not in json.dumps(q) and "script" not in json.dumps(q)


def test_relax_is_more_permissive(analyzer) -> None:
    qa = analyzer.analyze_query("连衣群")  # a homophone typo of 连衣裙
    strict, relaxed = build_text_query(qa), build_text_query(qa, relax=True)
    assert strict != relaxed
    assert "title_pinyin" in json.dumps(relaxed, ensure_ascii=False)


def test_empty_query_matches_nothing(analyzer) -> None:
    assert build_text_query(analyzer.analyze_query("😀")) == {"match_none": {}}


def test_synonym_rewrites_are_combined_with_dis_max(analyzer) -> None:
    q = build_text_query(analyzer.analyze_query("番茄"))
    assert "dis_max" in q
    assert "西红柿" in json.dumps(q, ensure_ascii=False)


def _pinyin_gates(node, parent: str = "") -> list[str]:
    """Where a pinyin gate (a multi_match with operator and) sits: "alone" in a gate's should
    list, or "with_chinese" in a bool's must beside the characters."""
    found = []
    if isinstance(node, dict):
        mm = node.get("multi_match")
        if isinstance(mm, dict) and mm.get("operator") == "and":
            found.append("with_chinese" if parent == "must" else "alone")
        for key, value in node.items():
            for item in value if isinstance(value, list) else [value]:
                found += _pinyin_gates(item, key)
    return found


@pytest.mark.parametrize(("text", "where"), [
    ("lyq", {"alone"}),
    ("lyq 红色", {"with_chinese"}),  # pinyin gates only together with the Chinese
    ("ht ttm22", set()),  # a model code beside it: not pinyin
    ("muji量杯", {"with_chinese"}),
])
def test_where_pinyin_may_pass_the_gate(analyzer, text: str, where: set[str]) -> None:
    assert set(_pinyin_gates(build_text_query(analyzer.analyze_query(text)))) == where


def test_a_quantity_needs_the_other_words_at_the_gate(analyzer) -> None:
    gate = {"match": {"title_chars": {"query": "坚 果", "minimum_should_match": "3<50%"}}}
    assert json.dumps(gate, ensure_ascii=False) in json.dumps(build_text_query(analyzer.analyze_query("1kg 坚果")),
                                                              ensure_ascii=False)
    assert '"filter": [{"match": {"title_chars"' not in json.dumps(build_text_query(analyzer.analyze_query("坚果")))


@pytest.mark.parametrize(("text", "spelled"), [
    ("兰蔻肖黑瓶", ["xiaoheiping"]), ("连亿裙", ["lianyiqun"]), ("不绣钢 花台架", ["buxiugang"]),
    ("连衣裙", []), ("iphone 15", []),
])
def test_a_homophone_typo_is_scored_by_the_pinyin_of_the_word_meant(analyzer, text: str,
                                                                       spelled: list[str]) -> None:
    """The typo breaks the word into single characters; their pinyin spells the title's word."""
    qa = analyzer.analyze_query(text)
    assert qa.oov_pinyin == spelled
    clause = {"match": {"title_pinyin": {"query": " ".join(spelled), "boost": WEIGHTS["oov_pinyin"]}}}
    body = json.dumps(build_text_query(qa))
    assert (json.dumps(clause) in body) == bool(spelled)


@pytest.mark.parametrize(("text", "head"), [
    ("蓝牙音响主板", "主板"),  # the board, not the speaker it is for
    ("印度发饰", "发饰"),
    ("内野家居服", "家居服"),
    ("宝宝游泳衣2岁", "游泳衣"),  # an age after it is no word of the cut
    ("手机壳女", "手机壳"),  # nor a lone character
    ("烧香用的柜子", "柜子"),  # 的 joins a qualifier to it
    ("防水接线器", None),  # a lone 接 before 线器: the cut split 接线器
    ("体感手柄", "手柄"),  # 体 感: two single characters, a word the dictionary lacks
    ("屏风有滑轮", None),  # 有滑轮 says what the screen has
    ("润源鑫旺吊顶神器", None),  # 神器 names no product (data/not_heads.txt)
    ("手机壳 红色", "手机壳"),  # a colour after it qualifies it
    ("羽绒服女长款", "羽绒服"),  # so do 女 and 长款 (data/modifiers.txt)
    ("手表 防水", "手表"),
    ("三轮车配件", None),  # parts of a tricycle, not one (data/not_heads.txt)
    ("收纳盒 蓝牙音箱 红色", "音箱"),
    ("兰蔻", None),
    ("lyq", None),
])
def test_the_head_is_the_product_word_a_query_ends_with(analyzer, text: str, head: str | None) -> None:
    assert analyzer.analyze_query(text).head == head


def _head_holds(qa) -> list[dict]:
    q = build_text_query(qa)
    literal = q["dis_max"]["queries"][0] if "dis_max" in q else q
    [bonus] = [c["constant_score"] for c in literal["bool"]["should"] if "constant_score" in c]
    return bonus["filter"]["bool"]["should"]


def test_a_title_holding_the_head_or_its_synonym_gets_a_flat_bonus(analyzer) -> None:
    qa = analyzer.analyze_query("男士 洗面奶")
    assert qa.head == "洗面奶"
    q = build_text_query(qa)
    literal = q["dis_max"]["queries"][0] if "dis_max" in q else q
    bonus = [c["constant_score"] for c in literal["bool"]["should"] if "constant_score" in c]
    assert len(bonus) == 1 and bonus[0]["boost"] == WEIGHTS["head"]
    holds = json.dumps(bonus[0]["filter"], ensure_ascii=False)
    assert '"洗面 面奶"' in holds and '"洁面 面乳"' in holds  # its bigrams, and a synonym's
    assert analyzer.explain("洗面奶")["title_bigrams"] == ["洗面", "面奶"]  # as the indexer writes them
    assert "constant_score" not in json.dumps(build_text_query(analyzer.analyze_query("三轮车配件")))


def test_a_head_synonym_with_latin_letters_is_matched_on_its_characters(analyzer) -> None:
    qa = analyzer.analyze_query("金士顿 优盘")
    assert qa.head == "优盘"
    assert '{"match_phrase": {"title_chars": "u 盘"}}' in json.dumps(build_text_query(qa), ensure_ascii=False)


def test_a_head_synonym_is_read_as_titles_are_indexed(analyzer) -> None:
    """Letters and digits glued (``128g``) are two tokens in ``title_chars``: the head clause
    must ask for the tokens the indexer wrote, or such a synonym never earns the bonus."""
    qa = replace(analyzer.analyze_query("金士顿 优盘"), synonyms={"优盘": ["128g盘"]})
    phrases = [c["match_phrase"]["title_chars"] for c in _head_holds(qa) if "match_phrase" in c]
    assert phrases == [" ".join(analyzer.explain("128g盘")["title_chars"])] == ["128 g 盘"]
    title = {"title_chars": " ".join(analyzer.explain("金士顿128g盘")["title_chars"]), "title_bigrams": ""}
    assert head_held(qa, title) == "128g盘"
