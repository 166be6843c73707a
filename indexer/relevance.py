"""Offline relevance evaluation: our analysis and ranking against stock Elasticsearch.

:func:`evaluate` loads catalog files (the JSON-lines format of ``../shared/data/catalog``),
turns every row into a product, indexes the products twice into throwaway indices and runs
every judged query against both:

* **ours**: the index built from :func:`schemas.mapping.index_body` with the analyzer's
  pre-tokenised fields (through ``indexer.document.build_source``, the indexer's own code),
  queried through the real ``/search`` code path (``search_api.main.create_app`` with a
  FastAPI ``TestClient``) when it exists, else through
  :func:`search_api.text_query.build_text_query` with the storefront filter;
* **baseline**: the same products with ES's ``standard`` analyzer on the raw title and
  brand, queried with a plain ``match``.

It returns nDCG@10, P@10 and MRR@10 (binary relevance) for both. The throwaway indices
are deleted at the end, also on errors.

``variants`` re-runs every judged query as shoppers also write it (:data:`QUERY_VARIANTS`:
traditional characters, a full-width IME, no spaces) against both indices, so the report
shows what normalisation is worth rather than asserting it.

Which product fields are real and which are filled: ``product_id``, ``title``, ``brand``
(openbg ``品牌`` or the first NER ``brands`` annotation), ``category`` (openbg) and
``attributes`` (openbg) are real. ``shop_id``, ``price``, ``stock`` and a ``category`` for rows
without one are filled from a generator seeded by the product id, so every run is
identical. Business signals (``sales``, ``rating``, ``created_at``) are set equal for all
products, so that the metric measures text relevance rather than random popularity.
"""

from __future__ import annotations

import functools
import json
import math
import random
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from analyzers import Analyzer, get_analyzer, pinyin
from analyzers.normalize import is_cjk
from schemas.mapping import index_body

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_CATALOGS = tuple(DEFAULT_DATA_DIR / "catalog" / name
                         for name in ("product1m.jsonl", "ecommerce_ner.jsonl", "openbg.jsonl"))
DEFAULT_JUDGMENTS = DEFAULT_DATA_DIR / "relevance" / "product1m_label_queries.jsonl"
K = 10
_FILL_CATEGORIES = (["美妆", "护肤"], ["美妆", "彩妆"], ["服饰", "女装"], ["数码", "手机"], ["食品", "零食"],
                    ["家居", "日用"], ["母婴", "用品"], ["运动", "户外"])
_FIXED_TIME = "2024-01-01T00:00:00Z"


# -- query variants ------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def _traditional(q: str) -> str:
    """Simplified to traditional (OpenCC ``s2t``): a Hong Kong or Taiwan shopper's query."""
    return str(_s2t().convert(q))


def _fullwidth(q: str) -> str:
    """ASCII as full-width forms (``AHC B5`` -> ``ＡＨＣ　Ｂ５``): an IME left in full-width mode."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in q)


def _nospace(q: str) -> str:
    """Brand and product typed as one run, as most real queries are."""
    return q.replace(" ", "")


@functools.lru_cache(maxsize=1)
def _homophones() -> dict[str, list[str]]:
    """Toneless pinyin -> the common characters read so: GB2312's first level (its 3,755 most
    used hanzi, first bytes 0xB0-0xD7), which is what an IME offers first."""
    by_sound: dict[str, list[str]] = {}
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            by_sound.setdefault(pinyin.full(ch), []).append(ch)
    return by_sound


def homophone_typo(q: str) -> str:
    """One Chinese character typed as another of the same sound (``连衣裙`` -> ``连亿裙``), the
    commonest typo of pinyin input. Which character, and which homophone, follow from the
    query's own checksum, so every run makes the same typos. A query with no character that
    has a common homophone stays as it is."""
    sounds = _homophones()
    spots = [(i, [c for c in sounds.get(pinyin.full(ch), []) if c != ch]) for i, ch in enumerate(q) if is_cjk(ch)]
    spots = [(i, alts) for i, alts in spots if alts]
    if not spots:
        return q
    seed = zlib.crc32(q.encode())
    i, alts = spots[seed % len(spots)]
    return q[:i] + alts[(seed // len(spots)) % len(alts)] + q[i + 1:]


def _unsold(q: str) -> str:
    """The query with a brand and a model no product has (``鼋鼍 zq9000``): what a shop that does
    not carry them gets typed at it. Short queries then find nothing as typed, and the answer
    is whatever zero-result recovery makes of the rest."""
    return f"{q} 鼋鼍 zq9000"


#: Ways the same query reaches a storefront; ``catalog eval relevance --variant NAME``.
QUERY_VARIANTS: dict[str, Callable[[str], str]] = {
    "traditional": _traditional, "fullwidth": _fullwidth, "nospace": _nospace, "unsold": _unsold,
    "homophone": homophone_typo,
}


# -- catalog -------------------------------------------------------------------------------
def load_catalog(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Read catalog rows from JSON-lines files; later files do not override earlier ids.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a bad line.
    """
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for path in paths:
        with Path(path).open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{n}: not JSON: {err}") from err
                pid = str(row.get("id") or "")
                if pid and pid not in seen and row.get("title"):
                    seen.add(pid)
                    rows.append(row)
    return rows


