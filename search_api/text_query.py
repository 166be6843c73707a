"""Build the text part of a search from a QueryAnalysis.

Only match / multi_match / term / bool are built from user text: never
query_string or a script.
"""

from __future__ import annotations

from typing import Any

from analyzers import QueryAnalysis


def build_text_query(qa: QueryAnalysis, *, relax: bool = False) -> dict[str, Any]:
    """Return an ES query for the text of ``qa``.

    ``relax=False`` requires every word (precision); ``relax=True`` lets most
    of them match (the zero-result fallback).
    """
    words = " ".join(qa.words)
    chars = " ".join(qa.chars)
    msm = "70%" if relax else "100%"
    return {
        "bool": {
            "should": [
                {"match": {"title_words": {"query": words, "minimum_should_match": msm, "boost": 3}}},
                {"match_phrase": {"title_chars": {"query": chars, "slop": 2, "boost": 2}}},
                {"match": {"brand_words": {"query": words, "boost": 2}}},
                {"match": {"category_words": {"query": words}}},
            ],
            "minimum_should_match": 1,
            "filter": [{"match": {"title_chars": {"query": chars, "minimum_should_match": "75%" if relax
                                                  else "100%"}}}],
        }
    }
