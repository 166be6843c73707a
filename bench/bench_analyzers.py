"""Analyzer speed on the real catalog titles: jieba vs rjieba vs our full document_fields.

    python -m bench.bench_analyzers [--repeat 3]

Prints titles per second for plain ``jieba`` (the reference; search mode, HMM off),
plain ``rjieba`` (the same), our ``Analyzer.document_fields`` (normalisation, OpenCC,
dictionary segmentation, bigrams, pinyin, units: every index field) with each engine,
``analyze_query`` on real user queries, plus the dictionary load time and the process RSS
it costs. Single-threaded: one core is what one indexer worker gets. Reads
``../shared/data`` (not shipped); nothing is written.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CATALOGS = ("product1m.jsonl", "ecommerce_ner.jsonl", "openbg.jsonl")


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_titles() -> list[str]:
    titles: list[str] = []
    for name in CATALOGS:
        with (DATA / "catalog" / name).open(encoding="utf-8") as fh:
            titles += [json.loads(line)["title"] for line in fh]
    return titles


def load_queries(limit: int = 20_000) -> list[str]:
    path = DATA / "queries" / "multicpr_ecom_train_queries.tsv"
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            out.append(line.rstrip("\n").split("\t", 1)[-1])
            if len(out) >= limit:
                break
    return out


def rate(fn: Callable[[str], object], items: list[str], repeat: int) -> float:
    """Best items-per-second over ``repeat`` passes (the first pass also warms caches)."""
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        best = max(best, len(items) / (time.perf_counter() - t0))
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Analyzer throughput on the real catalog titles.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    titles = load_titles()
    queries = load_queries()
    print(f"{len(titles)} catalog titles, {len(queries)} real queries, best of {args.repeat} passes, 1 core")

    import logging

    import jieba
    import rjieba

    jieba.setLogLevel(logging.WARNING)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    jt = jieba.Tokenizer()
    jt.initialize()
    print(f"jieba default dict load: {time.perf_counter() - t0:.2f} s, +{_rss_mb() - rss0:.0f} MB RSS")
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    rj = rjieba.Jieba()
    print(f"rjieba default dict load: {time.perf_counter() - t0:.2f} s, +{_rss_mb() - rss0:.0f} MB RSS")

    from analyzers import Analyzer

    rss0 = _rss_mb()
    t0 = time.perf_counter()
    ours = Analyzer(engine="rjieba")
    print(f"Analyzer(rjieba) load (commerce dict {len(ours.dictionary.entries)} words, "
          f"{len(ours.synonyms)} synonym terms): {time.perf_counter() - t0:.2f} s, "
          f"+{_rss_mb() - rss0:.0f} MB RSS")
    print(f"  native core: {'built, in use' if ours._tok.native else 'not built (pure-Python path)'}")
    ours_py = Analyzer(engine="rjieba", native=False)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    ours_jieba = Analyzer(engine="jieba")
    print(f"Analyzer(jieba) load: {time.perf_counter() - t0:.2f} s, +{_rss_mb() - rss0:.0f} MB RSS")

    rows = [
        ("jieba cut_for_search (HMM off)", lambda t: list(jt.cut_for_search(t, HMM=False)), titles),
        ("rjieba cut_for_search (HMM off)", lambda t: rj.cut_for_search(t, False), titles),
        ("ours document_fields(title) native core", lambda t: ours.document_fields(title=t), titles),
        ("ours document_fields(title) Python, rjieba", lambda t: ours_py.document_fields(title=t), titles),
        ("ours document_fields(title) jieba", lambda t: ours_jieba.document_fields(title=t), titles),
        ("ours analyze_query (real queries)", ours.analyze_query, queries),
    ]
    # Whole products as the indexer sees them (bench_indexer's: real titles, description,
    # brand, category, attributes): one pass each from a fresh analyzer, memos cold.
    from bench.bench_indexer import make_events

    products = [e["product"] for e in make_events(50_000)]

    def analyse_all(an: Analyzer) -> float:
        t0 = time.process_time()
        for p in products:
            an.analyze_product(title=p["title"], brand=p["brand"], description=p["description"],
                               category=p["category"], attributes=p["attributes"])
        return (time.process_time() - t0) / len(products) * 1000
    for label, native in (("native core", None), ("Python path", False)):
        ms = analyse_all(Analyzer(native=native))
        print(f"analyze_product, {len(products):,} products, {label:12s} {ms:.3f} ms each (CPU, first pass)")
    for label, fn, items in rows:
        print(f"{label:40s} {rate(fn, items, args.repeat):>10,.0f} /s")
    print(f"process RSS at the end: {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
