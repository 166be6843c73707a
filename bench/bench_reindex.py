"""Reindex benchmark: load speed against the raw bulk ceiling, and search during the swap.

``python -m bench.bench_reindex [--products 100000] [--clients 4]``

1. **Documents**: the seeded demo catalog (``indexer/demo.py``), merged and analysed
   before any clock starts.
2. **Ceiling**: those documents bulk-loaded straight into a fresh index (``parallel_bulk``,
   2 threads, refresh off), the same way the reindex loads; after a warm-up load, and again
   at the end: the faster of the two counts.
3. **Reindex, analysis unchanged**: ``catalog reindex --from index`` of the same documents
   behind a live alias: scan, copy, catch up, checks, swap. The live index is merged to one
   segment first (outside the clock), before this run and the next alike. The CPU of this
   Python process and of ES per loaded document is printed beside the speed.
4. **Reindex, dictionary changed**: the same, with every document marked as analysed by an
   older analyzer, so each one is analysed again in Python (the cost of a dictionary change).
5. **Zero downtime**: during both reindexes, ``--clients`` threads send ``/search`` to a real
   API process (uvicorn) behind the alias; every failed request is counted, and latency is
   reported overall and in the second around the alias swap.

Every index, topic and process it creates is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from elasticsearch import Elasticsearch
from elasticsearch.helpers import parallel_bulk
from elasticsearch.serializer import OrjsonSerializer

from analyzers import get_analyzer
from bench.bench_indexer import es_pid, proc_cpu
from indexer.admin import create_index, ensure_topics
from indexer.demo import demo_events
from indexer.document import build_source
from indexer.merge import merge_events
from indexer.reindex import ReindexConfig, reindex
from schemas.events import EVENT_ADAPTER

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["手机", "连衣裙", "华为手机", "蓝牙耳机", "面霜", "坚果", "空气炸锅", "跑步鞋", "羽绒服", "lianyiqun"]


def build_docs(n: int) -> list[dict[str, Any]]:
    analyzer = get_analyzer()
    docs = []
    for ev in demo_events(n, seed=99):
        res = merge_events(None, [EVENT_ADAPTER.validate_python(ev)])
        docs.append(build_source(res.source, analyzer, text_changed=True))
    return docs


def bulk(es: Elasticsearch, index: str, docs: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    for ok, item in parallel_bulk(es, ({"_index": index, "_id": d["product_id"], "_source": d} for d in docs),
                                  thread_count=2, chunk_size=500, queue_size=4):
        if not ok:
            raise RuntimeError(item)
    es.indices.refresh(index=index)
    return time.perf_counter() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Load(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.results: list[tuple[float, int, float]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as c:
            i = 0
            while not self.halt.is_set():
                t0 = time.perf_counter()
                try:
                    status = c.get(self.url, params={"q": QUERIES[i % len(QUERIES)], "size": 10}).status_code
                except httpx.HTTPError:
                    status = -1
                self.results.append((t0, status, time.perf_counter() - t0))
                i += 1


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def ceiling_run(es: Elasticsearch, tag: str, docs: list[dict[str, Any]]) -> float:
    """Docs per second of a raw bulk load into a fresh index (refresh off), deleted after."""
    index = f"{tag}-ceiling"
    create_index(es, index, get_analyzer(), refresh_interval="-1")
    try:
        return len(docs) / bulk(es, index, docs)
    finally:
        es.indices.delete(index=index)


def run_reindex(es: Elasticsearch, cfg: ReindexConfig, api_url: str, clients: int) -> dict[str, Any]:
    loads = [Load(api_url) for _ in range(clients)]
    for ld in loads:
        ld.start()
    time.sleep(1)
    swap_at: list[float] = []
    t0 = time.perf_counter()

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "swap":
            swap_at.append(time.perf_counter())

    # Both runs start from a live index merged to one segment, so neither pays for merges
    # left over from the benchmark's own writes (the second run follows a full rewrite).
    live = next(iter(es.indices.get_alias(name=cfg.alias)))
    es.options(request_timeout=600).indices.forcemerge(index=live, max_num_segments=1)
    es.indices.refresh(index=live)
    es_cpu0, py_cpu0 = proc_cpu(es_pid()), time.process_time()
    t0 = time.perf_counter()
    report = reindex(es, cfg, get_analyzer(), progress=progress)
    elapsed = time.perf_counter() - t0
    es_cpu, py_cpu = proc_cpu(es_pid()) - es_cpu0, time.process_time() - py_cpu0
    time.sleep(1)
    for ld in loads:
        ld.halt.set()
    for ld in loads:
        ld.join(10)
    results = [r for ld in loads for r in ld.results]
    failed = [r for r in results if r[1] != 200]
    lat = [r[2] * 1000 for r in results if r[1] == 200]
    swap_t = swap_at[0] if swap_at else t0 + elapsed
    around = [r[2] * 1000 for r in results if abs(r[0] - swap_t) <= 1.0 and r[1] == 200]
    return {"report": report, "elapsed": elapsed, "requests": len(results), "failed": len(failed),
            "p50": pct(lat, 50), "p99": pct(lat, 99), "swap_p99": pct(around, 99), "swap_max": max(around or [0]),
            "py_cpu_ms": 1000 * py_cpu / max(report.loaded, 1), "es_cpu_ms": 1000 * es_cpu / max(report.loaded, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=30_000, help="documents bulk-loaded first to warm ES's JIT")
    ap.add_argument("--es-url", default=os.environ.get("POCKET_ES_URL", "http://127.0.0.1:9200"))
    ap.add_argument("--kafka", default=os.environ.get("POCKET_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    args = ap.parse_args()
    # The same client as the indexer and the catalog CLI (orjson), for the ceiling as for the run.
    es = Elasticsearch(args.es_url, request_timeout=120, serializer=OrjsonSerializer())
    tag = f"bench-rx-{uuid.uuid4().hex[:6]}"
    alias, topic = f"{tag}-products", f"{tag}.changes"
    api = None
    try:
        print(f"building {args.products} documents (merge + analysis, not timed) ...", flush=True)
        docs = build_docs(args.products)
        ensure_topics(args.kafka, {topic: 3})

        # A cold JVM indexes at up to 1.6x the CPU per document: warm ES up, and measure the ceiling
        # before and after the reindexes, keeping the faster, so a cold ceiling never flatters a ratio.
        ceiling_run(es, tag, docs[: min(len(docs), args.warmup)])
        ceilings = [ceiling_run(es, tag, docs)]
        print(f"ceiling: raw parallel_bulk of the same documents: {ceilings[0]:,.0f} docs/s", flush=True)

        base = f"{alias}-00base"
        create_index(es, base, get_analyzer(), refresh_interval="-1")
        bulk(es, base, docs)
        es.indices.put_settings(index=base, settings={"index": {"refresh_interval": "1s"}})
        es.indices.put_alias(index=base, name=alias, is_write_index=True)

        port = free_port()
        env = dict(os.environ, POCKET_ES_URL=args.es_url, POCKET_INDEX=alias, POCKET_PORT=str(port))
        api = subprocess.Popen([sys.executable, "-m", "search_api.main"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/search"
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

        cfg = ReindexConfig(alias=alias, topic=topic, group_id=f"{tag}-group", kafka_bootstrap=args.kafka, retain=5)
        same = run_reindex(es, cfg, url, args.clients)
        # A dictionary change: every live document claims an older analyzer, so each is analysed again.
        live = next(iter(es.indices.get_alias(name=alias)))
        marked = [{**d, "analysis_version": "older"} for d in docs]
        bulk(es, live, marked)
        changed = run_reindex(es, cfg, url, args.clients)
        api.terminate()
        api.wait(10)
        api = None
        ceilings.append(ceiling_run(es, tag, docs))
        ceiling = max(ceilings)
        print(f"ceiling again, after the reindexes: {ceilings[1]:,.0f} docs/s", flush=True)

        print()
        print(f"{'run':28} {'docs/s':>9} {'x ceiling':>9} {'total s':>8} {'requests':>8} {'failed':>6} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'swap p99':>8} {'swap max':>8} {'py ms/doc':>9} {'ES ms/doc':>9}")
        for name, r in (("reindex, analysis unchanged", same), ("reindex, dictionary changed", changed)):
            rep = r["report"]
            print(f"{name:28} {rep.docs_per_second:>9,.0f} {rep.docs_per_second / ceiling:>9.2f} "
                  f"{r['elapsed']:>8.1f} {r['requests']:>8} {r['failed']:>6} {r['p50']:>7.1f} {r['p99']:>7.1f} "
                  f"{r['swap_p99']:>8.1f} {r['swap_max']:>8.1f} {r['py_cpu_ms']:>9.3f} {r['es_cpu_ms']:>9.3f}")
        print(f"\nceiling {ceiling:,.0f} docs/s (the faster of {ceilings[0]:,.0f} and {ceilings[1]:,.0f}); "
              f"{args.products} products; {args.clients} search clients; "
              f"bar: load >= 0.8 x ceiling, 0 failed requests")
        return 0
    finally:
        if api:
            api.terminate()
            api.wait(10)
        es.options(ignore_status=404).indices.delete(index=f"{tag}-*")
        es.options(ignore_status=404).delete(index="pocket-locks", id=f"reindex:{alias}")
        try:
            from kafka import KafkaAdminClient

            KafkaAdminClient(bootstrap_servers=args.kafka).delete_topics([topic])
        except Exception:
            pass


if __name__ == "__main__":
    sys.exit(main())
