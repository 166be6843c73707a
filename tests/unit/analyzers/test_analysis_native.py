"""The Rust core (``native/``) against the Python path it re-implements.

The Python code in ``analyzers/fields.py`` is the specification. The core must give the same
fields and completion inputs for every product, or give the product back (``None``) so that
the Python path analyses it. Checked here:

* every product of the three shared catalogs (title, brand, category and attributes as the
  data has them; a description made of shop boilerplate and the title);
* hand-picked edge cases of each rule (units, camel case, models, whitespace, case folding,
  traditional characters, characters outside the blocks the core accepts);
* random strings drawn from those blocks and from their edges.

It also checks that the core is really used: in CI it must be built, and it must analyse
nearly every real product itself rather than hand it back.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from analyzers import Analyzer
from analyzers.fields import native_available

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
CATALOGS = ["product1m.jsonl", "ecommerce_ner.jsonl", "openbg.jsonl"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def pair() -> tuple[Analyzer, Analyzer]:
    if not native_available():
        if IN_CI:
            pytest.fail("CI: the native analysis core is not built (pip install -e . needs cargo)", pytrace=False)
        pytest.skip("native core not built")
    return Analyzer(native=True), Analyzer(native=False)


def _products() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in CATALOGS:
        path = SHARED_DATA / "catalog" / name
        if not path.exists():
            pytest.skip(f"shared data missing: {path}")
        rows += [json.loads(line) for line in path.open(encoding="utf-8")]
    out = []
    for r in rows:
        attrs = {k: v[0] if isinstance(v, list) and v else v for k, v in (r.get("attributes") or {}).items()}
        out.append({"title": r["title"], "brand": (r.get("brands") or [None])[0],
                    "description": f"正品保障，顺丰包邮。{r['title']}，适合日常使用",
                    "category": r.get("category"), "attributes": attrs})
    return out


def _same(pair: tuple[Analyzer, Analyzer], **kw: Any) -> None:
    """Assert both paths agree on one product, with and without completion inputs."""
    native, python = pair
    got, want = native.analyze_product(**kw), python.analyze_product(**kw)
    assert got == want, kw
    assert native.document_fields(**kw) == python.document_fields(**kw), kw


def test_identical_on_every_catalog_product(pair: tuple[Analyzer, Analyzer]) -> None:
    products = _products()
    core = pair[0]._tok._native
    assert core is not None
    handled = 0
    for p in products:
        _same(pair, **p)
        handled += core.analyze(p["title"], p["brand"], p["description"], p["category"], p["attributes"],
                                True) is not None
    # The core must do the work, not hand it back: emoji and rare scripts are the exceptions.
    assert handled >= 0.98 * len(products), (handled, len(products))


EDGE_TITLES = [
    "", " ", "　", "iPhone15ProMax 256G", "ＩＰＨＯＮＥ１５ Ｐｒｏ", "iphone 15 pro max", "华为Mate60Pro 12+512GB",
    "面霜50ML 1公斤 0.5L 1.5kg 500毫升 2斤 3米 15厘米 20mm", "5t恤 5T硬盘 5t", "128G 64G 50g 50G面霜 3.5G",
    "0.00001kg 1234567.5ml 0.3333333l 99999999999999999999kg 1e5kg", "12.5.6kg 1..5kg .5kg a5kg 5kgs 5 kg 5\tkg",
    "sk-ii神仙水 xr-2000 l'oreal 欧莱雅 b+c 15.6寸", "Lancôme兰蔻 ÉCLAT straße ǅ Ǳ", "適合 乾燥 肌膚 的 面霜 乾隆",
    "【官方旗舰店】三只松鼠 坚果 礼盒~~（1.5kg）", "ｶﾞﾝﾀﾞﾑ ガンダム ㎖ ㎏ ① ② Ⅱ ™ № ℃", "İstanbul ıa 5ı 5İ",
    "emoji 😀 面霜", "𠮷野家 牛丼", "Ωmega µ100 ſ K", "連衣裙\u00a0女\u2003夏\u3000季\x1c新\x85款",
    "aaBBcc aBc abC ABCdefGHI", "nike耐克AirMax90 adidas阿迪达斯UltraBoost", "\u0301\u0308e\u0301 a\u0308",
    "2024新款 连衣裙女夏 lyq lianyiqun", "T恤 t恤 Ｔ恤 体恤 短袖", "5L 5l 5ℓ", "1/2 3-4 5_6 7+8 9'0",
]


@pytest.mark.parametrize("title", EDGE_TITLES)
def test_identical_on_edge_cases(pair: tuple[Analyzer, Analyzer], title: str) -> None:
    _same(pair, title=title, brand=title[:10] or None, description=title * 2, category=[title[:6], "手机"],
           attributes={"颜色": title[-5:], "容量": "128G"})


def test_identical_on_odd_argument_types(pair: tuple[Analyzer, Analyzer]) -> None:
    for kw in [dict(title=None, brand=3, description=None, category=None, attributes=None),
               dict(title="面霜", brand="兰蔻/Lancome", description=5, category=["美妆", 7, None],
                    attributes={"a": [1, 2.5, None], "b": True, "产地": "法国", "c": None, 5: "x/y", "d": (1, 2)}),
               dict(title="面霜", brand="  ", description="", category=[], attributes={}),
               dict(title=b"bytes", brand=["兰蔻"], description=["x"], category=("美妆", "面霜"), attributes={}),
               dict(title="面霜", brand=None, description="", category="美妆", attributes={"规格": 1.5e300})]:
        _same(pair, **kw)


# Characters from the blocks the core accepts, their edges, and some it does not.
_POOL = ([chr(c) for c in range(0x20, 0x7F)] * 3 + list("連衣裙乾燥髮適應國際三只松鼠兰蔻优衣库" * 4)
         + [chr(c) for c in (0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1F, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x200B,
                             0x2028, 0x202F, 0x205F, 0x3000, 0xB2, 0xB5, 0xBD, 0xC0, 0xDF, 0xE9, 0x130, 0x131,
                             0x17F, 0x1C5, 0x1F0, 0x212A, 0x2126, 0x2160, 0x2183, 0x2460, 0x24B6, 0x3007, 0x3021,
                             0x3231, 0x3396, 0x33A1, 0x2F00, 0xF900, 0xFA0E, 0xFE31, 0xFF10, 0xFF21, 0xFF41,
                             0xFF0C, 0xFF65, 0xFF9E, 0xFFE5, 0x0660, 0x0966, 0x1F600, 0x20BB7, 0x0301, 0x3099)]
         + [chr(c) for c in range(0x4E00, 0x4E40)] + list("0123456789" * 6)
         + ["kg", "ml", "G", "T", "L", "毫升", "克"] * 8)


def test_identical_on_random_strings(pair: tuple[Analyzer, Analyzer]) -> None:
    rng = random.Random(20261126)
    core = pair[0]._tok._native
    assert core is not None
    handled = 0
    for _ in range(4000):
        text = "".join(rng.choice(_POOL) for _ in range(rng.randint(0, 40)))
        _same(pair, title=text, brand=text[:8], description=text[::-1], category=[text[:5]],
               attributes={"规格": text[-8:]})
        handled += core.analyze(text, text[:8], text[::-1], [text[:5]], {"规格": text[-8:]}, True) is not None
    assert handled >= 1600, handled  # most strings test the core, not the hand-back


def test_core_segments_like_rjieba(pair: tuple[Analyzer, Analyzer]) -> None:
    """The core's jieba-rs serves the Python path's segmenter too: it must cut every CJK run of
    the catalog as rjieba does (same crate, version and dictionary entries)."""
    from analyzers.dictionary import Segmenter
    from analyzers.normalize import normalize, script_runs

    native, python = pair
    assert native._tok.segmenter._cut == native._tok._native.cut  # type: ignore[union-attr]
    rj = Segmenter(python.dictionary, engine="rjieba")
    runs = {run for p in _products() for kind, run, _ in script_runs(normalize(p["title"])) if kind == "cjk"}
    for run in runs:
        assert native._tok.segmenter.cut(run) == rj.cut(run), run
        assert native._tok.segmenter.cut_for_search(run) == rj.cut_for_search(run), run


def test_threads_analysing_at_once_get_the_same_tokens(pair: tuple[Analyzer, Analyzer]) -> None:
    """The core analyses without the GIL (re-entering it for OpenCC and pypinyin), sharing its
    memos between threads: four threads on fresh cores agree with the Python path."""
    from concurrent.futures import ThreadPoolExecutor

    products = _products()[:3000]
    products += [{"title": t, "brand": "蘭蔻", "description": "乾燥肌膚適用", "category": ["美妝"],
                  "attributes": {"顏色": "黑色"}} for t in ("蘭蔻精華液", "乾燥肌膚 面霜", "頭髮護理")]
    want = [pair[1].analyze_product(**p) for p in products]
    fresh = Analyzer(native=True)  # empty memos: the threads race to fill them
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda p: fresh.analyze_product(**p), products))
    assert got == want
