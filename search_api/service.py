"""Search logic: the ES request for a storefront search, its execution and its answer.

Routes in :mod:`search_api.main` only parse and return; everything else is here.
User text reaches ES only through ``match``-family and ``term`` clauses built by
:mod:`search_api.text_query` and this module: never ``query_string`` or a script.
"""

from __future__ import annotations

import math
import time
from collections.abc import Container
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch

from analyzers import Analyzer, QueryAnalysis
from analyzers.fields import chars_of
from schemas.errors import BackendUnavailable
from search_api.facets import build_aggs, parse_facets
from search_api.intent import PriceIntent, parse_price_intent
from search_api.params import SearchParams, SortMode, decode_after, encode_after, printable
from search_api.settings import ApiSettings, RankingWeights
from search_api.shops import ShopStatus, not_suspended
from search_api.spelling import Spelling, corrected, fuzzy_suggest_body, suggest_request
from search_api.text_query import GATE_MSM, WEIGHTS, build_text_query, head_held

#: Where a folded search's answer keeps the listing count of each key it shows (``distinct``).
_SAME = "same_listing"
#: The first mapping version whose documents all carry ``listing_key``.
LISTING_KEY_SINCE = 4
#: Indexer bookkeeping and derived fields: not part of a product as a storefront shows it.
_BOOKKEEPING = frozenset({"searchable", "visible", "version", "event_id", "indexed_at", "analysis_version",
                          "category_levels", "attrs"})
#: The aggregation that holds the facets when they count a text search's best matches only.
_SAMPLE = "best_matches"
#: The one filter every storefront path applies: hits, facets, suggestions, corrections.
SEARCHABLE = {"term": {"searchable": True}}
HIT_FIELDS = ["product_id", "title", "price", "shop_id", "shop_name", "brand", "image", "category_path",
              "sales", "rating", "shop_score", "stock", "in_stock", "created_at"]
_SORTS: dict[SortMode, list[Any]] = {
    SortMode.RELEVANCE: [{"_score": "desc"}, {"product_id": "asc"}],
    SortMode.PRICE_ASC: [{"price": "asc"}, {"product_id": "asc"}],
    SortMode.PRICE_DESC: [{"price": "desc"}, {"product_id": "asc"}],
    SortMode.SALES: [{"sales": "desc"}, {"product_id": "asc"}],
    SortMode.NEWEST: [{"created_at": {"order": "desc", "missing": "_last"}}, {"product_id": "asc"}],
    SortMode.RATING: [{"rating": {"order": "desc", "missing": "_last"}}, {"product_id": "asc"}],
}


def _listing_key(hit: dict[str, Any]) -> str | None:
    """The ``listing_key`` a collapsed hit carries (ES returns the collapse field in ``fields``)."""
    return (hit.get("fields", {}).get("listing_key") or [None])[0]


def ranked(query: dict[str, Any], w: RankingWeights) -> dict[str, Any]:
    """Wrap a text query with the business signals (documented in RankingWeights)."""
    inner = {"function_score": {
        "query": query,
        "functions": [
            {"weight": 1},
            {"field_value_factor": {"field": "sales", "modifier": "log1p", "missing": 0}, "weight": w.sales},
            {"field_value_factor": {"field": "rating", "factor": 0.2, "missing": 0}, "weight": w.rating},
            {"field_value_factor": {"field": "shop_score", "factor": 0.2, "missing": 0}, "weight": w.shop_quality},
            {"filter": {"exists": {"field": "created_at"}},
             "exp": {"created_at": {"origin": "now/h", "scale": f"{w.freshness_scale_days}d", "decay": 0.5}},
             "weight": w.freshness},
        ],
        "score_mode": "sum", "boost_mode": "multiply",
    }}
    return {"function_score": {
        "query": inner,
        "functions": [{"filter": {"term": {"in_stock": False}}, "weight": w.out_of_stock}],
        "score_mode": "multiply", "boost_mode": "multiply",
    }}


