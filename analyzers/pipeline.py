"""The analyzer contract shared by the indexer, the search API and the CLI.

First version: normalisation, jieba words and single characters. Deepened by the
analysis work (dictionary, bigrams, pinyin, synonyms, units) behind the same interface.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import jieba

# Every pre-tokenised text field and its ES mapping. schemas/mapping.py merges these in.
_WS = {"type": "text", "analyzer": "whitespace"}
INDEX_TEXT_FIELDS: dict[str, dict] = {
    "title_words": dict(_WS),
    "title_chars": dict(_WS),
    "brand_words": dict(_WS),
    "desc_words": dict(_WS),
    "category_words": dict(_WS),
}

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w]+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, collapsed spaces."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


@dataclass(frozen=True)
class QueryAnalysis:
    """What the search side needs to know about a query text."""

    text: str
    normalized: str
    words: list[str]
    chars: list[str]
    brands: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.chars


class Analyzer:
    """Tokenises product text for the index and query text for search.

    Construction loads the dictionaries (a hidden cost of about a second); use
    :func:`get_analyzer` for the process-wide instance.
    """

    def __init__(self) -> None:
        self._tok = jieba.Tokenizer()
        self._tok.initialize()
        self.version = hashlib.sha1(b"v1").hexdigest()[:12]

    def normalize(self, text: str) -> str:
        return normalize(text)

    def words(self, text: str) -> list[str]:
        norm = _PUNCT.sub(" ", normalize(text))
        return [w for w in self._tok.cut_for_search(norm, HMM=False) if w.strip()]

    @staticmethod
    def chars(text: str) -> list[str]:
        return [c for c in _PUNCT.sub("", normalize(text).replace(" ", ""))]

    def document_fields(self, *, title: str, brand: str | None = None, description: str = "",
                        category: list[str] | None = None,
                        attributes: dict[str, str] | None = None) -> dict[str, str]:
        """Return the pre-tokenised text fields of a product, keyed as in INDEX_TEXT_FIELDS."""
        return {
            "title_words": " ".join(self.words(title)),
            "title_chars": " ".join(self.chars(title)),
            "brand_words": " ".join(self.words(brand or "")),
            "desc_words": " ".join(self.words(description)),
            "category_words": " ".join(self.words(" ".join(category or []))),
        }

    def suggest_inputs(self, *, title: str, brand: str | None = None,
                       category: list[str] | None = None) -> list[str]:
        """Completion inputs for a product (prefixes a shopper may type)."""
        out = [normalize(title)[:50]]
        if brand:
            out.append(normalize(brand))
        return out

    def analyze_query(self, text: str) -> QueryAnalysis:
        """Analyse a shopper's query; never raises on any text."""
        return QueryAnalysis(text=text, normalized=normalize(text), words=self.words(text),
                             chars=self.chars(text))

    def highlight(self, title: str, qa: QueryAnalysis, *, pre: str = "<em>", post: str = "</em>") -> str:
        """Wrap the parts of the *original* title that match the query in pre/post tags."""
        terms = sorted({w for w in qa.words if w}, key=len, reverse=True)
        if not terms:
            return title
        norm = [normalize(c) for c in title]  # per-character, so offsets stay on the original
        marks = [False] * len(title)
        flat = "".join(n if len(n) == 1 else "\0" for n in norm)
        for t in terms:
            for m in re.finditer(re.escape(t), flat):
                for i in range(m.start(), m.end()):
                    marks[i] = True
        out, inside = [], False
        for c, m in zip(title, marks, strict=True):
            if m and not inside:
                out.append(pre)
                inside = True
            elif not m and inside:
                out.append(post)
                inside = False
            out.append(c)
        if inside:
            out.append(post)
        return "".join(out)


@functools.lru_cache(maxsize=1)
def get_analyzer() -> Analyzer:
    """The process-wide analyzer (dictionaries load once)."""
    return Analyzer()
