"""Build the commerce dictionary and the brand synonyms from general commerce vocabulary.

    python -m analyzers.build_dictionary [--data ../shared/data] [--min-count 1]

Inputs (never the judged relevance labels or Product1M ``labels``):

* ``analyzers/data/brand_pairs.tsv`` -- hand-maintained well-known brands, Chinese and
  Latin names;
* ``catalog/ecommerce_ner.jsonl`` -- the human annotations ``brands``, ``product_words``
  and ``models`` of a general Taobao NER data set (all categories);
* ``catalog/openbg.jsonl`` -- the ``品牌`` attribute (``Laneige/兰芝`` gives a brand and an
  alias pair; ``华凌（家电）`` a brand and, in brackets, its category: a product word, not an
  alias) and the product-type attributes (``产品``, ``护发用品`` ...).

Outputs (words only, no ids, titles or rows of the source data):

* ``analyzers/data/commerce_dict.txt`` -- ``word freq tag`` lines, tags brand/product/model;
* ``analyzers/data/synonyms_brands.txt`` -- brand alias groups in synonyms format.

Filters: CJK words of 2-8 characters or Latin words of 3-20 characters (curated names
exempt). Brand candidates that are common Chinese words (jieba frequency >= 1000: ``移动``,
``阳光``) are dropped unless listed in ``brand_pairs.tsv``, because as brands they would
mislabel everyday queries; and a word annotated as a product word more often than as a
brand (``家具``, ``置物架``) is a product word. Rerunning this script changes the dictionary
and therefore the analysis version: the catalog must be reindexed.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from analyzers.dictionary import DATA_DIR, DEFAULT_FREQ
from analyzers.normalize import is_cjk, normalize

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
# Annotations that are not brands but placeholders.
_NOT_BRANDS = {"其他", "其它", "other", "其他品牌", "见描述", "无", "无品牌", "none", "oem", "品牌", "正品",
               "包邮", "官方", "旗舰店", "专柜", "国产", "进口"}
# Attributes of openbg.jsonl that name what the product is.
_PRODUCT_ATTRS = {"产品", "护发用品", "品名", "产品名称", "类型", "款式"}
#: A ``品牌`` value with its category in brackets (``华凌（家电）``, normalised to ``华凌(家电)``).
_BRAND_IN_CATEGORY = re.compile(r"(.+?)\s*\((.+)\)")
_LATIN = re.compile(r"[a-z][a-z0-9&'.\- ]{2,19}")  # 3+ chars: "aa", "ab" are noise


def _clean(word: str) -> str:
    return normalize(word).strip()


def _ok_word(word: str) -> bool:
    if not word or word in _NOT_BRANDS:
        return False
    if all(is_cjk(c) for c in word):
        return 2 <= len(word) <= 8
    return bool(_LATIN.fullmatch(word))


def _jieba_freq() -> dict[str, int]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok.FREQ


def read_brand_pairs(path: Path) -> list[list[str]]:
    """Groups of names of one brand from ``brand_pairs.tsv`` (normalised, non-empty)."""
    groups = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        names = [_clean(n) for col in raw.split("\t") for n in col.split("|")]
        names = list(dict.fromkeys(n for n in names if n))
        if names:
            groups.append(names)
    return groups


def collect(data_dir: Path, *, min_count: int = 1) -> tuple[dict[str, str], list[list[str]]]:
    """Return ``(word -> tag, brand alias groups)`` from the curated list and the shared data."""
    curated = read_brand_pairs(DATA_DIR / "brand_pairs.tsv")
    tags: dict[str, str] = {}
    alias_groups: list[list[str]] = [g for g in curated if len(g) > 1]
    curated_words = {n for g in curated for n in g}
    for name in curated_words:
        tags[name] = "brand"

    brands: Counter[str] = Counter()
    products: Counter[str] = Counter()
    models: Counter[str] = Counter()
    ner = data_dir / "catalog" / "ecommerce_ner.jsonl"
    if ner.exists():
        for line in ner.open(encoding="utf-8"):
            row = json.loads(line)
            brands.update(_clean(b) for b in row.get("brands", []))
            products.update(_clean(p) for p in row.get("product_words", []))
            models.update(_clean(m) for m in row.get("models", []))
    obg = data_dir / "catalog" / "openbg.jsonl"
    if obg.exists():
        for line in obg.open(encoding="utf-8"):
            attrs = json.loads(line).get("attributes", {})
            for value in attrs.get("品牌", []):
                named = _BRAND_IN_CATEGORY.fullmatch(_clean(value))
                if named:
                    # 华凌（家电）, KONO（美妆）: a brand and its category, not two names of one
                    # brand (those are written Laneige/兰芝). As aliases they rewrote the query
                    # 家电 into 华凌, and 食品 into four snack brands. The category is a product word.
                    brands.update(n for n in [named.group(1)] if _ok_word(n))
                    products.update(n for n in [named.group(2)] if _ok_word(n))
                    continue
                names = [_clean(n) for n in re.split(r"[/（）()]", value)]
                names = [n for n in names if _ok_word(n)]
                brands.update(names)
                if len(names) > 1:
                    alias_groups.append(names)
            for key in _PRODUCT_ATTRS & attrs.keys():
                products.update(_clean(v) for v in attrs[key])

    common = _jieba_freq()
    for word, n in models.items():
        if n >= min_count and _ok_word(word) and not word.isdigit():
            tags.setdefault(word, "model")
    for word, n in products.items():
        if n >= min_count and _ok_word(word):
            tags.setdefault(word, "product")
    for word, n in brands.items():
        if n < min_count or not _ok_word(word) or word in curated_words:
            continue
        if common.get(word, 0) >= 1000:
            continue
        if products[word] > n:  # annotated as a product word more often: 家具, 置物架, 男鞋
            continue
        tags[word] = "brand"
    return tags, alias_groups


def write_outputs(tags: dict[str, str], alias_groups: list[list[str]], out_dir: Path = DATA_DIR) -> None:
    """Write ``commerce_dict.txt`` and ``synonyms_brands.txt`` (sorted, words only)."""
    header = "# Generated by analyzers/build_dictionary.py: do not edit; add words to user_dict.txt.\n"
    lines = [f"{w.replace(' ', '')} {DEFAULT_FREQ} {t}" for w, t in sorted(tags.items()) if " " not in w or t]
    (out_dir / "commerce_dict.txt").write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    seen: set[tuple[str, ...]] = set()
    groups = []
    for g in alias_groups:
        key = tuple(sorted(set(g)))
        if len(key) > 1 and key not in seen:
            seen.add(key)
            groups.append(", ".join(key))
    (out_dir / "synonyms_brands.txt").write_text(
        "# Generated by analyzers/build_dictionary.py: brand aliases (query time, no reindex).\n"
        + "\n".join(sorted(groups)) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--min-count", type=int, default=1)
    args = parser.parse_args(argv)
    tags, groups = collect(args.data, min_count=args.min_count)
    write_outputs(tags, groups)
    counts = Counter(tags.values())
    print(f"commerce_dict.txt: {len(tags)} words {dict(counts)}; synonyms_brands.txt: {len(groups)} groups")


if __name__ == "__main__":
    main()
