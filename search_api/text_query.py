"""Build the text part of a search from a QueryAnalysis.

Only match / match_phrase / bool / dis_max are built from user text: never query_string
or a script, so no query syntax reaches Elasticsearch.

How the score is made (issue 3: precision from words, recall from characters):

* **gate** (``must``): enough of the query's characters occur in the title (or the query
  names the product's brand / matches its pinyin). ``relax=True`` lowers the bar: the
  recall-oriented fallback when the normal query finds nothing.
* **words** (``title_words``): BM25 on dictionary words: the precise signal.
* **bigrams** (``title_bigrams``): recovers words the segmenter cut differently.
* **chars** (``title_chars``): the safety net for unknown words. The gate below is a match on
  these characters, so its score is the character score (one clause, one walk of the postings).
* **units** (off by default, see ``WEIGHTS``): each concept unit as a phrase.
* **phrases**: each space-separated part of the query as a ``match_phrase`` on the
  characters, exact and with a little slop, so a title that contains the query as written
  ranks above one with the same characters scattered.
* **brand**: the brand named in the query on ``brand_words``.
* **quantity**: a quantity beside other words (``1kg 坚果``) scores like any word, but the gate
  also needs enough of the other words' characters (a filter), so no bean paste sold by the
  kilo gets in on its ``1kg`` alone.
* **typo pinyin**: a run of single characters (the segmenter found no word: ``肖黑瓶``) by its
  pinyin against the title's word pinyin, so a homophone typo still meets its word.
* **head**: a flat bonus for a title that names the product the query asks for, its
  :attr:`~analyzers.QueryAnalysis.head` (``蓝牙音响主板`` -> 主板) or a synonym of it. Chinese
  queries put the product last; without it, a title matching the qualifiers (蓝牙音响) beat the
  boards, as BM25 counts every matched word alike.
* **pinyin**: Latin tokens that may be pinyin (``lianyiqun``, ``lyq``) against the pinyin fields.
  They pass the gate when every Latin word of the query may be pinyin, and then only with
  the query's Chinese characters beside them (``lyq 红色``).

Synonym rewrites of the query (``QueryAnalysis.forms[1:]``) are scored the same way and
combined with ``dis_max``, slightly discounted, so a rewrite can find products but the
literal reading wins ties.
"""

from __future__ import annotations

from typing import Any

from analyzers import QueryAnalysis
from analyzers.fields import bigrams_of, chars_of
from analyzers.normalize import is_cjk
from analyzers.query import QueryForm

#: Field weights; tuned as a whole on the judged set, not per query.
WEIGHTS = {
    "words": 3.0,
    "bigrams": 2.0,
    "chars": 2.0,
    "phrase": 2.0,
    "phrase_slop": 1.0,
    "brand": 2.0,
    "pinyin": 2.0,
    "context": 0.5,  # category, attributes, description
    "rewrite": 0.5,  # a synonym rewrite must score twice the literal reading to win (dis_max)
    "coverage": 0.0,  # per distinct query unit present in the title; measured no gain, off
    # Per concept unit (word or unknown-character run) as a phrase of characters. Off: on the
    # judged set it measured -0.005..-0.01 nDCG@10 (weights 1.5-6); kept as a knob for
    # catalogs with many brands the dictionary lacks.
    "units": 0.0,
    # A run of characters the segmenter left single, by its pinyin against the title's words'
    # pinyin: the word typed with a wrong homophone (兰蔻肖黑瓶 -> xiaoheiping = 小黑瓶). With one
    # homophone typo a judged query (``--variant homophone``) nDCG@10 read 0.672 without it and
    # 0.676/0.678/0.680/0.679/0.678 at 1/2/4/6/8 on Product1M, on two known-item sets 0.505 and
    # 0.546 without, 0.555 and 0.597 at 4; the clean queries moved by +0.001 at most.
    "oov_pinyin": 4.0,
    # A constant for a title holding the query's head word (or a synonym of it), as its
    # bigrams. On the judged sets it is neutral: Product1M nDCG@10 0.6971 without it, 0.6974
    # with it (a prototype: 0.6961 / 0.6978 / 0.6970 at 5 / 10 / 15), the known-item set
    # 0.6225 at each; with a homophone typo or an unsold brand the same within 0.001. On 3,100
    # real queries it changed the top three of 3.3%, by eye better about four times in five
    # (宫本剪刀, 万里行鞋油); analyzers/README.md, "The head word".
    "head": 10.0,
}
_PINYIN_FIELDS = ("title_pinyin", "title_initials", "brand_pinyin")
_CONTEXT_FIELDS = ("category_words", "attr_words", "desc_words")
#: How many query characters a title must contain. Low on purpose: shoppers' and sellers'
#: wordings differ a lot (measured: a 75% gate loses 0.05 nDCG@10 on the judged set), and
#: the score, not the gate, sorts the good matches first.
GATE_MSM = "3<50%"
#: The zero-result fallback: any one character of a short query, 30% of a long one's. The
#: ranking, not this gate, picks what shows: on judged queries with an unsold brand and model
#: added (``--variant unsold``) nDCG@10 read 0.6813 with any one character and 0.6815 with 30%,
#: while a long query's fallback stopped walking tens of thousands of products that share one
#: character with it: ES CPU of the real-query mix's 489 recovering searches 4.9-5.0 against
#: 6.8-7.0 ms, their p99 13-14 against 29-30 ms (100k real titles; ``python -m bench.bench_recovery``).
RELAXED_GATE_MSM = "1<30%"


