"""Index-time tokenisation: the pre-tokenised fields and how each is produced.

Everything in this module (and in ``normalize``, ``units``, ``pinyin``, ``dictionary``)
decides what lands in the index, so its source is part of
:attr:`analyzers.Analyzer.version`: editing it asks for a reindex. Query-only code
(``query.py``, ``synonyms.py``) is not.

Fields (all ``whitespace``-analysed text in ES):

================  ==================================================================
field             tokens
================  ==================================================================
title_words       search-mode words (``三只松鼠`` + ``三只`` + ``松鼠``), model parts and
                  whole models (``iphone 15 iphone15``), canonical units (``128gb``)
title_chars       single CJK characters and Latin/digit parts, in order (phrase,
                  proximity and the recall safety net for unknown words)
title_bigrams     overlapping CJK character bigrams inside each run
title_pinyin      full pinyin of each word (``lianyiqun``)
title_initials    pinyin initials of each word (``lyq``)
brand_words       the brand's words, plus dictionary brands found in the title
brand_pinyin      full pinyin and initials of the brand words
desc_words        description words
category_words    category path words
attr_words        attribute values' words (``黑色``, ``500ml``)
================  ==================================================================
"""

from __future__ import annotations

from analyzers import pinyin
from analyzers.dictionary import CommerceDictionary, Segmenter
from analyzers.normalize import camel_split, model_tokens, normalize, script_runs
from analyzers.units import unit_tokens

_WS: dict = {"type": "text", "analyzer": "whitespace"}
# Fields where term frequency and length norms are noise (pinyin, brand, category):
# a title repeating a brand three times is keyword stuffing, not relevance.
_WS_FLAT: dict = {"type": "text", "analyzer": "whitespace", "index_options": "docs", "norms": False}

INDEX_TEXT_FIELDS: dict[str, dict] = {
    "title_words": dict(_WS),
    "title_chars": dict(_WS),  # positions kept: match_phrase with slop
    "title_bigrams": dict(_WS),
    "title_pinyin": dict(_WS_FLAT),
    "title_initials": dict(_WS_FLAT),
    "brand_words": dict(_WS_FLAT),
    "brand_pinyin": dict(_WS_FLAT),
    "desc_words": dict(_WS),
    "category_words": dict(_WS_FLAT),
    "attr_words": dict(_WS_FLAT),
}

# Attributes whose values are not about what the product is (logistics, yes/no flags).
_SKIP_ATTRS = {"是否量贩装", "是否为特殊用途化妆品", "产地", "货号", "上市时间", "毛重"}


