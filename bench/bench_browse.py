"""Browse benchmark: storefront pages with no text, split into hits + counts or sent as one search.

``python -m bench.bench_browse [--products 100000] [--passes 3] [--keep-index]``

A browse (the marketplace front page, a category page, a shop's storefront) ranks every
product in scope by the business signals and counts every facet over all of them. The API
sends it as two searches in one ``msearch`` (``POCKET_SPLIT_BROWSE=true``, the default): the
ranked hits, and the counts as a ``size: 0`` search that ES's shard request cache keeps until
a refresh changes the shard. This runs the same pages through two API processes, one per
setting, on the API benchmark's real catalog (``bench_api``'s index, reused if present):

* the whole catalog (the front page), 20 times per pass;
* the 60 largest categories (every level of ``category_levels``);
* the 20 largest shops.

The first pass starts from an empty request cache; the later passes show a page asked for
again before the index changed. 1 client, latency through the API (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from elasticsearch import Elasticsearch

from bench.bench_api import finish, open_catalog, start_api


def top_keys(es: Elasticsearch, alias: str, field: str, n: int) -> list[str]:
    resp = es.search(index=alias, size=0, aggs={"k": {"terms": {"field": field, "size": n}}})
    return [b["key"] for b in resp["aggregations"]["k"]["buckets"]]


async def run_pages(url: str, pages: list[dict[str, Any]], passes: int) -> tuple[list[float], list[float]]:
    first: list[float] = []
    again: list[float] = []
    async with aiohttp.ClientSession() as session:
        for n in range(passes):
            for page in pages:
                t = time.perf_counter()
                async with session.get(url + "/search?" + urlencode(page)) as r:
                    await r.read()
                    assert r.status == 200, (page, r.status)
                (first if n == 0 else again).append((time.perf_counter() - t) * 1000)
    return first, again


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--keep-index", action="store_true", help="keep (and reuse) the bench index")
    args = ap.parse_args()

    es, alias, _ = open_catalog(args.products, args.keep_index)
    kinds: dict[str, list[dict[str, Any]]] = {
        "whole catalog": [{}] * 20,
        "category pages": [{"category": c} for c in top_keys(es, alias, "category_levels", 60)],
        "shop pages": [{"shop_id": s} for s in top_keys(es, alias, "shop_id", 20)],
    }
    results: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    try:
        for split in ("false", "true"):
            os.environ["POCKET_SPLIT_BROWSE"] = split
            proc, url = start_api(alias)
            try:
                asyncio.run(run_pages(url, [{"q": "连衣裙"}, {}] * 5, 1))  # warm the API process
                for kind, pages in kinds.items():
                    es.indices.clear_cache(index=alias, request=True)
                    results[(split, kind)] = asyncio.run(run_pages(url, pages, args.passes))
            finally:
                proc.terminate()
                proc.wait(10)
    finally:
        finish(None, es, alias, args.keep_index)

    print(f"\n{'page':16} {'':>12} {'first p50':>10} {'again p50':>10} {'again p90':>10}")
    for kind in kinds:
        for split, label in (("false", "one search"), ("true", "split")):
            first, again = results[(split, kind)]
            p90 = sorted(again)[int(len(again) * 0.9)] if again else float("nan")
            print(f"{kind:16} {label:>12} {statistics.median(first):10.1f} "
                  f"{statistics.median(again) if again else float('nan'):10.1f} {p90:10.1f}")
    for kind in kinds:
        one = statistics.median(results[("false", kind)][1] or results[("false", kind)][0])
        split_ = statistics.median(results[("true", kind)][1] or results[("true", kind)][0])
        print(f"{kind}: split / one search (repeat p50) = {split_ / one:.2f}")


if __name__ == "__main__":
    main()
