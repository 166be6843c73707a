"""The analyzer contract shared by the indexer, the search API and the CLI.

:class:`Analyzer` is a facade over the modules of this package:

* ``normalize`` -- NFKC, case folding, OpenCC t2s, model-number splitting;
* ``dictionary`` -- the commerce dictionary and the segmenter (rjieba, jieba as reference);
* ``fields`` -- the index fields (``INDEX_TEXT_FIELDS``) and document tokenisation;
* ``units`` / ``pinyin`` -- canonical quantities and cached pinyin;
* ``query`` / ``synonyms`` -- query-time analysis and the synonym file;
* ``highlight`` -- marks on the original title.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from analyzers import fields, pinyin
from analyzers import highlight as _highlight
from analyzers.correct import Corrector
from analyzers.dictionary import DATA_DIR, CommerceDictionary, load_dictionary, parse_lines
from analyzers.fields import INDEX_TEXT_FIELDS, Tokenizer
from analyzers.normalize import normalize
from analyzers.query import QueryAnalysis, QueryForm, analyze_query
from analyzers.synonyms import SynonymTable

__all__ = ["INDEX_TEXT_FIELDS", "Analyzer", "QueryAnalysis", "QueryForm", "get_analyzer"]

# Source files whose behaviour decides what is indexed; their text is part of the version.
_INDEX_TIME_MODULES = ("normalize.py", "units.py", "pinyin.py", "dictionary.py", "fields.py")
_PKG_DIR = Path(__file__).resolve().parent
#: Query-time synonym files: ops edit synonyms.txt; synonyms_brands.txt is generated.
SYNONYM_FILES = (DATA_DIR / "synonyms.txt", DATA_DIR / "synonyms_brands.txt")
#: Dictionary product words that are never a query's head, and words that qualify a product
#: and are looked past for it (query time only; no reindex).
NOT_HEADS_FILE = DATA_DIR / "not_heads.txt"
MODIFIERS_FILE = DATA_DIR / "modifiers.txt"
#: The longest pinyin of a product word a completion input can hold (four syllables of up to six letters).
_MAX_WORD_PINYIN = 24


def _lib_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "?"


def analysis_version(dictionary: CommerceDictionary) -> str:
    """A 12-hex hash of everything that changes index-time tokens.

    Covers the dictionary files, the index-time modules' source, the field mapping and the
    versions of OpenCC, pypinyin and the segmenters. Synonyms and query code are excluded:
    they apply at query time only.
    """
    h = hashlib.sha1(dictionary.fingerprint.encode())
    for name in _INDEX_TIME_MODULES:
        h.update((_PKG_DIR / name).read_bytes())
    h.update(repr(sorted((k, sorted(v.items())) for k, v in INDEX_TEXT_FIELDS.items())).encode())
    for lib in ("opencc", "pypinyin", "jieba", "rjieba"):
        h.update(f"{lib}={_lib_version(lib)}".encode())
    return h.hexdigest()[:12]


class Analyzer:
    """Tokenises product text for the index and query text for search.

    Construction loads the dictionary and the segmenter (~0.2 s with rjieba, ~1.5 s with
    jieba); use :func:`get_analyzer` for the process-wide instance.

    ``engine`` picks the segmenter (``"rjieba"`` or the reference ``"jieba"``; same tokens,
    see ``tests/unit/analyzers/test_engines.py``). ``native`` runs :meth:`analyze_product` in
    the Rust core when it is built (the default; same tokens, see ``test_native.py``), or
    never (``False``). ``dict_paths`` and ``synonym_paths``
    override the files in ``analyzers/data/`` (tests, tenant-specific vocabularies).
    """

    def __init__(self, *, engine: str = "rjieba", dict_paths: list[Path] | None = None,
                 synonym_paths: list[Path] | None = None, native: bool | None = None) -> None:
        self.dictionary = load_dictionary(dict_paths)
        self._tok = Tokenizer(self.dictionary, engine=engine, native=native)
        files = list(SYNONYM_FILES) if synonym_paths is None else synonym_paths
        self.synonyms = SynonymTable.from_files(files)
        #: What a query's head may be, and what is looked past for it (:func:`analyzers.query.head_word`).
        self.modifiers = frozenset(word_list(MODIFIERS_FILE))
        self.head_words = head_words(self.dictionary, word_list(NOT_HEADS_FILE) | self.modifiers)
        self.version = analysis_version(self.dictionary)
        self.engine = engine
        self._corrector: Corrector | None = None

    # -- text primitives -----------------------------------------------------------------
    def normalize(self, text: str) -> str:
        """NFKC, case folding, traditional->simplified, collapsed spaces."""
        return normalize(text)

    def words(self, text: str) -> list[str]:
        """Search-mode words, model tokens and canonical units of ``text``."""
        return self._tok.words(text)

    def chars(self, text: str) -> list[str]:
        """Single CJK characters and Latin/digit parts of ``text``."""
        return self._tok.chars(text)

    @property
    def brands(self) -> frozenset[str]:
        """Every brand word of the dictionary (normalised)."""
        return self._tok.brands

    # -- contract ------------------------------------------------------------------------
    def document_fields(self, *, title: str, brand: str | None = None, description: str = "",
                        category: list[str] | None = None,
                        attributes: dict | None = None) -> dict[str, str]:
        """Return the pre-tokenised text fields of a product, keyed as in INDEX_TEXT_FIELDS."""
        return self._tok.document_fields(title=title, brand=brand, description=description,
                                         category=category, attributes=attributes)

    def suggest_inputs(self, *, title: str, brand: str | None = None,
                       category: list[str] | None = None) -> list[str]:
        """Completion inputs for a product: title and brand prefixes, pinyin, initials, mixed forms.

        Returns at most ~10 strings of at most 60 characters (the completion field's limit):
        the normalised title, the brand, the main product word (the longest dictionary
        product word, else the longest word), its full pinyin, initials and half-typed forms
        (``连yiqun``), and the title's full pinyin and initials.
        """
        return self._tok.suggest_inputs(title=title, brand=brand)

    def analyze_product(self, *, title: str, brand: str | None = None, description: str = "",
                        category: list[str] | None = None,
                        attributes: dict | None = None) -> tuple[dict[str, str], list[str]]:
        """:meth:`document_fields` and :meth:`suggest_inputs` of one product in one pass over
        its title (what the indexer calls: the same output, about a third less CPU)."""
        return self._tok.analyze_product(title=title, brand=brand, description=description, category=category,
                                         attributes=attributes)

    def analyze_query(self, text: str) -> QueryAnalysis:
        """Analyse a shopper's query; never raises on any text."""
        return analyze_query(self._tok, self.synonyms, text, self.head_words, self.modifiers)

    def warm(self) -> None:
        """Build the query-side tables made lazily (the corrector's pinyin index) now, so that a
        server's first zero-result search does not pay for them."""
        self._get_corrector()

    def _get_corrector(self) -> Corrector:
        if self._corrector is None:
            self._corrector = Corrector(self.dictionary, self._tok.segmenter)
        return self._corrector

    def correct(self, text: str) -> str:
        """Spelling correction for a query that found nothing: homophones and pinyin.

        ``连依裙`` -> ``连衣裙``, ``lianyiqun`` -> ``连衣裙``. Returns the normalised text,
        unchanged when there is nothing to correct. Never raises. The first call builds the
        pinyin index of the dictionary (~0.8 s) unless :meth:`warm` already did.
        """
        return self._get_corrector().correct(text)

    def correction(self, text: str) -> tuple[str, list[str]]:
        """:meth:`correct`, and the dictionary words the correction put in: what a product found
        by the corrected query should hold (``连依裙`` -> ``("连衣裙", ["连衣裙"])``)."""
        return self._get_corrector().correction(text)

    def highlight(self, title: str, qa: QueryAnalysis, *, pre: str = "<em>", post: str = "</em>",
                  terms: list[str] | None = None) -> str:
        """Wrap the parts of the *original* title that match the query in pre/post tags
        (``terms``: :meth:`highlight_terms` of ``qa``, computed once for all the hits).

        A query typed in pinyin (``lianyiqun``, ``lyq``) marks the title's words it matched
        by their pinyin (连衣裙), as the search did.
        """
        # No pinyin syllable starts with i, u or v: iphone, ins and uv400 spell no word.
        spellings = frozenset(t for t in qa.pinyin_terms if t[0] not in "iuv")
        if spellings and isinstance(title, str):
            # The title's words the search matched by their pinyin (full or initials).
            spelled = [w for w, full, init in self._spelled_words(title) if full in spellings or init in spellings]
            if spelled:
                base = terms if terms is not None else _highlight.highlight_terms(qa)
                terms = sorted({*base, *spelled}, key=len, reverse=True)
        return _highlight.highlight(title, qa, pre=pre, post=post, terms=terms)

    def _spelled_words(self, text: str) -> Iterator[tuple[str, str, str]]:
        """Each whole CJK word of ``text`` once, with its full pinyin and initials: what the
        ``title_pinyin``/``title_initials`` fields hold for it. Query-time only (highlighting,
        completions): kept out of the index-time modules, whose code is the analysis version."""
        for w in dict.fromkeys(self._tok.words(text, search_mode=False)):
            full, init = pinyin.full_and_initials(w)
            if full:
                yield w, full, init

    def completion_of(self, matched: str, title: str) -> str | None:
        """The word of ``title`` a completion input stands for, to show as what the shopper is
        typing: ``连衣裙``, ``lianyiqun``, ``lyq`` and ``连衣qun`` all stand for 连衣裙. None for the
        whole title, its pinyin, or an input that is no word of it (a brand: :meth:`brand_completing`)."""
        if not matched or not isinstance(title, str):
            return None
        # The title itself, or its pinyin: longer than any product word's pinyin (4 syllables).
        if len(matched) > _MAX_WORD_PINYIN or matched == normalize(title)[:60]:
            return None
        for w, full, init in self._spelled_words(title):
            if len(w) >= 2 and (matched in (w, full, init) or matched in pinyin.mixed_prefixes(w)[:2]):
                return w
        return None

    def word_completing(self, prefix: str, title: str) -> str | None:
        """The first word of ``title`` (two characters or more) that ``prefix`` starts, as written
        or in full pinyin: a matched title holds the word being typed (``lanco`` -> lancome,
        ``xiaohei`` -> 小黑瓶) when its words are in no completion input of their own."""
        if not prefix or not isinstance(title, str):
            return None
        for w in dict.fromkeys(self._tok.words(title, search_mode=False)):  # normalises
            if len(w) < 2:
                continue
            if w.startswith(prefix) or (prefix.isascii() and not w.isascii()
                                        and pinyin.full(w).startswith(prefix)):
                return w
        return None

    def brand_completing(self, prefix: str, brand: str | None) -> str | None:
        """The part of ``brand`` (split as its completion inputs are) that ``prefix`` starts, as
        written, in pinyin or in initials (``uni``, ``hw``, ``huawei``); None when none does."""
        if not prefix or not isinstance(brand, str):
            return None
        for part in brand.replace("/", " / ").split(" / "):
            norm = normalize(part).replace(" ", "")
            full, init = pinyin.full_and_initials(norm) if norm and not norm.isascii() else ("", "")
            if norm and (norm.startswith(prefix) or (full and (full.startswith(prefix) or init.startswith(prefix)))):
                return part.strip()
        return None

    def highlight_terms(self, qa: QueryAnalysis) -> list[str]:
        """The query terms :meth:`highlight` marks."""
        return _highlight.highlight_terms(qa)

    def explain(self, text: str) -> dict[str, list[str]]:
        """The tokens every index field would hold for ``text`` used as title and brand,
        plus the query-side reading (for ``GET /analyze``)."""
        if not isinstance(text, str):
            text = ""
        doc = self.document_fields(title=text, brand=None, description=text, category=[text],
                                   attributes={"text": text})
        out: dict[str, list[str]] = {name: value.split() for name, value in doc.items()}
        out["brand_words"] = [w for w in out["title_words"] if w in self.brands]
        qa = self.analyze_query(text)
        out["normalized"] = [qa.normalized] if qa.normalized else []
        out["query_words"] = list(qa.words)
        out["query_brands"] = list(qa.brands)
        out["query_synonyms"] = [f"{k}=>{'|'.join(v)}" for k, v in qa.synonyms.items()]
        out["query_pinyin_terms"] = list(qa.pinyin_terms)
        out["query_head"] = [qa.head] if qa.head else []
        return out


def word_list(path: Path) -> set[str]:
    """The normalised words of a one-word-a-line file, read as the dictionary's lines are
    (``#`` comments); a missing file has none."""
    if not path.exists():
        return set()
    words = (normalize(e.word) for e in parse_lines(path.read_text(encoding="utf-8").splitlines()))
    return {w for w in words if w}


def head_words(dictionary: CommerceDictionary, skip: set[str] | frozenset[str]) -> frozenset[str]:
    """The dictionary's product words less ``skip``: the words a query's head may be."""
    return frozenset(w for w, e in dictionary.entries.items() if e.tag == "product" and w not in skip)


@functools.lru_cache(maxsize=1)
def get_analyzer() -> Analyzer:
    """The process-wide analyzer (dictionaries load once).

    ``POCKET_NATIVE_ANALYSIS=0`` turns the native core off (the pure-Python path, same tokens):
    an escape hatch, and the A/B switch of the benchmarks.
    """
    off = os.environ.get("POCKET_NATIVE_ANALYSIS", "").strip().lower() in ("0", "false", "no", "off")
    return Analyzer(native=False if off else None)


# Re-exported for callers that tokenise without the facade (bench, tests).
bigrams_of = fields.bigrams_of
chars_of = fields.chars_of
