"""From a merged product state to the ES ``_source``: the derived search fields.

Text analysis is the expensive part (jieba, pinyin), so it runs only when a text field
changed or the analyzer's version differs from the one the document was analysed with.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from analyzers import INDEX_TEXT_FIELDS, Analyzer
from analyzers.normalize import decode_char_refs

#: Fields stored and shown as plain text: HTML character references in them are decoded.
PLAIN_TEXT_FIELDS = ("title", "brand", "description", "shop_name")


def category_levels(category: list[str] | None) -> list[str]:
    """``["美妆", "面霜"]`` -> ``["美妆", "美妆/面霜"]`` (the prefixes used to filter and facet)."""
    parts = category or []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def attr_pairs(attributes: dict[str, str] | None) -> list[str]:
    return [f"{k}={v}" for k, v in (attributes or {}).items()]


def listing_key(doc: dict[str, Any]) -> str:
    """The key identical listings share: a hash of the title's analysed characters.

    ``title_chars`` is the title normalised (full-width, case, traditional characters) and
    stripped of punctuation and spacing, so `华为Mate60，黑色` and `华为 MATE60 黑色` meet. A
    title with no character left (punctuation, emoji) is keyed by its product: it folds with
    nothing, rather than with every other such title.
    """
    text = doc.get("title_chars") or f"product:{doc['product_id']}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def build_source(state: dict[str, Any], analyzer: Analyzer, *, text_changed: bool) -> dict[str, Any]:
    """Return the document to index for ``state`` (a merged product state; mutated and returned).

    Titles, brands, descriptions and shop names are stored as plain text: a feed's HTML
    character references (``LANC&Ocirc;ME``, ``&nbsp;``) are decoded, so a storefront shows
    ``LANCÔME`` and a search for ``lancome`` finds it. A document indexed before that is
    decoded, and analysed again, when it is next built (an update, or ``catalog reindex``).
    """
    doc = state
    for name in PLAIN_TEXT_FIELDS:
        value = doc.get(name)
        if isinstance(value, str) and "&" in value and (plain := decode_char_refs(value)) != value:
            doc[name] = plain
            text_changed = True
    doc["category_path"] = "/".join(doc.get("category") or []) or None
    doc["category_levels"] = category_levels(doc.get("category"))
    doc["attrs"] = attr_pairs(doc.get("attributes"))
    stale_analysis = doc.get("analysis_version") != analyzer.version
    if doc.get("title") and (text_changed or stale_analysis or "title_words" not in doc):
        fields, doc["_suggest_inputs"] = analyzer.analyze_product(
            title=doc["title"], brand=doc.get("brand"), description=doc.get("description") or "",
            category=doc.get("category"), attributes=doc.get("attributes"),
        )
        doc.update(fields)
        doc["analysis_version"] = analyzer.version
        doc["listing_key"] = listing_key(doc)
    elif "title_words" in doc and "listing_key" not in doc:  # analysed before the key existed
        doc["listing_key"] = listing_key(doc)
    inputs = doc.pop("_suggest_inputs", None) or (doc.get("suggest") or {}).get("input")
    if doc.get("searchable") and inputs:
        # Only on-shelf products feed suggestions; "shop:<id>" scopes a storefront's.
        doc["suggest"] = {
            "input": inputs,
            "weight": 1 + int(10 * math.log1p(doc.get("sales") or 0)),
            "contexts": {"scope": ["all", f"shop:{doc['shop_id']}"]},
        }
    else:
        doc.pop("suggest", None)
    if not doc.get("title"):  # a patch that arrived before its product: nothing to analyse yet
        for name in (*INDEX_TEXT_FIELDS, "listing_key"):
            doc.pop(name, None)
    return doc