def _pinyin_may_gate(qa: QueryAnalysis) -> bool:
    """Whether pinyin may let a product in: only when every Latin word of the query may be
    pinyin (lyq, lianyiqun, lyq 红色). Otherwise a Latin brand read as pinyin let anything in
    (muji量杯 as 母鸡, 流淌的歌声cd as 出道), and a model code (ht ttm22) let 恒拓's iron pills in."""
    latin = {t for t in qa.words if not any(map(is_cjk, t))}
    return bool(qa.pinyin_terms) and latin <= set(qa.pinyin_terms)


def _form_query(form: QueryForm, qa: QueryAnalysis, *, relax: bool, pinyin_gate: bool,
                boost: float = 1.0) -> dict[str, Any]:
    w = WEIGHTS
    words = " ".join(form.words)
    chars = " ".join(form.chars)
    should: list[dict[str, Any]] = []
    if words:
        should.append({"match": {"title_words": {"query": words, "boost": w["words"]}}})
        should.append({"multi_match": {"query": words, "fields": list(_CONTEXT_FIELDS),
                                       "boost": w["context"]}})
    if form.bigrams:
        should.append({"match": {"title_bigrams": {"query": " ".join(form.bigrams), "boost": w["bigrams"]}}})
    for seg in form.segments:
        if len(seg) >= 2:
            should.append({"match_phrase": {"title_chars": {"query": " ".join(seg), "boost": w["phrase"]}}})
            should.append({"match_phrase": {"title_chars": {"query": " ".join(seg), "slop": 2,
                                                            "boost": w["phrase_slop"]}}})
    if w["units"]:
        for unit in form.units:
            q = ({"match_phrase": {"title_chars": {"query": " ".join(unit)}}} if len(unit) > 1
                 else {"term": {"title_chars": unit[0]}})
            should.append({"bool": {"must": [q], "boost": w["units"]}})
    if w["coverage"]:
        should.extend(_coverage(form, w["coverage"]))
    gate: list[dict[str, Any]] = []
    msm = RELAXED_GATE_MSM if relax else GATE_MSM  # how many of the characters a product must hold
    if chars:
        # The gate's own score is the character score: a separate should clause on the same
        # characters would make ES walk their (long) postings a second time for the same sum.
        gate.append({"match": {"title_chars": {"query": chars, "minimum_should_match": msm,
                                               "boost": 1.0 + w["chars"]}}})
    if words:
        gate.append({"match": {"brand_words": {"query": words, "operator": "and"}}})
    if w["brand"] and qa.brands:
        should.append({"match": {"brand_words": {"query": " ".join(qa.brands), "boost": w["brand"]}}})
    if relax and qa.pinyin:
        # Homophone typos (连衣群 for 连衣裙): the CJK words' pinyin against the title's pinyin.
        pin = " ".join(qa.pinyin)
        should.append({"match": {"title_pinyin": {"query": pin, "boost": w["pinyin"]}}})
        gate.append({"match": {"title_pinyin": {"query": pin, "minimum_should_match": "2<75%"}}})
    if qa.pinyin_terms:
        pin = " ".join(qa.pinyin_terms)
        should.append({"multi_match": {"query": pin, "fields": list(_PINYIN_FIELDS), "boost": w["pinyin"]}})
        if pinyin_gate:
            # A query typed in pinyin finds by pinyin, every term of it; beside Chinese
            # (lyq 红色), the Chinese must match too.
            by_pinyin: dict[str, Any] = {"multi_match": {"query": pin, "fields": list(_PINYIN_FIELDS),
                                                         "operator": "and"}}
            cjk = [c for c in form.chars if any(map(is_cjk, c))]
            if cjk:
                by_pinyin = {"bool": {"must": [by_pinyin, {"match": {"title_chars": {
                    "query": " ".join(cjk), "minimum_should_match": msm}}}]}}
            gate.append(by_pinyin)
    if not gate:
        return {"match_none": {}}
    out: dict[str, Any] = {"bool": {"must": [{"bool": {"should": gate, "minimum_should_match": 1}}],
                                    "should": should, "boost": boost}}
    if form.core_chars:
        out["bool"]["filter"] = [{"match": {"title_chars": {"query": " ".join(form.core_chars),
                                                            "minimum_should_match": msm}}}]
    return out


