"""Chinese text analysis for pocket-search: pure text in, tokens out.

The same :class:`~analyzers.pipeline.Analyzer` serves index time (``document_fields``)
and query time (``analyze_query``), so both sides tokenise alike. Elasticsearch only
sees pre-tokenised, whitespace-joined text (the ``whitespace`` analyzer), which is why
this package must never import Elasticsearch or Kafka.
"""

from analyzers.pipeline import INDEX_TEXT_FIELDS, Analyzer, QueryAnalysis, get_analyzer

__all__ = ["INDEX_TEXT_FIELDS", "Analyzer", "QueryAnalysis", "get_analyzer"]
