"""Typos: Latin words corrected against the words the index holds, and ``/suggest``'s second try.

The dictionary corrector (:mod:`analyzers.correct`) fixes homophones and exact pinyin, but a
mistyped Latin word (``addidas``, ``samsng``, ``iphnoe``, ``lianyiqn``) found nothing at all:
no dictionary lists every brand a shop sells. The catalog's own vocabulary does, and
Elasticsearch's ``term`` suggester (stock ES, no plugin) reads it: for each word of the query
that no title holds, the nearest title word, or for a query typed all in Latin letters the
nearest title word's pinyin.

Most Latin words that no title holds are no typos but names the catalog lacks, and one edit
from some other word (``stitch``/``switch``, ``rolex``/``rosex``, ``hair``/``haier``). So:

- only a search that found nothing asks, never one with results (of the real queries that
  find something, the few a correction would also fit are mostly models read wrongly);
- a typo is counted as Meilisearch counts it: one edit from five letters, two from nine;
  shorter words have too many neighbours;
- a word English text uses (Zipf frequency 2.5 or more in ``wordfreq``, about once in three
  million words: ``rolex``, ``tablet``, ``crocs``) is taken as meant, not as a typo;
- a word is spelled as pinyin only from eight letters (three syllables or so: ``lianyiqn``);
  shorter Latin words are mostly names (``sepai``, ``dapong``), and near some pinyin anyway;
- letters glued to digits are part of a model (``vivoy52s``, ``samsunga72``), not a word;
- the corrected search must find the corrected word (or a synonym of it) together with the
  rest of the query (``search_api.service._corrected_query``).

The suggester answers from the whole index, other shops and products off the shelf included.
A correction is therefore only a candidate: the service probes it under the storefront's
filters and uses it only when it finds something there (``SearchService._recover``), as it
does the dictionary's corrections.

A ``/suggest`` prefix that completes to nothing is asked again (:func:`fuzzy_suggest_body`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wordfreq import zipf_frequency

from analyzers import Analyzer, pinyin
from analyzers.normalize import CJK, is_cjk

#: Letters a word needs before one typo is assumed, and before two (Meilisearch's defaults).
ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9
#: Letters a word needs before it is corrected as pinyin.
PINYIN_FROM = 8
#: Zipf frequency in English at which a word is taken as meant (wordfreq's scale: 3 is once
#: in a million words).
ENGLISH_ZIPF = 2.5
#: Letters of the shortest correction: a model part (``tit`` of ``tit-al00``) is no word.
_SHORTEST_OPTION = 4
_WORD = re.compile(r"(?<![a-z0-9])[a-z]+(?![a-z0-9])")
#: Suggestion names start with the field they read: words, or the pinyin of words.
_FIELDS = {"w": "title_words", "p": "title_pinyin"}


@lru_cache(maxsize=4096)
def _english(word: str) -> bool:
    return zipf_frequency(word, "en") >= ENGLISH_ZIPF


def warm() -> None:
    """Load wordfreq's English list (~0.1 s) now rather than in the first search that needs it."""
    _english("warm")


def latin_words(norm: str) -> list[str]:
    """The Latin words of a normalised query that may be typos, once each. Letters glued to
    digits are part of a model (``vivoy52s``, ``samsunga72``, ``iqooz1``): not a word to spell."""
    return list(dict.fromkeys(w for w in _WORD.findall(norm) if len(w) >= ONE_TYPO_FROM and not _english(w)))


def suggest_request(norm: str) -> dict[str, Any] | None:
    """The ``_search`` body that asks for the corrections of ``norm``'s Latin words, or None
    when it has none to correct. It matches no document: it only reads the terms dictionary."""
    words = latin_words(norm)
    # Beside Chinese a Latin word is a brand or a model, not pinyin (the corrector's rule too).
    shortest_of = {"w": ONE_TYPO_FROM}
    if not any(map(is_cjk, norm)):
        shortest_of["p"] = PINYIN_FROM
    suggest: dict[str, Any] = {}
    for key, shortest in shortest_of.items():
        field = _FIELDS[key]
        for edits, group in ((1, [w for w in words if shortest <= len(w) < TWO_TYPOS_FROM]),
                             (2, [w for w in words if len(w) >= max(shortest, TWO_TYPOS_FROM)])):
            if group:
                suggest[f"{key}{edits}"] = {"text": " ".join(group), "term": {
                    "field": field, "suggest_mode": "missing", "max_edits": edits, "size": 3}}
    if not suggest:
        return None
    return {"size": 0, "track_total_hits": False, "query": {"match_none": {}}, "suggest": suggest}


