"""Query robustness, highlight offsets and explain."""

from __future__ import annotations

import random

import pytest

from analyzers import INDEX_TEXT_FIELDS, QueryAnalysis
from analyzers.highlight import _spans, _wrap_spans

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text", [
    "", " ", "😀😀😀", "x" * 300, "\x00\x1f", "？？？", "((a OR b))", "华为mate60" * 40, "🇨🇳中国",
    "'; DROP TABLE", "\u200b\u200d", "ㄅㄆㄇ", "한국어",
])
def test_analyze_query_never_raises(analyzer, text: str) -> None:
    qa = analyzer.analyze_query(text)
    assert isinstance(qa, QueryAnalysis)
    assert qa.text == text
    assert isinstance(qa.words, list) and isinstance(qa.chars, list)


def test_empty_queries_are_empty(analyzer) -> None:
    for text in ("", "   ", "😀", "！!？"):
        assert analyzer.analyze_query(text).is_empty


def test_query_detects_brands_and_words(analyzer) -> None:
    qa = analyzer.analyze_query("华为mate60")
    assert "华为" in qa.brands
    assert {"华为", "mate", "60", "mate60"} <= set(qa.words)


@pytest.mark.parametrize(("query", "brands"), [
    # Real queries whose search-mode cut emits a dictionary brand inside a longer word.
    ("红蜻蜓女士厚底马丁靴春秋", ["红蜻蜓"]),  # 马丁 inside 马丁靴 (boots)
    ("三明治盒", []),  # 明治 inside 三明治 (sandwich)
    ("卡地亚戒指包装盒", []),  # 卡地 inside 卡地亚
    ("周大福红宝石戒指", ["周大福"]),  # 大福 inside 周大福
    ("阿迪达斯防晒衣女", ["阿迪达斯"]),  # 阿迪 inside 阿迪达斯
    ("nike跑鞋", ["nike"]),  # Latin words are whole words
])
def test_query_brands_are_whole_words(analyzer, query, brands) -> None:
    assert analyzer.analyze_query(query).brands == brands


def test_query_units_merge_unknown_characters(analyzer) -> None:
    qa = analyzer.analyze_query("莱蔻 男士乳液")
    assert ["莱", "蔻"] in qa.forms[0].units


@pytest.mark.parametrize(("title", "query", "expected"), [
    ("华为Mate60 Pro手机", "华为mate60", "<em>华为Mate60</em> Pro手机"),
    ("蘭蔻菁純面霜", "兰蔻", "<em>蘭蔻</em>菁純面霜"),
    ("ＩＰＨＯＮＥ１５手机壳", "iphone 15", "<em>ＩＰＨＯＮＥ１５</em>手机壳"),
    ("无关标题", "华为", "无关标题"),
    # pinyin and initials mark the words they spell, in the original characters
    ("法式碎花連衣裙 红色", "lianyiqun", "法式碎花<em>連衣裙</em> 红色"),
    ("法式碎花连衣裙 红色", "lyq", "法式碎花<em>连衣裙</em> 红色"),
    ("法式碎花连衣裙 红色", "lyq 红色", "法式碎花<em>连衣裙</em> <em>红色</em>"),
    ("iPhone15 手机壳", "iphone", "<em>iPhone</em>15 手机壳"),
])
def test_highlight_marks_original_text(analyzer, title: str, query: str, expected: str) -> None:
    out = analyzer.highlight(title, analyzer.analyze_query(query))
    assert out.replace("</em><em>", "") == expected.replace("</em><em>", "")
    assert out.replace("<em>", "").replace("</em>", "") == title


def test_highlight_custom_tags(analyzer) -> None:
    out = analyzer.highlight("三只松鼠坚果", analyzer.analyze_query("坚果"), pre="[", post="]")
    assert out == "三只松鼠[坚果]"


def test_document_fields_match_mapping(analyzer) -> None:
    fields = analyzer.document_fields(title="iPhone15 手机", brand="Apple/苹果", description="好用",
                                      category=["数码", "手机"], attributes={"颜色": ["黑色"]})
    assert set(fields) == set(INDEX_TEXT_FIELDS)
    assert all(isinstance(v, str) for v in fields.values())
    assert "黑色" in fields["attr_words"].split()
    assert {"apple", "苹果"} <= set(fields["brand_words"].split())


