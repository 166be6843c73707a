"""Indexer A/B: two or more checkouts or settings consume the very same topic, in alternating order.

``python -m bench.bench_indexer_ab VARIANT [VARIANT ...] [--events 60000] [--rounds 2]``

A variant is ``name=PATH`` (a checkout of this repository: its ``indexer.main`` is run) with
optional settings, ``name=PATH=POCKET_X:1;POCKET_Y:2``. For example, this checkout with and
without the bulk catch-up mode::

    python -m bench.bench_indexer_ab off=. on=.=POCKET_BULK_REFRESH_LAG:50000

The events (real titles, as in ``bench.bench_indexer``) are produced once to a fresh
3-partition topic, and ES is warmed up with a bulk load (``--warmup`` documents). Then,
round after round, each variant consumes the whole topic from the start (its own consumer
group) into a fresh index, and the time from its first consumed event to every product
searchable is taken, with ES's and the indexer's CPU per event.
Two separate ``bench_indexer`` runs differ by ±0.06 in their ratio on a shared box; here
every variant meets the same events and the same ES, and the order alternates between
rounds, so a drift of the box shows as a trend rather than as a difference.

Every index and topic it creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import uuid
from pathlib import Path

from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient

from bench.bench_indexer import (
    alternating,
    make_events,
    prepare_ceiling,
    produce_all,
    run_ceiling,
    run_pipeline,
    stop_indexer,
)
from indexer.admin import ensure_topics


def parse_variant(text: str) -> tuple[str, Path, dict[str, str]]:
    name, _, rest = text.partition("=")
    path, _, settings = rest.partition("=")
    env = dict(kv.split(":", 1) for kv in settings.split(";") if kv)
    if not name or not path or not all(k.startswith("POCKET_") for k in env):
        raise SystemExit(f"bad variant {text!r}: name=PATH[=POCKET_X:value;...]")
    return name, Path(path).resolve(), env


def run_one(es: Elasticsearch, args: argparse.Namespace, topic: str, alias: str, path: Path,
            extra: dict[str, str], n: int) -> tuple[float, float, float]:
    """One variant consumes ``topic`` into a fresh index: events/s, ES and indexer CPU ms per event."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        r = run_pipeline(es, args, alias=alias, topic=topic, dlq=f"{topic}-dlq", env=extra, n=n, procs=procs,
                         root=path)
    finally:
        for proc in procs:
            stop_indexer(proc)
        es.options(ignore_status=404).indices.delete(index=f"{alias}-v1")
    return r["eps"], r["es_cpu"] * 1000 / n, r["idx_cpu"] * 1000 / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help="name=PATH[=POCKET_X:value;...]")
    ap.add_argument("--events", type=int, default=60_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=30_000, help="documents bulk-loaded first to warm ES's JIT")
    ap.add_argument("--es-url", default=os.environ.get("POCKET_ES_URL", "http://127.0.0.1:9200"))
    ap.add_argument("--bootstrap", default=os.environ.get("POCKET_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    args = ap.parse_args()
    variants = [parse_variant(v) for v in args.variants]

    es = Elasticsearch(args.es_url, request_timeout=60)
    tag = uuid.uuid4().hex[:8]
    topic = f"bench-ab-{tag}"
    ensure_topics(args.bootstrap, {topic: 3, f"{topic}-dlq": 1})
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap)
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _, _ in variants}
    try:
        events = make_events(args.events, seed=3)
        print(f"produced {len(events)} events in {produce_all(args.bootstrap, topic, events):.1f} s", flush=True)
        if args.warmup:  # a cold ES runs the first variant at half speed
            bodies, _ = prepare_ceiling(events[: args.warmup])
            warm = run_ceiling(es, bodies, f"bench-ab-{tag}-warmup")
            print(f"warm-up: {warm['eps']:.0f} docs/s on {len(bodies)} documents", flush=True)
        for rnd, (name, path, extra) in alternating(variants, args.rounds):
            r = run_one(es, args, topic, f"bench-ab-{tag}-{name}-{rnd}".lower(), path, extra, len(events))
            results[name].append(r)
            print(f"round {rnd}  {name:<12} {r[0]:7.0f} events/s   ES {r[1]:.3f} ms/event   "
                  f"indexer {r[2]:.3f} ms/event", flush=True)
    finally:
        admin.delete_topics([topic, f"{topic}-dlq"])
        admin.close()
    print("\nevents/s by round (the order alternates):")
    for name, rs in results.items():
        print(f"  {name:<12} {', '.join(f'{r[0]:,.0f}' for r in rs)}   ES ms/event "
              f"{', '.join(f'{r[1]:.3f}' for r in rs)}")


if __name__ == "__main__":
    main()