@dataclass(frozen=True)
class Spelling:
    """A query with its Latin typos corrected, and what a product must hold to be found by it."""

    text: str
    #: (field, word) of each word corrected to: the field of the index it was found in
    #: (``title_words`` or ``title_pinyin``), as ``search_api.service._corrected_query`` takes them.
    corrections: list[tuple[str, str]]


def corrected(norm: str, resp: Any) -> Spelling | None:
    """``norm`` with each Latin word the suggester has an option for replaced by the best one
    (highest score, then most titles, over both fields); None when no word has one."""
    best: dict[str, tuple[float, int, str, str]] = {}
    for key, entries in (resp.get("suggest") or {}).items():
        field = _FIELDS[key[0]]
        for entry in entries:
            options = [o for o in entry.get("options", []) if _is_word(o["text"])]  # best first
            if options:
                cand = (float(options[0]["score"]), int(options[0]["freq"]), str(options[0]["text"]), field)
                if cand > best.get(entry["text"], (-1.0, -1, "", "")):
                    best[entry["text"]] = cand
    if not best:
        return None
    fixed = _WORD.sub(lambda m: best[m.group()][2] if m.group() in best else m.group(), norm)
    return Spelling(fixed, [(field, text) for _, _, text, field in best.values()]) if fixed != norm else None


def _is_word(text: str) -> bool:
    return len(text) >= _SHORTEST_OPTION and text.isascii() and text.isalpha()


#: A typed prefix that may be a mistyped word: five Latin letters or more, a vowel among them.
#: Shorter, or without a vowel, it is most likely pinyin initials (lyq, xjsgl), where any letter
#: is one edit from another product's initials.
_FUZZY_PREFIX = re.compile(r"(?=[a-z]*[aeiou])[a-z]{5,}")
#: A Chinese prefix that may hold a homophone typo: three characters or more, then maybe the
#: Latin letters of the next syllable being typed (连依裙, 三只送s).
_HOMOPHONE_PREFIX = re.compile(rf"([{CJK}]{{3,}})([a-z]*)")


def fuzzy_suggest_body(body: dict[str, Any], analyzer: Analyzer) -> dict[str, Any] | None:
    """``body`` (of :func:`search_api.service.suggest_body`) asked again for a prefix that completes to nothing,
    or None when it is not worth asking:

    - a Latin prefix (see ``_FUZZY_PREFIX``) with one typo allowed after the first letter
      (``addid`` -> adidas);
    - a Chinese prefix (see ``_HOMOPHONE_PREFIX``) with characters the segmenter leaves single
      (the sign of a homophone typo, as in :attr:`QueryAnalysis.oov_pinyin`), by its pinyin,
      which the titles' pinyin inputs complete (``运东鞋`` -> yundongxie -> 运动鞋).

    Most Chinese prefixes that complete to nothing are no typos but words the catalog lacks,
    and any two characters sound like many others: of 2,000 prefixes of real queries, asking
    again every one of two characters or more by its pinyin answered 膏药 with 高腰 (high-waist)
    jeans and 二胡 with earrings (耳环), 24 times, nearly all wrong.
    """
    completion = body["suggest"]["s"]
    prefix = completion["prefix"]
    if _FUZZY_PREFIX.fullmatch(prefix):
        fuzzy = {**completion["completion"], "fuzzy": {"fuzziness": 1, "transpositions": True, "prefix_length": 1}}
        return {**body, "suggest": {"s": {**completion, "completion": fuzzy}}}
    if (m := _HOMOPHONE_PREFIX.fullmatch(prefix)) and analyzer.analyze_query(m.group(1)).oov_pinyin:
        return {**body, "suggest": {"s": {**completion, "prefix": pinyin.full(m.group(1)) + m.group(2)}}}
    return None
