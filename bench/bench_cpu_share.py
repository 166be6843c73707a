"""How much a Python producer's CPU costs ES on this box: bulk loads whose generator burns CPU per document.

``python -m bench.bench_cpu_share [--docs 30000] [--burn-ms 0.45] [--rounds 2]``

The indexer and the reindex both feed ``parallel_bulk`` from a Python generator that
analyses each document (about 0.3-0.45 ms of CPU). This benchmark isolates that shape from
Kafka, the merge and the analyzer: the indexer benchmark's real-sized documents are built
and pre-tokenised before any clock starts, then bulk-loaded (2 threads, chunks of 200, the
indexer's settings) into fresh indices, once per mode, in alternating rounds:

* ``floor``: the generator only yields (the raw bulk floor of this run);
* ``burn-gil``: it first spins ``--burn-ms`` of CPU per document holding the GIL;
* ``burn-nogil``: the same CPU in ``hashlib`` calls, which release the GIL;
* ``burn-process``: the same spin in a separate process that feeds the generator.

Each mode prints documents/s (and its ratio to the floor), ES's CPU per document, the cores
ES and the producer keep busy, and the mean number of active threads of ES's ``write``
pool (sampled every 100 ms). On the 2-core box the three burn modes land together, far
below the floor, with ES's write pool about one thread busy: a second thread or process
for the analysis does not give ES its second core back. Every index is deleted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import parallel_bulk
from elasticsearch.serializer import OrjsonSerializer

from analyzers import get_analyzer
from bench.bench_indexer import es_pid, make_events, prepare_ceiling, proc_cpu
from indexer.admin import create_index

MODES = ("floor", "burn-gil", "burn-nogil", "burn-process")
_BLOCK = b"x" * 200_000


def spin(seconds: float) -> None:
    """Burn ``seconds`` of this thread's CPU in the interpreter (holding the GIL)."""
    t = time.thread_time()
    while time.thread_time() - t < seconds:
        pass


def _spin_chunk(args: tuple[list[Any], float]) -> list[Any]:
    chunk, seconds = args
    for _ in chunk:
        spin(seconds)
    return chunk


def hash_reps(seconds: float) -> int:
    """How many SHA-256 passes over 200 kB (GIL released) cost ``seconds`` of CPU here."""
    t = time.thread_time()
    for _ in range(100):
        hashlib.sha256(_BLOCK).digest()
    return max(1, round(seconds / ((time.thread_time() - t) / 100)))


def write_pool_sampler(es_url: str, stop: threading.Event, out: list[int]) -> None:
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"{es_url}/_cat/thread_pool/write?h=active", timeout=5) as r:
                out.append(sum(int(x) for x in r.read().split() or [b"0"]))
        except OSError:
            pass
        stop.wait(0.1)


def run_mode(es: Elasticsearch, es_url: str, mode: str, bodies: list[tuple[str, bytes]], burn_s: float,
             reps: int, pool: Any) -> dict[str, float]:
    index = f"cpushare-{mode}-{uuid.uuid4().hex[:8]}"
    create_index(es, index, get_analyzer(), refresh_interval="-1")

    def docs() -> Iterator[tuple[str, bytes]]:
        if mode == "burn-process":
            chunks = ((bodies[i:i + 100], burn_s) for i in range(0, len(bodies), 100))
            for chunk in pool.imap(_spin_chunk, chunks):
                yield from chunk
            return
        for pid, body in bodies:
            if mode == "burn-gil":
                spin(burn_s)
            elif mode == "burn-nogil":
                for _ in range(reps):
                    hashlib.sha256(_BLOCK).digest()
            yield pid, body

    actions = ({"_op_type": "create", "_index": index, "_id": pid, "_source": body} for pid, body in docs())
    stop, active = threading.Event(), list[int]()
    sampler = threading.Thread(target=write_pool_sampler, args=(es_url, stop, active), daemon=True)
    sampler.start()
    es0, me0, t0 = proc_cpu(es_pid()), time.process_time(), time.perf_counter()
    try:
        failed = sum(1 for ok, _ in parallel_bulk(es, actions, thread_count=2, chunk_size=200,
                                                  raise_on_error=False) if not ok)
        seconds = time.perf_counter() - t0
        es_cpu, my_cpu = proc_cpu(es_pid()) - es0, time.process_time() - me0
    finally:
        stop.set()
        sampler.join()
        es.indices.delete(index=index)
    if failed:
        raise SystemExit(f"{mode}: {failed} documents failed")
    if mode == "burn-process":
        my_cpu += burn_s * len(bodies)  # the child's spin, which process_time does not see
    n = len(bodies)
    return {"dps": n / seconds, "es_ms": es_cpu / n * 1e3, "es_cores": es_cpu / seconds,
            "producer_cores": my_cpu / seconds, "write_active": statistics.mean(active) if active else 0.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=30_000)
    ap.add_argument("--burn-ms", type=float, default=0.45, help="producer CPU per document (analysis is ~0.3-0.45)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--es-url", default=os.environ.get("POCKET_ES_URL", "http://127.0.0.1:9200"))
    args = ap.parse_args(argv)
    es = Elasticsearch(args.es_url, request_timeout=120, serializer=OrjsonSerializer())
    bodies, _ = prepare_ceiling(make_events(args.docs))
    burn_s = args.burn_ms / 1000
    reps = hash_reps(burn_s)
    results: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    with multiprocessing.get_context("fork").Pool(1) as pool:
        run_mode(es, args.es_url, "floor", bodies[: min(len(bodies), 10_000)], burn_s, reps, pool)  # warm ES
        for r in range(args.rounds):
            for mode in MODES:
                res = run_mode(es, args.es_url, mode, bodies, burn_s, reps, pool)
                results[mode].append(res)
                print(f"round {r + 1} {mode:<13} {res['dps']:6.0f} docs/s", flush=True)
    floor = statistics.mean(r["dps"] for r in results["floor"])
    print(f"\n=== producer CPU vs ES, {args.docs} real-sized documents, {args.burn_ms} ms of producer CPU "
          f"per document, {os.cpu_count()} cores ===")
    print(f"{'mode':<14}{'docs/s':>8}{'x floor':>9}{'ES ms/doc':>11}{'ES cores':>10}{'producer':>10}"
          f"{'write pool':>12}")
    for mode, runs in results.items():
        a = {key: statistics.mean(r[key] for r in runs) for key in runs[0]}
        print(f"{mode:<14}{a['dps']:8.0f}{a['dps'] / floor:9.2f}{a['es_ms']:11.3f}{a['es_cores']:10.2f}"
              f"{a['producer_cores']:10.2f}{a['write_active']:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
