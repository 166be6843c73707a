"""How the commerce dictionary reads its sources' brand annotations (``analyzers/build_dictionary.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from analyzers.build_dictionary import collect


def _data(tmp_path: Path, *, ner: list[dict], openbg: list[dict]) -> Path:
    (tmp_path / "catalog").mkdir()
    for name, rows in (("ecommerce_ner", ner), ("openbg", openbg)):
        (tmp_path / "catalog" / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return tmp_path


def test_a_bracketed_category_is_a_product_word_not_a_brand_or_an_alias(tmp_path: Path) -> None:
    data = _data(tmp_path, ner=[], openbg=[
        {"attributes": {"品牌": ["瑞沐（家居日杂）"]}},
        {"attributes": {"品牌": ["Zelmo（数码配件）"]}},
        {"attributes": {"品牌": ["Qarvex/卡维思"]}},  # two names of one brand
    ])
    tags, aliases = collect(data)
    assert tags["瑞沐"] == "brand" and tags["zelmo"] == "brand"
    assert tags["家居日杂"] == "product" and tags["数码配件"] == "product"
    assert ["qarvex", "卡维思"] in aliases
    assert not any("家居日杂" in g or "数码配件" in g for g in aliases)  # 家电 was rewritten into 华凌


def test_a_word_annotated_more_often_as_a_product_than_a_brand_is_a_product(tmp_path: Path) -> None:
    data = _data(tmp_path, openbg=[], ner=[
        {"brands": ["晾衣架子"], "product_words": []},
        {"brands": [], "product_words": ["晾衣架子"]},
        {"brands": [], "product_words": ["晾衣架子"]},
        {"brands": ["沃拉克"], "product_words": ["沃拉克"]},  # a tie stays a brand
    ])
    tags, _ = collect(data)
    assert tags["晾衣架子"] == "product"
    assert tags["沃拉克"] == "brand"