def product_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A product state from a catalog row, missing fields filled deterministically by id."""
    pid = str(row["id"])
    rng = random.Random(pid)
    attributes = row.get("attributes") or {}
    brand = None
    if attributes.get("品牌"):
        value = attributes["品牌"]
        brand = str(value[0]) if isinstance(value, list) else str(value)
    elif row.get("brands"):
        brand = str(row["brands"][0])
    category = row.get("category") or list(rng.choice(_FILL_CATEGORIES))
    shop = rng.randrange(1, 21)
    return {
        "product_id": pid,
        "shop_id": f"shop-{shop:02d}",
        "shop_name": f"测试店铺{shop:02d}",
        "title": row["title"],
        "description": "",
        "brand": brand,
        "category": category,
        "attributes": attributes,
        "price": round(rng.uniform(9, 999), 2),
        "stock": rng.randrange(1, 500),
        "sales": 0,
        "rating": 4.5,
        "status": "on_shelf",
        "created_at": _FIXED_TIME,
        "updated_at": _FIXED_TIME,
        "version": 1,
        "visible": True,
        "searchable": True,
        "in_stock": True,
    }


def load_judgments(path: Path) -> list[tuple[str, set[str]]]:
    """``[(query, {relevant ids})]`` from a JSON-lines file with ``query`` and ``relevant``."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out.append((str(row["query"]), {str(r) for r in row.get("relevant", [])}))
    return out


