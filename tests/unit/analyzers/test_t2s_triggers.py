"""OpenCC is skipped for text with no trigger character: the skip must never change a conversion."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import opencc
import pytest

from analyzers import t2s_triggers
from analyzers.normalize import T2S_TRIGGERS, t2s

pytestmark = pytest.mark.unit

RAW = opencc.OpenCC("t2s")
CATALOG = Path(__file__).resolve().parents[4] / "shared" / "data" / "catalog"
#: The ideograph blocks of normalize.CJK: basic, extension A, compatibility ideographs.
BLOCKS = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF)]
TOOL = t2s_triggers._opencc_home() / "bin" / "opencc_dict"


def _need_tool() -> None:
    if not TOOL.exists():
        if os.environ.get("CI"):
            pytest.fail(f"OpenCC's opencc_dict is missing ({TOOL}): the trigger set cannot be checked")
        pytest.skip("OpenCC wheel without opencc_dict")


def test_the_stored_set_is_the_one_the_installed_opencc_gives() -> None:
    _need_tool()
    assert T2S_TRIGGERS is not None, "analyzers/data/t2s_triggers.txt was made from another OpenCC version"
    assert t2s_triggers.generate() == T2S_TRIGGERS, "run: python -m analyzers.t2s_triggers"


def test_every_key_that_changes_text_holds_a_trigger() -> None:
    _need_tool()
    assert T2S_TRIGGERS is not None
    changing = [(k, v) for f in t2s_triggers._dictionary_files() for k, v in t2s_triggers._entries(f) if v != k]
    assert len(changing) > 5000
    assert [k for k, _ in changing if T2S_TRIGGERS.isdisjoint(k)] == []
    assert "乾" in T2S_TRIGGERS  # 乾燥 -> 干燥, though 乾 alone stays 乾


def test_a_set_made_from_another_opencc_version_is_not_used(tmp_path: Path) -> None:
    stale = tmp_path / "t2s_triggers.txt"
    stale.write_text("# opencc 0.0.1\n長\n", encoding="utf-8")
    assert t2s_triggers.load(stale) is None
    assert t2s_triggers.load(tmp_path / "absent.txt") is None


def test_every_ideograph_outside_the_set_is_its_own_t2s() -> None:
    assert T2S_TRIGGERS is not None
    for lo, hi in BLOCKS:
        for code in range(lo, hi + 1):
            ch = chr(code)
            if ch not in T2S_TRIGGERS:
                assert RAW.convert(ch) == ch, f"U+{code:04X}"


def test_random_text_without_triggers_is_unchanged_and_with_them_is_converted() -> None:
    assert T2S_TRIGGERS is not None
    rng = random.Random(7)
    pool = [chr(c) for lo, hi in BLOCKS for c in range(lo, hi + 1) if chr(c) not in T2S_TRIGGERS]
    # The characters of phrases OpenCC rewrites, without their trigger: the near misses.
    near = [c for k in ("乾燥", "深沈", "回覆", "憑藉", "頭髮") for c in k if c not in T2S_TRIGGERS]
    pool += near * 50
    for _ in range(5000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 40)))
        assert t2s(text) == RAW.convert(text) == text
    for text in ("乾燥肌膚", "蘭蔻精華液 ＩＰＨＯＮＥ", "回覆", "乾隆", "abc 123"):
        assert t2s(text) == RAW.convert(text)


@pytest.mark.skipif(not CATALOG.exists() and not os.environ.get("CI"), reason="no shared catalog here")
def test_real_catalog_texts_convert_exactly_as_opencc_does() -> None:
    texts = []
    for path in sorted(CATALOG.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts.append(row["title"])
            texts.extend(str(v) for vs in (row.get("attributes") or {}).values() for v in vs)
    assert len(texts) > 18_000
    skipped = 0
    for text in texts:
        assert t2s(text) == RAW.convert(text), text
        skipped += T2S_TRIGGERS is not None and T2S_TRIGGERS.isdisjoint(text)
    assert skipped > 0.95 * len(texts)
