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

import functools
import operator

from analyzers import pinyin
from analyzers.dictionary import CommerceDictionary, Segmenter, segmentable
from analyzers.normalize import T2S_TRIGGERS, camel_split, fold_nfkc_char, model_tokens, normalize, script_runs, t2s
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


try:  # the Rust build of analyze_product (native/); absent when installed without a Rust toolchain
    from analyzers import _native
except ImportError:  # pragma: no cover - the pure-Python path gives the same tokens
    _native = None  # type: ignore[assignment]


def native_available() -> bool:
    """True when the Rust core of :meth:`Tokenizer.analyze_product` is built."""
    return _native is not None


@functools.cache
def _fold_table() -> dict[str, str]:
    """:func:`fold_nfkc_char` of every character the native core accepts that it changes
    (428 of 33,374; made once per process, in ~40 ms)."""
    assert _native is not None
    table = {}
    for lo, hi in _native.safe_ranges():
        for code in range(lo, hi + 1):
            ch = chr(code)
            folded = fold_nfkc_char(ch)
            if folded != ch:
                table[ch] = folded
    return table


class Tokenizer:
    """Turns product text into tokens. Pure and thread-safe after construction.

    ``native`` (default: when built, and only with the ``rjieba`` engine, whose jieba-rs it
    shares) runs :meth:`analyze_product` in the Rust core of ``native/``: the same tokens,
    about 40% of the CPU. The Python code here stays the specification; the core gives
    back any text outside the Unicode blocks it is proven on, and that text takes this path.
    """

    def __init__(self, dictionary: CommerceDictionary, *, engine: str = "rjieba",
                 native: bool | None = None) -> None:
        self.dictionary = dictionary
        self.brands = dictionary.brands
        self.engine = engine
        self._segmenter: Segmenter | None = None
        self._native = None
        if native is None:
            native = _native is not None and engine == "rjieba"
        if native:
            if _native is None or engine != "rjieba":
                raise ValueError("the native analysis core needs its build (native/) and the rjieba engine")
            self._native = _native.Core(
                [(e.word, e.freq, e.tag or None) for e in dictionary.entries.values() if segmentable(e.word)],
                sorted(self.brands), sorted(w for w, e in dictionary.entries.items() if e.tag == "product"),
                # pypinyin without the Python LRU: the core keeps its own memo of each word.
                sorted(_SKIP_ATTRS), t2s, T2S_TRIGGERS, pinyin.syllables.__wrapped__, _fold_table())
        # Brands, category paths and attribute values come from small vocabularies that every
        # catalog repeats, so their tokens are cached by text (titles and descriptions are not).
        # Bounded: 16k texts of at most 64 characters stay under ~10 MB however varied they are.
        self._short_words = functools.lru_cache(maxsize=16_384)(self._words_tuple)
        self._short_pinyin = functools.lru_cache(maxsize=16_384)(self._pinyin_tuple)

    @property
    def native(self) -> bool:
        """True when :meth:`analyze_product` runs in the Rust core."""
        return self._native is not None

    @property
    def segmenter(self) -> Segmenter:
        """The segmenter of the Python paths (queries, and products when the core is off or hands
        them back), made on first use (``Analyzer.warm`` makes it at a server's start); with
        the native core it runs on the core's jieba-rs (one dictionary a process)."""
        if self._segmenter is None:
            self._segmenter = Segmenter(self.dictionary, engine=self.engine, core=self._native)
        return self._segmenter

    # -- token streams -------------------------------------------------------------------
    def prepare(self, text: str) -> tuple[str, list[str]]:
        """Normalised text (camel case marked) and its canonical unit tokens."""
        _, norm, units = self._prepared(text)
        return norm, units

    @staticmethod
    def _prepared(text: str) -> tuple[str, str, list[str]]:
        """The camel-marked text, its normalisation and its unit tokens ("" and [] for no text)."""
        if not text or not isinstance(text, str):
            return "", "", []
        pre = camel_split(text)
        return pre, normalize(pre), unit_tokens(pre)

    def _runs(self, text: str) -> tuple[list[tuple[str, str, int]], list[str]]:
        norm, units = self.prepare(text)
        return script_runs(norm), units

    def _words_of(self, runs: list[tuple[str, str, int]], units: list[str], *, search_mode: bool = True,
                  cuts: list[list[str] | None] | None = None) -> list[str]:
        """Words of the runs, then the units not already among them. ``cuts`` (from :meth:`_cuts`)
        supplies the default-mode words already computed, so a run is not segmented twice."""
        out: list[str] = []
        if search_mode:
            cut = self.segmenter.cut_for_search
            for kind, run, _ in runs:
                out.extend(cut(run) if kind == "cjk" else model_tokens(run))
        else:
            words = cuts if cuts is not None else self._cuts(runs)
            for (_, run, _), cjk_words in zip(runs, words, strict=True):
                out.extend(cjk_words if cjk_words is not None else model_tokens(run))
        if units:
            out.extend(u for u in units if u not in out)
        return out

    def _cuts(self, runs: list[tuple[str, str, int]]) -> list[list[str] | None]:
        """Default-mode (whole) words of each CJK run; ``None`` for alnum runs."""
        return [self.segmenter.cut(run) if kind == "cjk" else None for kind, run, _ in runs]

    def _pinyin_of(self, runs: list[tuple[str, str, int]],
                   cuts: list[list[str] | None] | None = None) -> tuple[list[str], list[str]]:
        full: list[str] = []
        init: list[str] = []
        for words in cuts if cuts is not None else self._cuts(runs):
            for w in words or ():
                f, i = pinyin.full_and_initials(w)
                if f:
                    full.append(f)
                    init.append(i)
        return full, init

    def _words_tuple(self, text: str) -> tuple[str, ...]:
        return tuple(self.words(text))

    def _pinyin_tuple(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        full, init = self.pinyin_tokens(text)
        return tuple(full), tuple(init)

    def _brand_pinyin(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if not text:
            return (), ()
        return self._short_pinyin(text) if len(text) <= 64 else self._pinyin_tuple(text)

    def short_words(self, text: str) -> list[str]:
        """:meth:`words` of a field value from a small vocabulary (brand, category, attribute),
        cached by text; long texts are not cached."""
        if len(text) > 64:
            return self.words(text)
        return list(self._short_words(text))

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
        return self.analyze_product(title=title, brand=brand, description=description, category=category,
                                    attributes=attributes, suggest=False)[0]

    def analyze_product(self, *, title: str, brand: str | None = None, description: str = "",
                        category: list[str] | None = None, attributes: dict | None = None,
                        suggest: bool = True) -> tuple[dict[str, str], list[str]]:
        """The index fields and (``suggest=True``) the completion inputs of one product.

        One pass over the title: its normalisation, script runs and default-mode cut serve
        the words, the pinyin and the suggestions alike (the indexing hot path).
        """
        if self._native is not None:
            done = self._native.analyze(title, brand, description, category, attributes, suggest)
            if done is not None:
                return done
        title = title if isinstance(title, str) else ""
        pre, norm, units = self._prepared(title)
        runs = script_runs(norm)
        title_words = self._words_of(runs, units)
        cuts = self._cuts(runs)
        brand_text = brand if isinstance(brand, str) else ""
        brand_tokens = self.short_words(brand_text.replace("/", " "))
        for b in self.brands_in(title_words):
            if b not in brand_tokens:
                brand_tokens.append(b)
        t_full, t_init = self._pinyin_of(runs, cuts)
        b_full, b_init = self._brand_pinyin(" ".join(brand_tokens))
        attr_text = " ".join(_attribute_values(attributes))
        doc = {
            "title_words": " ".join(title_words),
            "title_chars": " ".join(_chars_of_runs(runs)),
            "title_bigrams": " ".join(_bigrams_of_runs(runs)),
            "title_pinyin": " ".join(t_full),
            "title_initials": " ".join(t_init),
            "brand_words": " ".join(brand_tokens),
            "brand_pinyin": " ".join(_unique([*b_full, *b_init])),
            "desc_words": " ".join(self.words(description)) if isinstance(description, str) else "",
            "category_words": " ".join(self.short_words(" ".join(c for c in category or [] if isinstance(c, str)))),
            "attr_words": " ".join(self.short_words(attr_text)) if attr_text else "",
        }
        if not suggest:
            return doc, []
        whole = self._words_of(runs, units, search_mode=False, cuts=cuts)
        # Suggestions use the title's own normalisation: the one already made, unless camel
        # case marks changed the text first.
        plain = norm if pre == title else normalize(title)
        return doc, self._suggest_inputs(title, brand, whole, t_full, t_init, norm_title=plain)

    def suggest_inputs(self, *, title: str, brand: str | None = None) -> list[str]:
        """Completion inputs of a product (see :meth:`analyzers.Analyzer.suggest_inputs`)."""
        title = title if isinstance(title, str) else ""
        runs, units = self._runs(title)
        full, init = self._pinyin_of(runs)
        return self._suggest_inputs(title, brand, self._words_of(runs, units, search_mode=False), full, init)

    def _suggest_inputs(self, title: str, brand: str | None, words: list[str], full: list[str],
                        init: list[str], *, norm_title: str | None = None) -> list[str]:
        out: list[str] = []
        if norm_title is None:
            norm_title = normalize(title)
        if norm_title:
            out.append(norm_title[:60])
        else:
            words, full, init = [], [], []
        if isinstance(brand, str) and brand.strip():
            out.extend(_brand_inputs(brand))
        product = self.main_product_word(words)
        if product:
            out.append(product)
            p_full, p_init = pinyin.full_and_initials(product)
            if p_full:
                out.extend([p_full, p_init])
                out.extend(pinyin.mixed_prefixes(product)[:2])
        if full:
            out.append("".join(full)[:60])
            out.append("".join(init)[:60])
        return list(dict.fromkeys(o for o in out if o))[:12]

    def main_product_word(self, words: list[str]) -> str:
        """The longest dictionary product word among ``words``, else the longest CJK word."""
        cjk = [w for w in words if len(w) >= 2 and not w.isascii()]
        tagged = [w for w in cjk if (e := self.dictionary.entries.get(w)) is not None and e.tag == "product"]
        pool = tagged or cjk
        return max(pool, key=len) if pool else ""


@functools.lru_cache(maxsize=16_384)
def _brand_inputs(brand: str) -> tuple[str, ...]:
    """The completion inputs of a brand value (``"兰蔻/Lancome"`` -> ``兰蔻``, ``lancome``); cached,
    as brands repeat across a catalog."""
    parts = (normalize(part) for part in brand.replace("/", " / ").split(" / "))
    return tuple(p[:60] for p in parts if p)


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
            out.extend(map(operator.add, run, run[1:]))
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
