"""Judged queries made from a catalog itself: known-item queries, for shops with no judgments.

``catalog eval relevance`` needs judged queries, and most shops have none. A known-item query
is a few words of one product's title, in the title's order, as a shopper who has that
product in mind types them (``兰蔻小黑瓶精华肌底液100ml`` -> ``兰蔻精华``): the product is
the one right answer, with every listing of the identical title (the same product sold twice
is equally right). This is the simulated known-item method of Azzopardi, de Rijke and Balog
(SIGIR 2007), with the words drawn uniformly from the title.

The words come from jieba's own dictionary, not from ours: queries cut by the analyzer they
then test would favour it (a commerce-dictionary brand is one word here only if jieba's
general dictionary says so). Real queries also have typos, synonyms and words no title
holds; run the generated set with ``--variant`` for the spellings, and keep judged real
queries, where a shop has them, as the measure that counts.
"""

from __future__ import annotations

import random
from collections import defaultdict
from functools import lru_cache
from typing import Any

from analyzers.normalize import decode_char_refs, is_cjk, normalize

#: Words a query takes from its title: two or three, like most shoppers' queries.
WORDS_PER_QUERY = (2, 3)
#: A title needs this many distinct usable words, so that a query is a part of it, not all of it.
MIN_TITLE_WORDS = 4
#: Query length bounds, in characters (real Taobao queries average about 7).
MIN_QUERY_CHARS, MAX_QUERY_CHARS = 4, 20


@lru_cache(maxsize=1)
def _reference_cutter() -> Any:
    """A jieba tokenizer with jieba's general dictionary only (its own instance: the analyzer's
    reference engine adds the commerce dictionary to jieba's global one)."""
    import jieba

    jieba.setLogLevel(60)
    return jieba.Tokenizer()


def _as_shown(title: str) -> str:
    """``title`` normalised as the storefront shows it: ``&times;`` is ×, not the word ``times``."""
    return normalize(decode_char_refs(title))


def title_words(title: str) -> list[str]:
    """The distinct words of ``title`` a query may take: two characters or more, holding a
    letter or a CJK character (``100ml`` yes, ``2021`` and ``/`` no), in title order, of the
    title as shown."""
    words = _reference_cutter().lcut(_as_shown(title), HMM=False)
    usable = (w.strip() for w in words)
    return list(dict.fromkeys(w for w in usable
                              if len(w) >= 2 and not w.isdigit() and any(c.isalpha() for c in w)))


def join_words(words: list[str]) -> str:
    """Words as a shopper types them: Chinese run together, a space where two Latin or digit
    words would otherwise merge (``iphone`` + ``13`` -> ``iphone 13``)."""
    out = ""
    for w in words:
        if out and not is_cjk(out[-1]) and not is_cjk(w[0]):
            out += " "
        out += w
    return out


def known_item_queries(rows: list[dict[str, Any]], *, count: int = 500, seed: int = 1) -> list[dict[str, Any]]:
    """Up to ``count`` judged queries ``{"query", "relevant"}`` from catalog ``rows`` (``id``, ``title``).

    Deterministic for the same rows and ``seed``. Each query comes from a different title;
    ``relevant`` lists every row whose title normalises to the same text. Titles too short
    to hold a query (fewer than :data:`MIN_TITLE_WORDS` usable words) are skipped.
    """
    by_title: dict[str, list[str]] = defaultdict(list)
    shown: dict[str, str] = {}
    for row in rows:
        title = row.get("title")
        if not isinstance(title, str) or row.get("id") in (None, ""):
            continue
        key = "".join(c for c in _as_shown(title) if c.isalnum())
        if key:
            by_title[key].append(str(row["id"]))
            shown.setdefault(key, title)
    rng = random.Random(seed)
    keys = sorted(by_title)
    rng.shuffle(keys)
    out: list[dict[str, Any]] = []
    for key in keys:
        if len(out) >= count:
            break
        words = title_words(shown[key])
        if len(words) < MIN_TITLE_WORDS:
            continue
        k = rng.choice(WORDS_PER_QUERY)
        picked = sorted(rng.sample(range(len(words)), k))
        query = join_words([words[i] for i in picked])
        if MIN_QUERY_CHARS <= len(query) <= MAX_QUERY_CHARS:
            out.append({"query": query, "relevant": sorted(set(by_title[key]))})
    return out
