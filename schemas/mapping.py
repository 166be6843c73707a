"""The index: settings, mapping and the alias the API reads.

Designed for a stock Elasticsearch with no plugins and no analysis-common module:
text arrives pre-tokenised by ``analyzers`` and is indexed with the built-in
``whitespace`` analyzer; everything else is keyword, numeric, date or completion.
Bump ``MAPPING_VERSION`` on any change here: ``catalog status`` compares it with the
live index's ``_meta`` and says when a reindex is needed.
"""

from __future__ import annotations

from typing import Any

from analyzers import INDEX_TEXT_FIELDS

ALIAS = "products"
MAPPING_VERSION = 4

#: BM25 for product titles. Sellers repeat the words they want to be found by (面霜 面霜
#: 补水面霜), and titles are all about the same length, so a term's presence should count
#: and its repetition barely: k1 = 0.3 instead of 1.2 saturates term frequency early, and
#: b = 0.5 halves the length penalty. Tuned as one setting for every text field on the
#: judged set (nDCG@10 +0.006..0.009 over k1 0.1-0.5, b 0.3-0.75; 1.2/0.75 is the default).
BM25 = {"type": "BM25", "k1": 0.3, "b": 0.5}

_KW = {"type": "keyword"}


def mappings(*, analysis_version: str) -> dict[str, Any]:
    """The mapping, with the analysis and mapping versions recorded in ``_meta``."""
    props: dict[str, Any] = {
        "product_id": _KW,
        "shop_id": _KW,
        "shop_name": _KW,
        # Original text: returned and highlighted in Python, not searched directly.
        "title": {"type": "keyword", "index": False, "doc_values": False},
        "description": {"type": "keyword", "index": False, "doc_values": False},
        "brand": _KW,
        "category": _KW,
        "category_path": _KW,
        "category_levels": _KW,  # ["美妆", "美妆/面霜"]: prefix filter and tree facet
        "attributes": {"type": "object", "enabled": False},
        "attrs": _KW,  # ["颜色=黑色"]: attribute filters and facets
        "price": {"type": "double"},
        "stock": {"type": "integer"},
        "sales": {"type": "long"},
        "rating": {"type": "float"},
        "shop_score": {"type": "float"},  # the shop's quality, 0-5 (a ranking signal)
        "status": _KW,
        # The listing's text, normalised: identical listings (同款, the same title in many shops
        # or many times in one) share it, and ``/search?distinct=true`` folds them (collapse).
        "listing_key": _KW,
        "image": {"type": "keyword", "index": False, "doc_values": False},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        # Bookkeeping of the indexer (see indexer/merge.py).
        "version": {"type": "long"},
        "visible": {"type": "boolean"},  # a full upsert newer than any delete
        "searchable": {"type": "boolean"},  # visible and on shelf: the one storefront filter
        "in_stock": {"type": "boolean"},
        "indexed_at": {"type": "date"},
        "event_id": _KW,
        "analysis_version": _KW,
        "meta": {"type": "object", "enabled": False},  # per-field versions
        "suggest": {
            "type": "completion",
            "analyzer": "keyword",
            "preserve_separators": False,
            "max_input_length": 60,
            "contexts": [{"name": "scope", "type": "category"}],
        },
    }
    props.update(INDEX_TEXT_FIELDS)
    return {
        "dynamic": "strict",
        "_meta": {"mapping_version": MAPPING_VERSION, "analysis_version": analysis_version},
        "properties": props,
    }


def settings(*, shards: int = 1, replicas: int = 0, refresh_interval: str = "1s") -> dict[str, Any]:
    return {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        "refresh_interval": refresh_interval,
        "max_result_window": 10_000,
        "similarity": {"default": dict(BM25)},
    }


def index_body(*, analysis_version: str, **settings_kw: Any) -> dict[str, Any]:
    """Body for ``indices.create``."""
    return {"settings": settings(**settings_kw), "mappings": mappings(analysis_version=analysis_version)}
