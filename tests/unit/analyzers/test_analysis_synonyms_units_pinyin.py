"""Query-time synonyms, canonical units and pinyin fields."""

from __future__ import annotations

import pytest

from analyzers import pinyin
from analyzers.synonyms import SynonymTable
from analyzers.units import unit_tokens

pytestmark = pytest.mark.unit


def test_synonym_file_format() -> None:
    table = SynonymTable.from_lines([
        "# comment", "", "手机, 移动电话", "T恤, 体恤, 短袖  # trailing comment", "苹果手机 => iphone",
    ])
    assert table.alternatives("手机") == {"移动电话"}
    assert table.alternatives("t恤") == {"体恤", "短袖"}
    assert table.alternatives("苹果手机") == {"iphone"}
    assert table.alternatives("iphone") == frozenset()  # one-way


def test_synonyms_found_inside_chinese_query_but_not_inside_latin_words() -> None:
    table = SynonymTable.from_lines(["手机, 移动电话", "hp, 惠普"])
    assert [t for t, _ in table.find("华为手机壳")] == ["手机"]
    assert table.find("iphone") == []


def test_a_refused_term_covers_nothing() -> None:
    """A longer term the caller refuses (a brand inside another word) leaves the shorter terms
    inside it to be found, as if it had no rule."""
    table = SynonymTable.from_lines(["手机壳, phone case", "手机, 移动电话"])
    assert [t for t, _ in table.find("华为手机壳")] == ["手机壳"]
    assert [t for t, _ in table.find("华为手机壳", accept=lambda t: t != "手机壳")] == ["手机"]


@pytest.mark.parametrize(("query", "alt"),
                         [("番茄酱", "西红柿"), ("笔记本", "笔记本电脑"), ("T恤女", "体恤")])
def test_shipped_synonyms_make_rewrites(analyzer, query: str, alt: str) -> None:
    qa = analyzer.analyze_query(query)
    assert any(alt in f.text for f in qa.forms[1:])


def test_brand_alias_is_a_synonym_and_a_brand(analyzer) -> None:
    qa = analyzer.analyze_query("lancome 面霜")
    assert "兰蔻" in qa.synonyms["lancome"]
    assert "lancome" in qa.brands


@pytest.mark.parametrize("query", ["热风枪加热芯", "富士通pcie转接", "三星堆水杯", "贝多芬奏鸣曲", "金苹果手链"])
def test_a_brand_inside_another_word_brings_no_alias(analyzer, query: str) -> None:
    """Real queries: a heat gun is no Hotwind, Fujitsu no Fujifilm, Sanxingdui no Samsung."""
    qa = analyzer.analyze_query(query)
    assert qa.synonyms == {} and len(qa.forms) == 1, qa.synonyms


@pytest.mark.parametrize(("query", "term", "alt"), [
    ("三星手机", "三星", "samsung"), ("富士相机", "富士", "fujifilm"), ("苹果手机壳", "苹果手机", "iphone"),
    ("华为手机壳", "手机", "移动电话"),  # a plain synonym still counts inside a word
])
def test_a_whole_brand_word_keeps_its_alias(analyzer, query: str, term: str, alt: str) -> None:
    assert alt in analyzer.analyze_query(query).synonyms[term]


@pytest.mark.parametrize(("text", "expected"), [
    ("iPhone 128G 深空灰", ["128gb"]),
    ("内存128GB", ["128gb"]),
    ("面霜50g", ["50g"]),
    ("洗发水500ml", ["500ml"]),
    ("洗发水500毫升", ["500ml"]),
    ("大米1kg", ["1000g"]),
    ("大米1公斤", ["1000g"]),
    ("矿泉水1.5L", ["1500ml"]),
    ("移动硬盘2T", ["2048gb"]),
    ("纯棉t恤", []),
])
def test_units(text: str, expected: list[str]) -> None:
    assert unit_tokens(text) == expected


def test_unit_spellings_share_a_token(analyzer) -> None:
    doc = analyzer.document_fields(title="洗发水500毫升")["title_words"].split()
    assert "500ml" in doc
    assert "500ml" in analyzer.analyze_query("洗发水 500ML").words
    assert "1000g" in analyzer.analyze_query("1kg").words


@pytest.mark.parametrize(("query", "core", "quantities"), [
    ("1kg 坚果", ["坚", "果"], ["1000g"]),
    ("500毫升 保温杯", ["保", "温", "杯"], ["500ml"]),
    ("洗衣液3kg", ["洗", "衣", "液"], ["3000g"]),
    ("1.8米床", ["床"], ["1800mm"]),
    ("iPhone15 256G", ["iphone", "15"], ["256gb"]),
    ("5g手机", [], []),  # 5G is a network here, not five grams
    ("128G", [], []),  # nothing else: the quantity is the query
])
def test_a_quantity_beside_words_is_set_apart(analyzer, query: str, core: list[str], quantities: list[str]) -> None:
    """The gate of ``1kg 坚果`` needs 坚果's characters; the quantity still scores as words."""
    form = analyzer.analyze_query(query).forms[0]
    assert form.core_chars == core and form.quantities == quantities
    assert set(form.quantities) <= set(form.words)


def test_pinyin_is_phrase_level() -> None:
    assert pinyin.full("银行") == "yinhang"
    assert pinyin.full("连衣裙") == "lianyiqun"
    assert pinyin.initials("连衣裙") == "lyq"
    assert "连yiqun" in pinyin.mixed_prefixes("连衣裙")


def test_pinyin_fields_and_query_terms(analyzer) -> None:
    fields = analyzer.document_fields(title="韩版连衣裙女夏", brand="优衣库")
    assert "lianyiqun" in fields["title_pinyin"].split()
    assert "lyq" in fields["title_initials"].split()
    assert {"youyiku", "yyk"} <= set(fields["brand_pinyin"].split())
    assert analyzer.analyze_query("lyq").pinyin_terms == ["lyq"]


def test_suggest_inputs(analyzer) -> None:
    inputs = analyzer.suggest_inputs(title="韩版连衣裙女夏季", brand="ZARA")
    assert {"连衣裙", "lianyiqun", "lyq", "连yiqun", "zara"} <= set(inputs)
    assert len(inputs) <= 12
    assert all(len(i) <= 60 for i in inputs)