class Tokenizer:
    """Turns product text into tokens. Pure and thread-safe after construction."""

    def __init__(self, dictionary: CommerceDictionary, *, engine: str = "rjieba") -> None:
        self.dictionary = dictionary
        self.brands = dictionary.brands
        self.segmenter = Segmenter(dictionary, engine=engine)

    # -- token streams -------------------------------------------------------------------
    def prepare(self, text: str) -> tuple[str, list[str]]:
        """Normalised text (camel case marked) and its canonical unit tokens."""
        if not text or not isinstance(text, str):
            return "", []
        pre = camel_split(text)
        return normalize(pre), unit_tokens(pre)

    def _runs(self, text: str) -> tuple[list[tuple[str, str, int]], list[str]]:
        norm, units = self.prepare(text)
        return script_runs(norm), units

    def _words_of(self, runs: list[tuple[str, str, int]], units: list[str], *, search_mode: bool = True
                  ) -> list[str]:
        cut = self.segmenter.cut_for_search if search_mode else self.segmenter.cut
        out: list[str] = []
        for kind, run, _ in runs:
            out.extend(cut(run) if kind == "cjk" else model_tokens(run))
        out.extend(u for u in units if u not in out)
        return out

    def _pinyin_of(self, runs: list[tuple[str, str, int]]) -> tuple[list[str], list[str]]:
        full: list[str] = []
        init: list[str] = []
        for kind, run, _ in runs:
            if kind != "cjk":
                continue
            for w in self.segmenter.cut(run):
                f, i = pinyin.full_and_initials(w)
                if f:
                    full.append(f)
                    init.append(i)
        return full, init

    def words(self, text: str, *, search_mode: bool = True) -> list[str]:
        """Words of ``text``: CJK words (search mode), model tokens, canonical units."""
        runs, units = self._runs(text)
        return self._words_of(runs, units, search_mode=search_mode)

    def chars(self, text: str) -> list[str]:
        """Single CJK characters and Latin/digit parts, in text order."""
        return _chars_of_runs(self._runs(text)[0])

    def bigrams(self, text: str) -> list[str]:
        """Overlapping CJK bigrams inside each run (a one-char run gives none)."""
        return _bigrams_of_runs(self._runs(text)[0])

    def pinyin_tokens(self, text: str) -> tuple[list[str], list[str]]:
        """Full pinyin and initials of each CJK word (default-mode cut: whole words)."""
        return self._pinyin_of(self._runs(text)[0])

    def brands_in(self, words: list[str]) -> list[str]:
        """The dictionary brands among ``words``, first occurrence order, no repeats."""
        seen: list[str] = []
        for w in words:
            if w in self.brands and w not in seen:
                seen.append(w)
        return seen

    # -- documents -----------------------------------------------------------------------
    def document_fields(self, *, title: str, brand: str | None = None, description: str = "",
                        category: list[str] | None = None,
                        attributes: dict | None = None) -> dict[str, str]:
        """All INDEX_TEXT_FIELDS of one product as whitespace-joined tokens."""
        runs, units = self._runs(title if isinstance(title, str) else "")
        title_words = self._words_of(runs, units)
        brand_text = brand if isinstance(brand, str) else ""
        brand_tokens = self.words(brand_text.replace("/", " "))
        for b in self.brands_in(title_words):
            if b not in brand_tokens:
                brand_tokens.append(b)
        t_full, t_init = self._pinyin_of(runs)
        b_full, b_init = self.pinyin_tokens(" ".join(brand_tokens)) if brand_tokens else ([], [])
        attr_text = " ".join(_attribute_values(attributes))
        return {
            "title_words": " ".join(title_words),
            "title_chars": " ".join(_chars_of_runs(runs)),
            "title_bigrams": " ".join(_bigrams_of_runs(runs)),
            "title_pinyin": " ".join(t_full),
            "title_initials": " ".join(t_init),
            "brand_words": " ".join(brand_tokens),
            "brand_pinyin": " ".join(_unique(b_full + b_init)),
            "desc_words": " ".join(self.words(description)) if isinstance(description, str) else "",
            "category_words": " ".join(self.words(" ".join(c for c in category or [] if isinstance(c, str)))),
            "attr_words": " ".join(self.words(attr_text)) if attr_text else "",
        }


def chars_of(norm: str) -> list[str]:
    """Chars of already-normalised text: CJK one by one, alnum runs as letter/digit parts."""
    return _chars_of_runs(script_runs(norm))


def bigrams_of(norm: str) -> list[str]:
    """CJK bigrams of already-normalised text, run by run."""
    return _bigrams_of_runs(script_runs(norm))


def _chars_of_runs(runs: list[tuple[str, str, int]]) -> list[str]:
    out: list[str] = []
    for kind, run, _ in runs:
        if kind == "cjk":
            out.extend(run)
        else:
            toks = model_tokens(run)
            out.extend(toks[:-1] if len(toks) > 1 else toks)
    return out


def _bigrams_of_runs(runs: list[tuple[str, str, int]]) -> list[str]:
    out: list[str] = []
    for kind, run, _ in runs:
        if kind == "cjk":
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


def _attribute_values(attributes: dict | None) -> list[str]:
    out: list[str] = []
    for key, value in (attributes or {}).items():
        if key in _SKIP_ATTRS:
            continue
        values = value if isinstance(value, list) else [value]
        out.extend(str(v).replace("/", " ") for v in values if v is not None)
    return out


def _unique(tokens: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in tokens if t))
