"""Query-time analysis: the same tokenisation as the index, plus synonyms and pinyin guesses.

Nothing here changes the index, so it is not part of :attr:`analyzers.Analyzer.version`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from analyzers import pinyin
from analyzers.fields import Tokenizer, bigrams_of, chars_of
from analyzers.normalize import camel_split, is_cjk, script_runs
from analyzers.synonyms import SynonymTable
from analyzers.units import _QTY as QUANTITY_RE  # the index's own pattern; see _quantity_free
from analyzers.units import unit_tokens

#: Longest query text analysed; the rest is ignored (a query is not a document).
MAX_QUERY_CHARS = 200
#: At most this many synonym rewrites per query, so a query cannot fan out unboundedly.
MAX_REWRITES = 4


@dataclass(frozen=True)
class QueryForm:
    """One way of reading the query: the original text or a synonym rewrite."""

    text: str
    words: list[str]
    chars: list[str]
    bigrams: list[str]
    #: Char sequences of each space-separated segment (``兰蔻 菁纯面霜`` -> 2 segments), for phrases.
    segments: list[list[str]] = field(default_factory=list)
    #: Concept units: dictionary words, runs of out-of-vocabulary characters merged into one
    #: name (``莱蔻`` cut as ``莱/蔻`` is one unit), model tokens. Each unit should match once.
    units: list[list[str]] = field(default_factory=list)
    #: Quantities the query names beside other words (``1kg 坚果`` -> ``["1000g"]``), as canonical
    #: unit tokens, and the characters of those other words (``["坚", "果"]``): a product must
    #: hold enough of these, whatever quantity it shares with the query.
    quantities: list[str] = field(default_factory=list)
    core_chars: list[str] = field(default_factory=list)
    #: The pieces the quantities split into (``1``, ``kg``): scored, but not worth highlighting.
    quantity_parts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueryAnalysis:
    """What the search side needs to know about a query text.

    ``words``/``chars``/``bigrams`` are those of the original text; ``forms`` holds the
    original reading first, then synonym rewrites; ``pinyin_terms`` are Latin tokens that
    may be pinyin (``lianyiqun``, ``lyq``) to try against the pinyin fields.
    """

    text: str
    normalized: str
    words: list[str]
    chars: list[str]
    brands: list[str] = field(default_factory=list)
    bigrams: list[str] = field(default_factory=list)
    forms: list[QueryForm] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    pinyin_terms: list[str] = field(default_factory=list)
    #: The query's CJK words as the segmenter cut them (the source of :attr:`pinyin`).
    cjk_words: list[str] = field(default_factory=list)
    #: Pinyin of each run of two or more characters the segmenter left single (``兰蔻肖黑瓶``
    #: -> ``xiaoheiping``): a word typed with a wrong homophone, spelled as the title's word.
    oov_pinyin: list[str] = field(default_factory=list)
    #: The product the query asks for, when its last word names one (``蓝牙音响主板`` ->
    #: ``主板``, ``印度发饰`` -> ``发饰``): see :func:`head_word`.
    head: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.chars

    @cached_property
    def pinyin(self) -> list[str]:
        """Pinyin of the CJK words: matches titles typed with a wrong homophone.

        Computed on first use: only the zero-result path reads it, and pypinyin on a query's
        words was ~6% of a search's CPU when made for every query.
        """
        return [p for p in (pinyin.full(w) for w in self.cjk_words) if p]


def empty_query(text: str) -> QueryAnalysis:
    return QueryAnalysis(text=text if isinstance(text, str) else "", normalized="", words=[], chars=[])


def analyze_query(tok: Tokenizer, synonyms: SynonymTable, text: str,
                  heads: frozenset[str] = frozenset(), modifiers: frozenset[str] = frozenset()) -> QueryAnalysis:
    """Analyse a shopper's query (see :class:`QueryAnalysis`). Never raises. ``heads``: the
    words that may be a query's :attr:`~QueryAnalysis.head` (none: no head); ``modifiers``:
    words the search looks past for it (see :func:`head_word`)."""
    if not isinstance(text, str):
        return empty_query("")
    try:
        return _analyze(tok, synonyms, text, heads, modifiers)
    except Exception:  # a query must never 500 because of odd text; degrade to chars
        norm = text[:MAX_QUERY_CHARS]
        chars = [c for c in norm if c.isalnum()]
        return QueryAnalysis(text=text, normalized=norm, words=chars, chars=chars)


def _units(tok: Tokenizer, norm: str) -> list[list[str]]:
    """Concept units of normalised text, each as its list of title_chars tokens."""
    units: list[list[str]] = []
    for kind, run, _ in script_runs(norm):
        if kind != "cjk":
            parts = chars_of(run)
            if parts:
                units.append(parts)
            continue
        pending: list[str] = []
        for w in tok.segmenter.cut(run):
            if len(w) == 1:
                pending.append(w)
                continue
            if pending:
                units.append(pending)
                pending = []
            units.append(list(w))
        if pending:
            units.append(pending)
    return units


#: 2G-5G name a mobile network (``5g手机``, ``4g路由器``) far more often than a few grams.
_NETWORK = re.compile(r"[2-5]\s?g", re.IGNORECASE)


def _quantity_free(text: str) -> str | None:
    """``text`` with its quantities blanked out (``1kg 坚果`` -> ``  坚果``), None when it has none.

    Quantities are found as the index finds them (its own pattern and
    :func:`analyzers.units.unit_tokens`, on the camel-marked text; a public name for the
    pattern in ``units.py`` would change the analysis version, whose hash covers that module,
    and ask every index for a reindex over a query-time need).

    A shopper's ``500毫升 保温杯`` or ``洗衣液 3kg`` names the product by its words. Spelled as
    1 + kg + 1kg + 1000g, a quantity could pass the character gate alone and outweighed the
    words four to one, so bean paste sold by the kilo topped ``1kg 坚果``. The quantity still
    scores (in ``迪奥 花蜜精华水150ml`` it tells the product from its 50 ml sibling), but the
    gate also needs the other words' characters.
    """
    pre = camel_split(text)
    spans = [m.span() for m in QUANTITY_RE.finditer(pre)
             if unit_tokens(m.group(0)) and not _NETWORK.fullmatch(m.group(0))]
    if not spans:
        return None
    out, done = [], 0
    for start, end in spans:
        out += [pre[done:start], " "]
        done = end
    out.append(pre[done:])
    return "".join(out)


def _plain_form(tok: Tokenizer, text: str) -> QueryForm:
    norm, _ = tok.prepare(text)
    segments = [chars_of(seg) for seg in norm.split(" ")]
    return QueryForm(text=norm, words=_unique(tok.words(text)), chars=chars_of(norm),
                     bigrams=_unique(bigrams_of(norm)), segments=[s for s in segments if s],
                     units=_units(tok, norm))


def _form(tok: Tokenizer, text: str) -> QueryForm:
    full = _plain_form(tok, text)
    rest = _quantity_free(text)
    if rest is None:
        return full
    core = _plain_form(tok, rest)
    if not core.chars:  # only quantities (``128g``): they are what is asked for
        return full
    parts = [w for w in full.words if w not in core.words and (w.isdigit() or (w.isalpha() and w.isascii()))]
    return replace(full, quantities=tok.prepare(text)[1], core_chars=core.chars, quantity_parts=parts)


def _analyze(tok: Tokenizer, synonyms: SynonymTable, text: str, heads: frozenset[str],
             modifiers: frozenset[str]) -> QueryAnalysis:
    text_cut = text[:MAX_QUERY_CHARS]
    original = _form(tok, text_cut)
    if not original.words and not original.chars:
        return empty_query(text)
    norm = original.text

    runs = script_runs(norm)
    cuts = [tok.segmenter.cut(run) for kind, run, _ in runs if kind == "cjk"]
    cjk_words = [w for cut in cuts for w in cut]
    # A brand is a whole word of the query, not a piece the search-mode cut also emits:
    # 马丁靴 holds 马丁, 三明治 holds 明治 and 卡地亚 holds 卡地, and none of them names a brand.
    whole = set(cjk_words)

    # So is a brand's alias: 热风枪 is no hotwind, 富士通 no fujifilm, 三星堆 no samsung.
    found = synonyms.find(norm, accept=lambda term: (term in whole or term not in tok.brands
                                                     or not all(map(is_cjk, term))))
    rewrites: list[QueryForm] = []
    syn_map: dict[str, list[str]] = {}
    for term, alts in found:
        syn_map[term] = sorted(alts)
        for alt in sorted(alts):
            if len(rewrites) >= MAX_REWRITES:
                break
            rewrites.append(_form(tok, norm.replace(term, f" {alt} ")))

    brands = tok.brands_in([w for w in original.words if w in whole or not any(map(is_cjk, w))])
    for term in syn_map:  # "lancome" is a brand when its synonym 兰蔻 is one
        if term not in brands and any(a in tok.brands for a in syn_map[term]):
            brands.append(term)

    pinyin_terms = [w for kind, run, _ in runs if kind == "alnum"
                    for w in [run.replace("-", "")] if w.isalpha() and len(w) >= 2]
    return QueryAnalysis(
        text=text, normalized=norm, words=original.words, chars=original.chars, brands=brands,
        bigrams=original.bigrams, forms=[original, *rewrites], synonyms=syn_map,
        pinyin_terms=pinyin_terms, cjk_words=cjk_words, oov_pinyin=_oov_pinyin(cuts),
        head=head_word(cuts, heads, modifiers),
    )


def head_word(cuts: list[list[str]], heads: frozenset[str], modifiers: frozenset[str] = frozenset()) -> str | None:
    """The query's head: its last word of two characters or more, when that word names a
    product (is in ``heads``), else ``None``.

    Chinese noun phrases put the thing last and what qualifies it before: ``蓝牙音响主板`` is a
    board, ``印度发饰`` a hair ornament, ``临期`` or ``印度`` only say which one. Words after the
    head are single characters (``手机壳女``), Latin and digits (``游泳衣2岁``), which the
    segmenter's cuts (``cuts``, one per run of Chinese characters) leave aside, or words that
    qualify it (``modifiers``: ``羽绒服女长款``, ``手表 防水``; and colours, ``手机壳 红色``),
    which the search looks past.

    No head when a lone character stands right before that word (``的`` excepted): the
    segmenter then likely cut a word in two (``防水接|线器``) or the word ends a clause, not
    the query's noun (``屏风有|滑轮``). Two or more single characters in a row before it are
    a word the dictionary lacks (``体|感|手柄``), and do not count.
    """
    for cut in reversed(cuts):
        for i in range(len(cut) - 1, -1, -1):
            word = cut[i]
            if len(word) < 2 or word in modifiers or (len(word) <= 3 and word.endswith("色")):
                continue
            lone = i > 0 and len(cut[i - 1]) == 1 and cut[i - 1] != "的" and (i == 1 or len(cut[i - 2]) > 1)
            return word if word in heads and not lone else None
    return None


def _oov_pinyin(cuts: list[list[str]]) -> list[str]:
    """Pinyin of every run of two or more single characters in the segmenter's cuts.

    A homophone typo breaks a word into characters the dictionary cannot join (``肖黑瓶``,
    ``不绣钢``); read aloud, the run is the word meant (``xiaoheiping``, ``buxiugang``), which
    is how the title's word is spelled in ``title_pinyin``. A run that is no typo (``女 夏``)
    spells a word few titles hold, and the search only scores it.
    """
    out: list[str] = []
    for cut in cuts:
        pending: list[str] = []
        for w in [*cut, ""]:
            if len(w) == 1:
                pending.append(w)
                continue
            if len(pending) >= 2:
                p = pinyin.full("".join(pending))
                if p:
                    out.append(p)
            pending = []
    return list(dict.fromkeys(out))


def _unique(tokens: list[str]) -> list[str]:
    return list(dict.fromkeys(tokens))