# -- metrics -------------------------------------------------------------------------------
def ndcg_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    """Binary-relevance nDCG@k (0.0 when nothing is relevant)."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def precision_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    return sum(1 for d in ranked[:k] if d in relevant) / k


def mrr_at_k(ranked: list[str], relevant: set[str], k: int = K) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1.0 / (i + 1)
    return 0.0


def score_run(runs: list[tuple[list[str], set[str]]]) -> dict[str, float]:
    """Mean nDCG@10, P@10 and MRR@10 over ``[(ranked ids, relevant ids)]``."""
    n = max(len(runs), 1)
    return {
        "ndcg@10": round(sum(ndcg_at_k(r, rel) for r, rel in runs) / n, 4),
        "p@10": round(sum(precision_at_k(r, rel) for r, rel in runs) / n, 4),
        "mrr@10": round(sum(mrr_at_k(r, rel) for r, rel in runs) / n, 4),
    }


# -- indexing ------------------------------------------------------------------------------
def _our_actions(index: str, products: list[dict[str, Any]], analyzer: Analyzer) -> Iterator[dict]:
    from indexer.document import build_source

    for p in products:
        doc = build_source(dict(p), analyzer, text_changed=True)
        yield {"_index": index, "_id": p["product_id"], "_source": doc}


def _baseline_actions(index: str, products: list[dict[str, Any]]) -> Iterator[dict]:
    for p in products:
        yield {"_index": index, "_id": p["product_id"],
               "_source": {"text": f"{p['title']} {p.get('brand') or ''}".strip(), "searchable": True}}


_BASELINE_BODY = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
    "mappings": {"dynamic": "strict", "properties": {
        "text": {"type": "text", "analyzer": "standard"}, "searchable": {"type": "boolean"}}},
}


def _load(es: Any, index: str, actions: Iterator[dict]) -> None:
    from elasticsearch import helpers

    helpers.bulk(es.options(request_timeout=120), actions, chunk_size=1000)
    es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "1s"}})
    es.indices.refresh(index=index)


# -- querying ------------------------------------------------------------------------------
def _direct_searcher(es: Any, index: str, analyzer: Analyzer):
    from search_api.text_query import build_text_query

    def search(q: str) -> list[str]:
        qa = analyzer.analyze_query(q)
        if qa.is_empty:
            return []
        ids = _ids(es.search(index=index, size=K, source=False, query={
            "bool": {"must": [build_text_query(qa)], "filter": [{"term": {"searchable": True}}]}}))
        if not ids:
            ids = _ids(es.search(index=index, size=K, source=False, query={
                "bool": {"must": [build_text_query(qa, relax=True)],
                         "filter": [{"term": {"searchable": True}}]}}))
        return ids

    return search


def _api_searcher(es_url: str, index: str):
    """Search through the real FastAPI app, or ``None`` when it does not exist yet."""
    try:
        from search_api import main as api_main
    except ImportError:
        return None
    if not hasattr(api_main, "create_app"):
        return None
    from fastapi.testclient import TestClient

    from search_api.settings import ApiSettings

    client = TestClient(api_main.create_app(ApiSettings(es_url=es_url, index=index)))
    client.__enter__()  # run the lifespan (ES client, analyzer warm-up)

    def search(q: str) -> list[str]:
        resp = client.get("/search", params={"q": q, "size": K})
        resp.raise_for_status()
        return [str(h["id"]) for h in resp.json()["hits"]]

    search.close = lambda: client.__exit__(None, None, None)  # type: ignore[attr-defined]
    return search


def _ids(resp: Any) -> list[str]:
    return [h["_id"] for h in resp["hits"]["hits"]]


def evaluate(es: Any, *, judgments_path: Path | str = DEFAULT_JUDGMENTS,
             catalog_paths: Iterable[Path | str] | None = None, index_prefix: str = "eval-",
             analyzer: Analyzer | None = None, use_api: bool | None = None,
             es_url: str | None = None, variants: Iterable[str] = ()) -> dict[str, Any]:
    """Index the catalog twice, run the judged queries, return metrics for ours and the baseline.

    ``es`` is an ``elasticsearch.Elasticsearch`` client. ``catalog_paths`` defaults to the
    three shared catalogs. ``use_api``: ``None`` uses the ``/search`` app when
    ``search_api.main.create_app`` exists, ``True`` requires it, ``False`` queries ES
    directly with :func:`~search_api.text_query.build_text_query`. ``es_url`` (for the app)
    defaults to the client's first node. ``variants``: names in :data:`QUERY_VARIANTS` to
    run the judged queries again in (``ValueError`` for an unknown name).

    Returns ``{"ndcg@10", "p@10", "mrr@10", "queries", "baseline": {...}, "path", "seconds",
    "variants": {name: {"ours": {...}, "baseline": {...}}}}``.
    Blocks for about a minute on the shared data (analysis and bulk indexing of ~19k
    products); raises the client's errors if ES is unavailable. Deletes its indices.
    """
    started = time.monotonic()
    unknown = [v for v in variants if v not in QUERY_VARIANTS]
    if unknown:
        raise ValueError(f"unknown query variant(s) {unknown}; known: {sorted(QUERY_VARIANTS)}")
    analyzer = analyzer if analyzer is not None else get_analyzer()
    catalogs = [Path(p) for p in (catalog_paths or DEFAULT_CATALOGS)]
    products = [product_from_row(r) for r in load_catalog(catalogs)]
    judgments = load_judgments(Path(judgments_path))
    suffix = uuid.uuid4().hex[:8]
    ours, base = f"{index_prefix}ours-{suffix}", f"{index_prefix}baseline-{suffix}"
    searcher = None
    try:
        body = index_body(analysis_version=analyzer.version, refresh_interval="-1")
        es.indices.create(index=ours, **body)
        es.indices.create(index=base, **_BASELINE_BODY)
        _load(es, ours, _our_actions(ours, products, analyzer))
        _load(es, base, _baseline_actions(base, products))

        path = "direct"
        if use_api is not False:
            url = es_url if es_url is not None else _client_url(es)
            searcher = _api_searcher(url, ours)
            if searcher is None and use_api:
                raise RuntimeError("search_api.main.create_app is not available")
            if searcher is not None:
                path = "api"
        search = searcher if searcher is not None else _direct_searcher(es, ours, analyzer)

        def both(form: Callable[[str], str]) -> tuple[dict[str, float], dict[str, float]]:
            our_runs, base_runs = [], []
            for query, relevant in judgments:
                text = form(query)
                our_runs.append((search(text), relevant))
                base_runs.append((_ids(es.search(index=base, size=K, source=False,
                                                 query={"match": {"text": text}})), relevant))
            return score_run(our_runs), score_run(base_runs)

        ours_scores, base_scores = both(str)
        result: dict[str, Any] = dict(ours_scores)
        result["queries"] = len(judgments)
        result["baseline"] = base_scores
        result["variants"] = {}
        for name in dict.fromkeys(variants):
            v_ours, v_base = both(QUERY_VARIANTS[name])
            result["variants"][name] = {"ours": v_ours, "baseline": v_base}
        result["path"] = path
        result["products"] = len(products)
        result["seconds"] = round(time.monotonic() - started, 1)
        return result
    finally:
        if searcher is not None and hasattr(searcher, "close"):
            searcher.close()
        es.options(ignore_status=404).indices.delete(index=[ours, base], ignore_unavailable=True)


def _client_url(es: Any) -> str:
    try:
        node = next(iter(es.transport.node_pool.all()))
        return str(node.base_url)
    except Exception:  # pragma: no cover - unusual client construction
        return "http://127.0.0.1:9200"