def business_factors(src: dict[str, Any], w: RankingWeights, now: datetime) -> dict[str, float]:
    """The same factors as :func:`ranked`, computed in Python for ``explain``."""
    sales = w.sales * math.log10(1 + (src.get("sales") or 0))
    rating = w.rating * 0.2 * (src.get("rating") or 0)
    shop = w.shop_quality * 0.2 * (src.get("shop_score") or 0)
    fresh = 0.0
    if src.get("created_at"):
        age_days = max(0.0, (now - datetime.fromisoformat(src["created_at"])).total_seconds() / 86400)
        fresh = w.freshness * 0.5 ** (age_days / w.freshness_scale_days)
    stock = 1.0 if src.get("in_stock", True) else w.out_of_stock
    return {"sales": round(sales, 4), "rating": round(rating, 4), "shop_quality": round(shop, 4),
            "freshness": round(fresh, 4), "stock_multiplier": stock,
            "multiplier": round((1 + sales + rating + shop + fresh) * stock, 4)}


class SearchService:
    """One per process: holds the ES client, the analyzer and the settings."""

    def __init__(self, es: AsyncElasticsearch, analyzer: Analyzer, settings: ApiSettings) -> None:
        self.es = es
        self.analyzer = analyzer
        self.settings = settings
        self.index = settings.index
        self.shops = ShopStatus(es, index=settings.shops_index, ttl_s=settings.shop_status_ttl_s)
        self._listing_keys: tuple[float, bool] | None = None  # (checked at, every index has them)

    # ------------------------------------------------------------------ search

    async def search(self, p: SearchParams) -> dict[str, Any]:
        t0 = time.perf_counter()
        await self.shops.refresh()
        text, intent = parse_price_intent(p.q) if p.q else (p.q, None)
        qa = self.analyzer.analyze_query(text)
        applied: dict[str, Any] = {"query": p.q, "filters": self._echo_filters(p)}
        if intent:
            applied["intent"] = intent.as_dict()
            applied["query_text"] = text
        if qa.brands:
            applied["brands_detected"] = qa.brands
        cheap_max = await self._cheap_ceiling(p, qa) if intent and intent.cheap else None
        if cheap_max is not None:
            applied["intent"]["price_max"] = cheap_max
        if p.distinct:
            applied["distinct"] = await self._has_listing_keys()
            if not applied["distinct"]:
                applied["distinct_unavailable"] = ("the index predates listing keys: run `catalog reindex` "
                                                   "to fold identical listings")
                p = replace(p, distinct=False)

        resp = await self._run(p, qa, intent, cheap_max, relax=False)
        if resp["hits"]["total"]["value"] == 0 and not qa.is_empty and not p.search_after:
            resp, recovery, qa = await self._recover(p, qa, intent, cheap_max, resp)
            if recovery:
                applied["recovery"] = recovery
        # Highlights and explanations describe the query that found the hits: after a
        # correction, 连衣裙's products are marked for 连衣裙, not for the 连衣 of 连衣群.
        out = self._format(resp, p, qa)
        out["applied"] = applied
        out["took_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out

    def storefront_filters(self) -> list[dict[str, Any]]:
        """What every storefront path filters on: on shelf, and not in a suspended shop.

        Uses the shop status of the last :meth:`ShopStatus.refresh` (each request starts with one).
        """
        clause = not_suspended(self.shops.current)
        return [SEARCHABLE, clause] if clause else [SEARCHABLE]

    def _filters(self, p: SearchParams, intent: PriceIntent | None, cheap_max: float | None
                 ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        base: list[dict[str, Any]] = self.storefront_filters()
        if p.shop_id:
            base.append({"term": {"shop_id": p.shop_id}})
        facets: dict[str, list[dict[str, Any]]] = {}
        if p.category:
            facets["category"] = [{"term": {"category_levels": p.category.strip("/").strip()}}]
        if p.brand:
            facets["brand"] = [{"terms": {"brand": p.brand}}]
        lo = p.price_min if p.price_min is not None else (intent.price_min if intent else None)
        hi = p.price_max if p.price_max is not None else (intent.price_max if intent else None)
        if cheap_max is not None and hi is None:
            hi = cheap_max
        if lo is not None or hi is not None:
            rng = {k: v for k, v in (("gte", lo), ("lte", hi)) if v is not None}
            facets["price"] = [{"range": {"price": rng}}]
        for name, values in p.attrs.items():
            facets[f"attr:{name}"] = [{"terms": {"attrs": [f"{name}={v}" for v in values]}}]
        if p.in_stock:
            facets["in_stock"] = [{"term": {"in_stock": True}}]
        return base, facets

    def _body(self, p: SearchParams, qa: QueryAnalysis, intent: PriceIntent | None, cheap_max: float | None,
              *, relax: bool, text_query: dict[str, Any] | None = None) -> dict[str, Any]:
        base, facets = self._filters(p, intent, cheap_max)
        # Browsing (no text) scores every product 1, so the business signals alone rank it;
        # a filter-only bool would score 0 and make every multiplier useless.
        must = [text_query or build_text_query(qa, relax=relax)] if not qa.is_empty else [{"match_all": {}}]
        brand_boost = self.settings.ranking.brand_match
        should = [{"match": {"brand_words": {"query": " ".join(qa.brands), "boost": brand_boost}}}
                  ] if qa.brands else []
        query: dict[str, Any] = {"bool": {"filter": base, "must": must}}
        if should:
            query["bool"]["should"] = should
        post = [c for cs in facets.values() for c in cs]
        source = HIT_FIELDS + (list(self.analyzer_fields()) if p.explain else [])
        aggs = build_aggs(facets, list(p.attrs))
        if self.settings.facet_sample and not qa.is_empty:
            # A broad text search matches thousands of products, most of them through the lenient
            # character gate: counting facets over the best N matches costs ES ~40% less and keeps
            # the options about what the shopper asked for. Browsing (no text) counts exactly.
            aggs = {_SAMPLE: {"sampler": {"shard_size": self.settings.facet_sample}, "aggs": aggs}}
        body: dict[str, Any] = {
            "query": ranked(query, self.settings.ranking),
            "aggs": aggs,
            "size": p.size,
            "sort": _SORTS[p.sort],
            "track_total_hits": True,
            "timeout": f"{self.settings.es_timeout_ms}ms",
            "_source": source,
        }
        if post:
            body["post_filter"] = {"bool": {"filter": post}}
        if p.distinct and p.size:
            # The best listing of each group by the requested sort (+2-7% of ES CPU a search).
            body["collapse"] = {"field": "listing_key"}
        if p.search_after:
            body["search_after"] = decode_after(p.search_after, p)
        else:
            body["from"] = (p.page - 1) * p.size
        return body

    @staticmethod
    def analyzer_fields() -> list[str]:
        from analyzers import INDEX_TEXT_FIELDS

        return list(INDEX_TEXT_FIELDS)

    async def _run(self, p: SearchParams, qa: QueryAnalysis, intent: PriceIntent | None,
                   cheap_max: float | None, *, relax: bool, text_query: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        body = self._body(p, qa, intent, cheap_max, relax=relax, text_query=text_query)
        if qa.is_empty and self.settings.split_browse:
            resp = await self._run_browse(body, p, intent, cheap_max)
        else:
            resp = dict(await self.es.search(index=self.index, body=body))
        if p.distinct:
            resp[_SAME] = await self._count_listings(body, resp)
        return resp

    async def _count_listings(self, body: dict[str, Any], resp: dict[str, Any]) -> dict[str, int]:
        """How many matching listings each folded hit stands for: one ``size: 0`` search.

        The search's own query and filters, unscored, narrowed to the keys of the hits shown,
        with their counts in one terms aggregation. ES's ``inner_hits`` would count them too,
        but it runs the scored query once per hit shown: a folded search then cost ES 2.4-2.9x
        a plain one (600 real queries, 100k products); with this count, 1.2-1.4x.
        """
        keys = [k for k in map(_listing_key, resp["hits"]["hits"]) if k]
        if not keys:
            return {}
        filters = [body["query"], {"terms": {"listing_key": keys}}]
        if "post_filter" in body:
            filters.append(body["post_filter"])
        counts = await self.es.search(index=self.index, size=0, track_total_hits=False,
                                      query={"bool": {"filter": filters}}, timeout=body["timeout"],
                                      aggs={"n": {"terms": {"field": "listing_key", "size": len(keys)}}})
        return {b["key"]: b["doc_count"] for b in counts["aggregations"]["n"]["buckets"]}

    async def _run_browse(self, body: dict[str, Any], p: SearchParams, intent: PriceIntent | None,
                          cheap_max: float | None) -> dict[str, Any]:
        """A browse (no text) as two searches in one ``msearch``: the ranked hits, and the counts.

        Browsing ranks every product on shelf by the business signals, and counts facets over
        all of them: together ~50 ms of ES on 100k products. Apart, ES runs them side by side,
        and the counts, a ``size: 0`` search with no scoring and no ``now``, are what ES's shard
        request cache keeps until the next refresh that changed the shard: the same category
        or storefront page is counted once per refresh, not once per shopper. The answer is the
        same as from the one search (tested). A failed item re-runs the one search, whose error
        then takes the normal path (503 and the rest).
        """
        base, _ = self._filters(p, intent, cheap_max)
        hits_body = {k: v for k, v in body.items() if k != "aggs"}
        counts_body = {"size": 0, "track_total_hits": False, "timeout": body["timeout"],
                       "query": {"bool": {"filter": base}}, "aggs": body["aggs"]}
        hits, counts = (await self.es.msearch(searches=[{"index": self.index}, hits_body,
                                                         {"index": self.index}, counts_body]))["responses"]
        if "error" in hits or "error" in counts:
            return dict(await self.es.search(index=self.index, body=body))
        out = dict(hits)
        out["aggregations"] = counts.get("aggregations", {})
        out["timed_out"] = bool(hits.get("timed_out")) or bool(counts.get("timed_out"))
        failed = max(hits.get("_shards", {}).get("failed", 0), counts.get("_shards", {}).get("failed", 0))
        out["_shards"] = {**hits.get("_shards", {}), "failed": failed}
        return out

    async def _cheap_ceiling(self, p: SearchParams, qa: QueryAnalysis) -> float | None:
        """For 便宜: the 30th percentile price of what the text names (one size-0 query).

        "What the text names" is the products whose title has every query word: the
        recall-oriented text query also matches products that share a character with the
        query (优衣库 for 连衣裙), whose prices say nothing about what cheap means here.
        """
        base, _ = self._filters(p, None, None)
        q: dict[str, Any] = {"bool": {"filter": base}}
        if qa.words:
            q["bool"]["must"] = [{"match": {"title_words": {"query": " ".join(qa.words), "operator": "and"}}}]
        elif not qa.is_empty:
            q["bool"]["must"] = [build_text_query(qa)]
        resp = await self.es.search(index=self.index, size=0, query=q,
                                    aggs={"p": {"percentiles": {"field": "price", "percents": [30]}}})
        value = resp["aggregations"]["p"]["values"].get("30.0")
        return round(value, 2) if value is not None else None

    # ------------------------------------------------------------------ zero results

    async def _recover(self, p: SearchParams, qa: QueryAnalysis, intent: PriceIntent | None,
                       cheap_max: float | None, zero: dict[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, Any] | None, QueryAnalysis]:
        """Zero hits: try, in order, a correction, relaxing AND to OR, dropping the weakest term.

        Returns the response, the recovery to echo (``None``: nothing found) and the analysis
        of the query that was run.

        With a correction to try, one ``msearch`` first asks, cheaply (no aggregations, stop at
        the first hit), whether each rewrite finds anything, and how common each query word is;
        only a rewrite known to find something is run in full. A query nothing is near costs one
        extra round trip, not three full searches with facets. Without one (370 of the 484
        zero-result searches of the API benchmark's real-query mix), the relaxed search, which
        nearly always finds something, runs in full at once: one round trip instead of two.
        """
        original = qa.text
        # step, analysis, relax, text, the text query when not the analysis' own
        candidates: list[tuple[str, QueryAnalysis, bool, str, dict[str, Any] | None]] = []
        fixed, put = self.analyzer.correction(qa.text)  # normalised, like qa.normalized
        spelled = await self._spell(fixed or qa.normalized)
        if spelled:  # with the dictionary's correction too, if any
            sqa = self.analyzer.analyze_query(spelled.text)
            candidates.append(("corrected", sqa, False, spelled.text,
                               _corrected_query(sqa, spelled.corrections + [("title_chars", w) for w in put])))
        if fixed and fixed != qa.normalized:
            fqa = self.analyzer.analyze_query(fixed)
            candidates.append(("corrected", fqa, False, fixed,
                               _corrected_query(fqa, [("title_chars", w) for w in put])))
        candidates.append(("relaxed", qa, True, original, None))
        if len(candidates) == 1:  # nothing to correct: step 2 is the first to try
            resp = await self._run(p, qa, intent, cheap_max, relax=True)
            if _total(resp):
                return resp, _recovery("relaxed", original, original), qa
            candidates = []  # known to find nothing: only the word counts are left to ask
        words = list(dict.fromkeys(qa.words)) if len(set(qa.words)) >= 2 else []
        if not candidates and not words:
            return zero, None, qa
        searches: list[dict[str, Any]] = []
        for _, cqa, relax, _, tq in candidates:
            body = self._body(p, cqa, intent, cheap_max, relax=relax, text_query=tq)
            query = body["query"]
            if "post_filter" in body:
                query = {"bool": {"must": [query], "filter": [body["post_filter"]]}}
            searches += [{"index": self.index},
                         {"size": 0, "query": query, "terminate_after": 1, "track_total_hits": 1}]
        for w in words:
            searches += [{"index": self.index},
                         {"size": 0, "track_total_hits": True,
                          "query": {"bool": {"filter": [*self.storefront_filters(),
                                                        {"term": {"title_words": w}}]}}}]
        found = [_total(r) for r in (await self.es.msearch(searches=searches))["responses"]]
        for (step, cqa, relax, used, tq), n in zip(candidates, found, strict=False):
            if n:
                resp = await self._run(p, cqa, intent, cheap_max, relax=relax, text_query=tq)
                if _total(resp):
                    return resp, _recovery(step, original, used), cqa
        if words:
            dfs = found[len(candidates):]
            # IDF-like: a word matching nothing on shelf weighs least, then the most common one.
            weights = [0.0 if df == 0 else 1.0 / df for df in dfs]
            weakest = words[min(range(len(words)), key=lambda i: weights[i])]
            rest = " ".join(w for w in qa.words if w != weakest)
            rqa = self.analyzer.analyze_query(rest)
            resp = await self._run(p, rqa, intent, cheap_max, relax=True)
            if _total(resp):
                return resp, {**_recovery("dropped_term", original, rest), "dropped": weakest}, rqa
        return zero, None, qa

    async def _spell(self, norm: str) -> Spelling | None:
        """``norm`` with its mistyped Latin words replaced by the index's nearest words, or None
        (:mod:`search_api.spelling`): one small request, only when the query has Latin words."""
        body = suggest_request(norm)
        if body is None:
            return None
        try:
            resp = await self.es.search(index=self.index, body=body)
        except ApiError:  # best effort, like the dictionary's correction; ES unreachable still 503s
            return None
        return corrected(norm, resp)

    # ------------------------------------------------------------------ answer

    def _format(self, resp: dict[str, Any], p: SearchParams, qa: QueryAnalysis) -> dict[str, Any]:
        now = datetime.now(UTC)
        w = self.settings.ranking
        hits = []
        last_sort = None
        terms = self.analyzer.highlight_terms(qa)
        q_tokens = self.analyzer.explain(qa.text) if p.explain else {}  # once, for every hit
        for h in resp["hits"]["hits"]:
            src = h["_source"]
            hit: dict[str, Any] = {
                "id": h["_id"], "title": src.get("title"),
                "highlight": self.analyzer.highlight(src.get("title") or "", qa, pre=p.hl_pre,
                                                     post=p.hl_post, terms=terms),
                "price": src.get("price"), "shop_id": src.get("shop_id"), "shop_name": src.get("shop_name"),
                "brand": src.get("brand"), "image": src.get("image"), "category": src.get("category_path"),
                "sales": src.get("sales"), "rating": src.get("rating"), "in_stock": src.get("in_stock"),
                "score": h.get("_score"),
            }
            if p.distinct:
                hit["listings"] = resp.get(_SAME, {}).get(_listing_key(h), 1)
            if p.explain:
                hit["explain"] = self._explain(src, h.get("_score"), qa, q_tokens, w, now)
            hits.append(hit)
            last_sort = h.get("sort")
        total = resp["hits"]["total"]["value"]
        page_full = len(hits) == p.size
        aggs = resp.get("aggregations")
        exact = True
        if aggs and _SAMPLE in aggs:
            # Fewer than N sampled: every match was counted (on every shard).
            exact = aggs[_SAMPLE]["doc_count"] < self.settings.facet_sample
            aggs = aggs[_SAMPLE]
        return {
            "total": total,
            "partial": bool(resp.get("timed_out")) or bool(resp.get("_shards", {}).get("failed")),
            "hits": hits,
            "facets": parse_facets(aggs, list(p.attrs)) if aggs else {},
            "facets_exact": exact,
            "next": encode_after(last_sort, p) if page_full and last_sort is not None and not p.distinct else None,
        }

    async def _has_listing_keys(self) -> bool:
        """Whether every index behind the alias has ``listing_key`` in all its documents.

        An index made before the field existed (``mapping_version`` < 4) lacks it in the
        documents it already holds, and a collapse would fold all of those into one hit. Checked
        once a minute (one mapping read); ``catalog reindex`` fills the field.
        """
        now = time.monotonic()
        if self._listing_keys is None or now - self._listing_keys[0] > 60:
            resp = await self.es.indices.get_mapping(index=self.index)
            ok = bool(resp) and all((m.get("mappings", {}).get("_meta") or {}).get("mapping_version", 0)
                                    >= LISTING_KEY_SINCE for m in resp.values())
            self._listing_keys = (now, ok)
        return self._listing_keys[1]

    def _explain(self, src: dict[str, Any], score: float | None, qa: QueryAnalysis,
                 q_tokens: dict[str, list[str]], w: RankingWeights, now: datetime) -> dict[str, Any]:
        """One hit's explanation: ``q_tokens`` is the query's :meth:`Analyzer.explain`, made once
        per search."""
        factors = business_factors(src, w, now)
        matched = {}
        for field, toks in q_tokens.items():
            doc_toks = set((src.get(field) or "").split())
            hit = [t for t in toks if t in doc_toks]
            if hit:
                matched[field] = hit
        text_score = (score or 0) / factors["multiplier"] if factors["multiplier"] else None
        out: dict[str, Any] = {"text_score": round(text_score, 4) if text_score is not None else None,
                               "matched": matched, "business": factors}
        if WEIGHTS["head"] and (head := head_held(qa, src)):
            out["head"] = {"word": head, "bonus": WEIGHTS["head"]}  # the product asked for
        return out

    def _echo_filters(self, p: SearchParams) -> dict[str, Any]:
        f: dict[str, Any] = {}
        for k in ("shop_id", "category", "price_min", "price_max", "in_stock"):
            v = getattr(p, k)
            if v is not None and v is not False:
                f[k] = v
        if p.brand:
            f["brand"] = p.brand
        if p.attrs:
            f["attributes"] = p.attrs
        f["sort"] = p.sort.value
        return f

    # ------------------------------------------------------------------ other endpoints

    async def suggest(self, q: str, shop_id: str | None, size: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        body = suggest_body(self.analyzer, q, shop_id, size)
        if body is None:
            return {"query": q, "completions": [], "products": [], "categories": [], "took_ms": 0.0,
                    "fuzzy": False}
        suspended = await self.shops.refresh()
        out = self._suggestions(await self.es.search(index=self.index, body=body), body, suspended, size)
        again = fuzzy_suggest_body(body, self.analyzer)
        # A prefix nothing starts with may be mistyped (addid, lianyq, 运东鞋): ask again, with one
        # edit allowed or by its pinyin. Only then: what starts with the prefix always comes first.
        fuzzy = False
        if not out["products"] and again is not None:
            out = self._suggestions(await self.es.search(index=self.index, body=again), again, suspended, size)
            fuzzy = bool(out["products"])
        return {"query": q, **out, "fuzzy": fuzzy,
                "took_ms": round((time.perf_counter() - t0) * 1000, 1)}

    def _suggestions(self, resp: Any, body: dict[str, Any], suspended: Container[str], size: int
                     ) -> dict[str, Any]:
        products: list[dict[str, Any]] = []
        cats: dict[str, int] = {}
        completions: dict[str, int] = {}
        stands_for: dict[str, str] = {}  # completion input -> the word it stood for last (a hint)
        titles: set[str] = set()
        completion = body["suggest"]["s"]
        for opt in resp["suggest"]["s"][0]["options"]:
            src = opt.get("_source", {})
            # The completion field only holds on-shelf products; this also drops one indexed a
            # moment before it went off shelf, and every product of a suspended shop.
            if not src.get("searchable") or src.get("shop_id") in suspended:
                continue
            # One suggestion per listing title: the same title in five shops is one line to show
            # (and a product whose several inputs matched, one line too).
            title_key = src.get("listing_key") or src.get("title") or opt["_id"]
            if title_key in titles:
                continue
            titles.add(title_key)
            if len(products) < size:
                products.append({"id": opt["_id"], "text": src.get("title"), "matched": opt["text"]})
            if src.get("category_path"):
                cats[src["category_path"]] = cats.get(src["category_path"], 0) + 1
            # A fuzzy option's input does not start with what was typed: it is the input matched.
            word = self._completion(opt["text"] if "fuzzy" in completion["completion"] else completion["prefix"],
                                    src, stands_for)
            if word:
                completions[word] = completions.get(word, 0) + 1
        categories = [{"path": c, "count": n} for c, n in sorted(cats.items(), key=lambda kv: -kv[1])[:5]]
        return {"completions": [{"text": w, "count": n} for w, n in list(completions.items())[:5]],
                "products": products, "categories": categories}

    def _completion(self, prefix: str, src: dict[str, Any], stands_for: dict[str, str]) -> str | None:
        """The product word or brand a suggested product completes ``prefix`` to (``lyq`` -> 连衣裙):
        the word its first input starting with the prefix stands for, else the brand the prefix
        starts (``hw`` matched the title's pinyin; it is typing 华为).

        The word an input stood for on an earlier product is tried first, and kept when this
        product's title holds it too (a substring test instead of cutting the title again).
        """
        title = src.get("title") or ""
        for text in (src.get("suggest") or {}).get("input") or []:
            if not text.startswith(prefix):
                continue
            hint = stands_for.get(text)
            if hint and hint in self.analyzer.normalize(title):
                return hint
            word = self.analyzer.completion_of(text, title)
            if word:
                stands_for[text] = word
                return word
        return self.analyzer.brand_completing(prefix, src.get("brand")) or self.analyzer.word_completing(prefix, title)

    async def product(self, product_id: str) -> dict[str, Any] | None:
        resp = await self.es.options(ignore_status=404).get(index=self.index, id=product_id,
                                                            source_excludes=["meta", "suggest",
                                                                             *self.analyzer_fields()])
        if not resp.get("found") and resp.meta.status == 404 and resp.get("error"):
            raise BackendUnavailable("the product index is not there yet")
        if not resp.get("found") or not resp["_source"].get("searchable"):
            return None
        src = resp["_source"]
        if src.get("shop_id") in await self.shops.refresh():
            return None
        return {"id": resp["_id"], **{k: v for k, v in src.items() if k not in _BOOKKEEPING}}


def suggest_body(analyzer: Analyzer, q: str, shop_id: str | None, size: int) -> dict[str, Any] | None:
    """The completion search of ``/suggest`` for what the shopper typed (None: nothing to complete)."""
    prefix = printable(analyzer.normalize(printable(q))).replace(" ", "")[:50]
    if not prefix:
        return None
    scope = f"shop:{shop_id}" if shop_id else "all"
    # No skip_duplicates: it folds options by the input they matched, and every dress shares
    # 连衣裙 and its pinyin forms, so 连衣 would suggest one dress. Products are folded by
    # title instead (see ``suggest``), from three times as many options as asked for.
    return {"size": 0, "_source": ["title", "brand", "category_path", "searchable", "shop_id", "listing_key",
                                   "suggest.input"],
            "suggest": {"s": {"prefix": prefix, "completion": {
                "field": "suggest", "size": size * 3, "contexts": {"scope": [scope]}}}}}


def _corrected_query(qa: QueryAnalysis, corrections: list[tuple[str, str]]) -> dict[str, Any]:
    """The text query of a corrected search: the corrected query, over products that hold each
    word the correction put in (or a synonym of it: adidas or 阿迪达斯) and, with them, the rest
    of the query as the normal gate asks.

    ``corrections`` are (field, word): a Latin word the index's ``title_words`` or
    ``title_pinyin`` holds (:mod:`search_api.spelling`), or a dictionary word put in for a
    homophone, on ``title_chars``: required as a phrase of its characters.

    Without the rule a correction found what shares a character or two with it: ``代森猛锌杀菌``
    (a fungicide) was corrected to 戴森 (Dyson) and showed fish-tank disinfectant, and
    ``吉利博瑞dsp线`` (a car's cable) chocolate. Of the 134 real queries the dictionary corrected
    on 100k real titles, most were such; and ``intex沙發`` found intel's SSDs through intel's
    synonym 英特尔.
    """
    need: list[dict[str, Any]] = []
    rest = list(qa.chars)
    for field, word in corrections:
        synonyms = qa.synonyms.get(word, [])
        clause: dict[str, Any]
        if field == "title_pinyin":
            clause = {"term": {field: word}}
        elif field == "title_words":
            clause = {"terms": {field: [word, *synonyms]}}
        else:
            clause = {"match_phrase": {field: " ".join(chars_of(word))}}
            if synonyms:
                clause = {"bool": {"should": [clause, {"terms": {"title_words": synonyms}}]}}
        need.append(clause)
        for c in chars_of(word):
            if c in rest:
                rest.remove(c)
    if rest:
        need.append({"match": {"title_chars": {"query": " ".join(rest), "minimum_should_match": GATE_MSM}}})
    return {"bool": {"must": [build_text_query(qa)], "filter": need}}


def _total(resp: Any) -> int:
    """Hits of a search or msearch item (0 for an item that failed)."""
    hits = resp.get("hits") if hasattr(resp, "get") else None
    return int(hits["total"]["value"]) if hits else 0


def _recovery(step: str, original: str, used: str) -> dict[str, Any]:
    messages = {
        "corrected": f"没有找到“{original}”，为您推荐“{used}”的结果",
        "relaxed": f"没有完全匹配“{original}”的商品，为您推荐相关结果",
        "dropped_term": f"没有找到“{original}”，为您推荐“{used}”的结果",
    }
    return {"step": step, "original": original, "query": used, "message": messages[step]}
