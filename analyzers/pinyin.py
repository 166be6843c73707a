"""Pinyin of words: full (``lianyiqun``) and initials (``lyq``), cached per word.

pypinyin is called on a whole word, never on single characters, so its phrase tables pick
the right reading of polyphones (``银行`` -> ``yinhang``, not ``yinxing``; ``重庆`` ->
``chongqing``). pypinyin costs about 20 µs a word; titles repeat words a lot, so an LRU
cache per word makes pinyin nearly free at indexing time.

The caches are bounded at 64k words each (about 0.5 KB a word in all, so ~30 MB at worst):
18.7k real titles hold 20k distinct words, and a word beyond the bound only costs pypinyin
again. At 200k words each, a catalog with a large vocabulary could push the indexer past its
300 MB RSS bar.
"""

from __future__ import annotations

import functools

from pypinyin import Style, lazy_pinyin

_CACHED_WORDS = 65_536


@functools.lru_cache(maxsize=_CACHED_WORDS)
def syllables(word: str) -> tuple[str, ...]:
    """Tone-less pinyin syllables of a CJK word (``ü`` written ``v``): ``连衣裙`` -> ``lian yi qun``."""
    try:
        return tuple(s for s in lazy_pinyin(word, style=Style.NORMAL, v_to_u=False, errors="ignore") if s)
    except Exception:  # pypinyin on odd code points; pinyin is best-effort
        return ()


def full(word: str) -> str:
    """Joined full pinyin of ``word``: ``连衣裙`` -> ``lianyiqun`` ("" when none)."""
    return "".join(syllables(word))


def initials(word: str) -> str:
    """First letters of each syllable: ``连衣裙`` -> ``lyq`` ("" when none)."""
    return "".join(s[0] for s in syllables(word))


@functools.lru_cache(maxsize=_CACHED_WORDS)
def full_and_initials(word: str) -> tuple[str, str]:
    """``(full, initials)`` of ``word`` in one cached call (the indexing hot path)."""
    syl = syllables(word)
    return "".join(syl), "".join(s[0] for s in syl)


def mixed_prefixes(word: str) -> list[str]:
    """Forms a shopper types while the IME is half-way: ``连衣裙`` -> ``连yiqun``, ``连衣qun``."""
    syl = syllables(word)
    if len(syl) != len(word) or len(word) < 2:
        return []
    return [word[:k] + "".join(syl[k:]) for k in range(1, len(word))]
