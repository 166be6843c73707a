"""Searching while the catalog changes: the real-query mix against ES, quiet and under a live
stream of price and sales updates.

``python -m bench.bench_live [--products 100000] [--rate 100] [--rounds 2] [--eager-ordinals] [--keep-index]``

The other API benchmarks search an index that nothing writes to: one segment, nothing to merge,
nothing to rebuild. A storefront's index is written to all day (the beauty stream in
``../shared/data`` changes the price or sales of every product every day), and with a refresh a
second the searches run over fresh small segments. For the facets (terms aggregations on
``brand``, ``category_levels``, ``attrs``) ES then needs *global ordinals*, a map of each
segment's terms onto one sorted list, which a refresh invalidates. Lazily (ES's default) the
first search after each refresh builds it for the whole index while its shopper waits; with
``eager_global_ordinals`` the refresh builds it before the new segment is searched.

The mix's recorded ES requests (as ``bench.bench_api`` records them) are replayed straight to ES
at 1 and 20 clients, in alternating rounds of the modes:

* ``quiet``: nothing is written;
* ``live``: a writer re-indexes ``--rate`` products a second (whole documents, as the indexer
  writes them, with a new price and sales count), one bulk a second, ES refreshing every second;
* ``live-eager`` (with ``--eager-ordinals``): the same, with ``eager_global_ordinals`` on the
  facet fields. It measured no difference (the builds took 10-90 ms of a 12-40 s run), so the
  mapping leaves them lazy.

Each mode prints p50/p99/p99.9 of the searches, QPS, ES's CPU per search (the writer's share
included: it is what the box pays), the documents written a second, and the global ordinals
ES built during the run and their build time. The bench index is its own
(``bench-live-real-N``): the writes would change the other benchmarks' catalog.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import threading
import time
from typing import Any

import aiohttp
from elasticsearch import Elasticsearch

from analyzers import get_analyzer
from bench.bench_api import (
    ES_URL,
    Captured,
    capture,
    catalog_events,
    direct_search,
    ensure_catalog,
    query_mix,
    run_load,
    shops_of,
    source_of,
    warm_es,
)
from bench.bench_indexer import alternating, es_pid, pct, proc_cpu

#: The keyword fields the search's facets aggregate with ``terms`` (see search_api/service.py).
FACET_FIELDS = ("brand", "category_levels", "attrs")


def set_eager(es: Elasticsearch, index: str, eager: bool) -> None:
    props = {f: {"type": "keyword", "eager_global_ordinals": eager} for f in FACET_FIELDS}
    es.indices.put_mapping(index=index, properties=props)


def ordinals_ms(es: Elasticsearch, index: str) -> float:
    """The time (ms) ES has spent building the index's global ordinals, from its fielddata stats."""
    st = es.indices.stats(index=index, metric="fielddata", fields="*")["_all"]["total"]["fielddata"]
    return float(st.get("global_ordinals", {}).get("build_time_in_millis", 0))


class Writer(threading.Thread):
    """Re-index ``rate`` products a second, one bulk a second, until stopped."""

    def __init__(self, index: str, sources: list[dict[str, Any]], rate: int, seed: int) -> None:
        super().__init__(daemon=True)
        self.index, self.sources, self.rate = index, sources, rate
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.written = 0

    def run(self) -> None:
        es = Elasticsearch(ES_URL, request_timeout=60)
        tick = time.perf_counter()
        while not self.stop.is_set():
            ops: list[dict[str, Any]] = []
            for src in self.rng.sample(self.sources, self.rate):
                doc = dict(src, price=round(src["price"] * self.rng.uniform(0.9, 1.1), 2),
                           sales=src["sales"] + self.rng.randint(0, 50))
                ops += [{"index": {"_index": self.index, "_id": doc["product_id"]}}, doc]
            resp = es.bulk(operations=ops)
            assert not resp["errors"], "bulk errors"
            self.written += self.rate
            tick += 1.0
            self.stop.wait(max(0.0, tick - time.perf_counter()))
        es.close()


