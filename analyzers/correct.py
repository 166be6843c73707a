"""Homophone and pinyin spelling correction against the commerce dictionary.

Shoppers type with pinyin IMEs, so the common typo is a homophone (``连依裙`` for ``连衣裙``)
or the pinyin itself (``lianyiqun``). :class:`Corrector` maps the toneless pinyin of every
dictionary brand and product word to that word, and rewrites a query span whose pinyin
names a dictionary word it is not. The search API calls ``Analyzer.correct`` only when a
query finds nothing, so a correction never hides results the literal query has.

Query-time only: not part of the analysis version.
"""

from __future__ import annotations

from analyzers import pinyin
from analyzers.dictionary import CommerceDictionary, Segmenter
from analyzers.normalize import normalize, script_runs

_MAX_SPAN = 4  # characters: product words and brands are short; longer spans are guesses
_TAG_RANK = {"product": 0, "brand": 1, "model": 2}


class Corrector:
    """Pinyin -> dictionary word; built once per analyzer, lazily (~0.3 s for 12k words)."""

    def __init__(self, dictionary: CommerceDictionary, segmenter: Segmenter) -> None:
        self._segmenter = segmenter
        self._known = dictionary.entries
        self._by_pinyin: dict[str, str] = {}
        ranked = sorted(dictionary.entries.values(), key=lambda e: (_TAG_RANK.get(e.tag, 3), e.word))
        for e in ranked:
            # Two characters sound like too many other pairs (宝宝/包包, 洗锅/喜果, 减脂/剪纸):
            # of the two-character words, only brands (兰扣 -> 兰蔻, 华伟 -> 华为) are corrected to.
            if 2 <= len(e.word) <= _MAX_SPAN and not e.word.isascii() and (len(e.word) > 2 or e.tag == "brand"):
                key = pinyin.full(e.word)
                if key and len(pinyin.syllables(e.word)) == len(e.word):
                    self._by_pinyin.setdefault(key, e.word)

    def correct(self, text: str) -> str:
        """Return ``text`` with homophone spans and pinyin words replaced, normalised.

        Returns the normalised text unchanged when nothing is corrected. Never raises.
        """
        return self.correction(text)[0]

    def correction(self, text: str) -> tuple[str, list[str]]:
        """:meth:`correct`, and the dictionary words it put in (``连依裙`` -> ``["连衣裙"]``)."""
        words: list[str] = []
        try:
            return self._correct(text, words), words
        except Exception:  # correction is best effort, a query must not fail on it
            return (normalize(text) if isinstance(text, str) else ""), []

    def _correct(self, text: str, words: list[str]) -> str:
        norm = normalize(text)
        out: list[str] = []
        last = 0
        runs = script_runs(norm)
        # Pinyin is turned into Chinese only in a query typed all in Latin letters (lianyiqun):
        # beside Chinese a Latin word is a brand or a code (muji量杯 is no 母鸡).
        latin_is_pinyin = not any(kind == "cjk" for kind, _, _ in runs)
        for kind, run, start in runs:
            out.append(norm[last:start])
            last = start + len(run)
            if kind == "cjk":
                out.append(self._correct_run(run, words))
            elif latin_is_pinyin and run.isalpha() and len(run) >= 4 and run in self._by_pinyin:
                out.append(self._by_pinyin[run])
                words.append(self._by_pinyin[run])
            else:
                out.append(run)
        out.append(norm[last:])
        return "".join(out)

    def _correct_run(self, run: str, words_put: list[str]) -> str:
        words = self._segmenter.cut(run)
        out: list[str] = []
        i = 0
        while i < len(words):
            replaced = False
            # Longest window of whole tokens first, spanning at most _MAX_SPAN characters.
            for j in range(len(words), i, -1):
                span = "".join(words[i:j])
                if len(span) < 2 or len(span) > _MAX_SPAN or span in self._known:
                    continue
                if all(w in self._known for w in words[i:j]):
                    continue  # made of known words: not a typo
                if j == i + 1:
                    continue  # one word the segmenter knows whole (量杯 is no typo of 凉被)
                fixed = self._by_pinyin.get(pinyin.full(span))
                if fixed and fixed != span and len(fixed) == len(span):
                    out.append(fixed)
                    words_put.append(fixed)
                    i = j
                    replaced = True
                    break
            if not replaced:
                out.append(words[i])
                i += 1
        return "".join(out)