def _coverage(form: QueryForm, weight: float) -> list[dict[str, Any]]:
    """One constant-score clause per distinct query unit found in the title.

    BM25 sums term scores, so a title repeating two common query characters can beat one
    that has every part of the query once. Counting distinct units (bigrams of the CJK
    parts, Latin/digit tokens, lone CJK characters) brings back the coordination that
    Lucene's BM25 dropped.
    """
    units: list[tuple[str, str]] = [("title_bigrams", b) for b in form.bigrams]
    for seg in form.segments:
        for tok in seg:
            if len(seg) == 1 or tok.isascii():
                units.append(("title_chars", tok))
    return [{"constant_score": {"filter": {"term": {field: value}}, "boost": weight}}
            for field, value in dict.fromkeys(units)]


def _head_forms(qa: QueryAnalysis) -> list[str]:
    """The query's head and its synonyms: the words whose presence earns the head bonus."""
    return [qa.head, *qa.synonyms.get(qa.head, ())] if qa.head else []


def _head_clause(qa: QueryAnalysis, weight: float) -> dict[str, Any] | None:
    """A flat ``weight`` for a title holding the query's head or a synonym of it: all of a
    Chinese word's bigrams (cheaper than a phrase, and a title practically never holds them
    apart), or, for a synonym with Latin letters or digits, its characters in a row."""
    if not qa.head or not weight:
        return None
    holds: list[dict[str, Any]] = []
    for word in _head_forms(qa):
        if all(map(is_cjk, word)):
            holds.append({"match": {"title_bigrams": {"query": " ".join(bigrams_of(word)), "operator": "and"}}})
        else:  # a synonym with Latin or digits (u盘): its characters and Latin runs, in a row
            holds.append({"match_phrase": {"title_chars": " ".join(chars_of(word))}})
    return {"constant_score": {"filter": {"bool": {"should": holds}}, "boost": weight}}


def head_held(qa: QueryAnalysis, source: dict[str, Any]) -> str | None:
    """Which of the head's forms a product's analysed title holds, as the head clause sees it
    (for ``explain``; a Latin synonym's characters are checked present, not in a row)."""
    bigrams = set((source.get("title_bigrams") or "").split())
    chars = set((source.get("title_chars") or "").split())
    for word in _head_forms(qa):
        if all(map(is_cjk, word)):
            if set(bigrams_of(word)) <= bigrams:
                return word
        elif set(chars_of(word)) <= chars:
            return word
    return None


def build_text_query(qa: QueryAnalysis, *, relax: bool = False) -> dict[str, Any]:
    """Return an ES query for the text of ``qa``.

    ``relax=False`` requires most query characters in the title (precision); ``relax=True``
    lets fewer match (the zero-result fallback). An empty analysis matches nothing.
    """
    forms = qa.forms or []
    if not forms:
        return {"match_none": {}}
    gate = _pinyin_may_gate(qa)  # one answer for every form: it reads the query, not the form
    queries = [_form_query(forms[0], qa, relax=relax, pinyin_gate=gate)]
    if WEIGHTS["oov_pinyin"] and qa.oov_pinyin and "bool" in queries[0]:
        queries[0]["bool"]["should"].append({"match": {"title_pinyin": {
            "query": " ".join(qa.oov_pinyin), "boost": WEIGHTS["oov_pinyin"]}}})
    head = _head_clause(qa, WEIGHTS["head"])
    if head and "bool" in queries[0]:
        queries[0]["bool"]["should"].append(head)
    queries += [_form_query(f, qa, relax=relax, pinyin_gate=gate, boost=WEIGHTS["rewrite"]) for f in forms[1:]]
    if len(queries) == 1:
        return queries[0]
    return {"dis_max": {"queries": queries}}