async def search_load(captured: Captured, clients: int, total: int) -> dict[str, float]:
    """``bench.bench_api``'s closed loop of direct searches, with the p99.9 too."""
    conn = aiohttp.TCPConnector(limit=100)
    record: list[tuple[int, float]] = []
    async with aiohttp.ClientSession(connector=conn, skip_auto_headers=("accept-encoding",)) as session:
        r = await run_load(direct_search(session, captured), len(captured), clients, total, record)
    r["p999"] = pct([ms for _, ms in record], 99.9)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--rate", type=int, default=100, help="products re-indexed a second while live")
    ap.add_argument("--requests", type=int, default=3000, help="searches per run at 20 clients")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--eager-ordinals", action="store_true",
                    help="also run live with eager_global_ordinals on the facet fields")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:SETTING=VALUE,...",
                    help="also run live with these index settings (reset afterwards), e.g. "
                         "tier2:index.merge.policy.segments_per_tier=2")
    ap.add_argument("--keep-index", action="store_true", help="keep (and reuse) the bench index")
    args = ap.parse_args()
    variants: dict[str, dict[str, str]] = {}
    for v in args.variant:
        name, _, kvs = v.partition(":")
        variants[f"live-{name}"] = dict(kv.split("=", 1) for kv in kvs.split(",") if kv)

    es = Elasticsearch(ES_URL, request_timeout=600)
    alias = f"bench-live-real-{args.products}"
    events = catalog_events("real", args.products)
    ensure_catalog(es, alias, events, args.keep_index)
    index = next(iter(es.indices.get_alias(name=alias)))
    analyzer = get_analyzer()
    rng = random.Random(11)
    sources = [source_of(ev, analyzer) for ev in rng.sample(events, min(5000, len(events)))]
    captured = asyncio.run(capture(alias, query_mix(args.queries, shops_of(events))))
    print(f"{len(captured)} searches of the real-query mix; writer: {args.rate} products a second "
          f"(whole documents) into {index}, refresh every second")

    modes = ("quiet", "live", *(["live-eager"] if args.eager_ordinals else []), *variants)
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    try:
        passes = warm_es(captured)  # ES's JIT settles over thousands of searches
        print("ES warm-up, CPU ms a search of each pass: " + ", ".join(f"{ms:.2f}" for ms in passes))
        for rnd, mode in alternating(list(modes), args.rounds):
            if args.eager_ordinals:
                set_eager(es, index, mode == "live-eager")
            if mode in variants:
                es.indices.put_settings(index=index, settings=variants[mode])
            writer = None
            if mode != "quiet":
                writer = Writer(index, sources, args.rate, seed=rnd)
                writer.start()
                time.sleep(3)  # a few refreshes in before the clock starts
            for clients in (1, 20):
                n = args.requests if clients > 1 else args.requests // 3
                ms0 = ordinals_ms(es, index)
                w0, cpu0, t0 = writer.written if writer else 0, proc_cpu(es_pid()), time.perf_counter()
                r = asyncio.run(search_load(captured, clients, n))
                wall = time.perf_counter() - t0
                r["es_cpu_ms"] = (proc_cpu(es_pid()) - cpu0) * 1000 / n
                r["writes_s"] = ((writer.written if writer else 0) - w0) / wall
                r["ord_ms"] = ordinals_ms(es, index) - ms0
                results.setdefault((mode, clients), []).append(r)
                print(f"round {rnd} {mode:<10} {clients:>2} clients: p50 {r['p50']:6.2f} p99 {r['p99']:7.2f} "
                      f"p99.9 {r['p999']:7.2f} ms, {r['qps']:5.0f} QPS, ES CPU {r['es_cpu_ms']:5.2f} ms a search, "
                      f"{r['writes_s']:4.0f} writes/s, global ordinals build {r['ord_ms']:6.0f} ms", flush=True)
            if writer:
                writer.stop.set()
                writer.join()
            print(f"round {rnd} {mode:<10} segments at the end: {len(es.cat.segments(index=index, format='json'))}")
            if mode in variants:
                es.indices.put_settings(index=index, settings=dict.fromkeys(variants[mode]))
    finally:
        if args.eager_ordinals:
            set_eager(es, index, False)
        if not args.keep_index:
            es.options(ignore_status=404).indices.delete(index=f"{alias}-*")
        es.close()

    print(f"\n{'mode':<11} {'clients':>7} {'p50 ms':>13} {'p99 ms':>15} {'QPS':>9} {'ES CPU ms':>11}"
          f" {'writes/s':>9}  (lowest-highest of {args.rounds} rounds)")

    def span(rs: list[dict[str, float]], k: str, fmt: str) -> str:
        lo, hi = min(r[k] for r in rs), max(r[k] for r in rs)
        return f"{lo:{fmt}}-{hi:{fmt}}"

    for clients in (1, 20):
        for mode in modes:
            rs = results[(mode, clients)]
            print(f"{mode:<11} {clients:>7} {span(rs, 'p50', '.1f'):>13} {span(rs, 'p99', '.1f'):>15} "
                  f"{span(rs, 'qps', '.0f'):>9} {span(rs, 'es_cpu_ms', '.2f'):>11} {span(rs, 'writes_s', '.0f'):>9}")


if __name__ == "__main__":
    main()