def test_document_fields_tolerate_missing_values(analyzer) -> None:
    fields = analyzer.document_fields(title="", brand=None, description=None, category=None,  # type: ignore[arg-type]
                                      attributes=None)
    assert set(fields) == set(INDEX_TEXT_FIELDS)


def test_explain_lists_every_field(analyzer) -> None:
    out = analyzer.explain("三只松鼠坚果 500g")
    assert set(INDEX_TEXT_FIELDS) <= set(out)
    assert "三只松鼠" in out["title_words"]
    assert "三只松鼠" in out["query_brands"]


def test_get_analyzer_is_cached() -> None:
    from analyzers import get_analyzer

    assert get_analyzer() is get_analyzer()


def test_analyzers_do_not_import_es_or_kafka() -> None:
    import subprocess
    import sys

    code = ("import sys, analyzers; analyzers.get_analyzer().analyze_query('x');"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('elasticsearch','kafka')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _marked_reference(title: str, spans: list[tuple[int, int]], pre: str, post: str) -> str:
    """Mark every covered character, then wrap each run of marked characters."""
    marks = [False] * len(title)
    for a, b in spans:
        marks[a:b] = [True] * (b - a)
    out, i = [], 0
    while i < len(title):
        j = i
        while j < len(title) and marks[j] == marks[i]:
            j += 1
        out.append(f"{pre}{title[i:j]}{post}" if marks[i] else title[i:j])
        i = j
    return "".join(out)


def test_highlight_spans_wrap_the_same_runs_as_marking_every_character() -> None:
    """The span merge of the common (identity-offset) case against marking characters one by
    one: overlapping, nested, touching and repeated terms, on 3,000 random titles."""
    rng = random.Random(7)
    for _ in range(3000):
        title = "".join(rng.choice("华为手机壳ab1 ") for _ in range(rng.randint(1, 30)))
        terms = sorted({title[a:a + rng.randint(1, 4)] for a in (rng.randrange(len(title)) for _ in range(3))} |
                       {"".join(rng.choice("华为ab") for _ in range(2))}, key=len, reverse=True)
        spans = _spans(title, terms)
        assert _wrap_spans(title, spans, "<", ">", str) == _marked_reference(title, spans, "<", ">"), (title, terms)


DRESS = "旗袍女2021年新款时尚格子年轻款改良小个子清新少女中国风连衣裙"


@pytest.mark.parametrize(("matched", "word"), [
    ("连衣裙", "连衣裙"), ("lianyiqun", "连衣裙"), ("lyq", "连衣裙"), ("连衣qun", "连衣裙"), ("连yiqun", "连衣裙"),
    (DRESS, None),  # the whole title completes to no word
    ("uniqlo", None),  # a brand the title does not hold: brand_completing's
    ("xyz", None),
])
def test_a_completion_input_stands_for_its_word(analyzer, matched: str, word: str | None) -> None:
    assert analyzer.completion_of(matched, DRESS) == word


@pytest.mark.parametrize(("prefix", "part"), [("hw", "华为"), ("huawei", "华为"), ("华", "华为"), ("hua", "华为"),
                                              ("hon", "HONOR"), ("xm", None)])
def test_a_brand_is_completed_as_written_or_in_pinyin(analyzer, prefix: str, part: str | None) -> None:
    assert analyzer.brand_completing(prefix, "华为/HONOR") == part


@pytest.mark.parametrize(("prefix", "word"), [
    ("lanco", "lancome"), ("xiaohei", "小黑瓶"), ("小黑", "小黑瓶"), ("jingh", "精华"),
    ("lancomex", None), ("y", None),  # no word starts so
])
def test_a_matched_title_completes_the_word_being_typed(analyzer, prefix: str, word: str | None) -> None:
    """``lanco`` matched the whole title as a completion input: the word it is typing is
    lancome, which has no input of its own (the product's brand is 兰蔻)."""
    assert analyzer.word_completing(prefix, "Lancome 兰蔻小黑瓶精华肌底液") == word
