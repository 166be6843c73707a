"""``catalog``: the ops CLI. Every command has --help with an example, and exits non-zero
with a one-line reason (no stack trace) on an expected failure."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from elasticsearch import ApiError, Elasticsearch
from elasticsearch import ConnectionError as EsConnectionError
from kafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from indexer.settings import IndexerSettings

app = typer.Typer(name="catalog", help="Operate pocket-search: index, topics, demo data, status.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
err_console = Console(stderr=True)

try:  # the relevance evaluation (analysis work) mounts here when present
    from indexer.cli_eval import eval_app

    app.add_typer(eval_app, name="eval", help="Evaluate search quality.")
except ImportError:  # pragma: no cover
    pass


def _fail(msg: str) -> None:
    err_console.print(f"[red]error:[/red] {msg}")
    raise typer.Exit(1)


def _settings() -> IndexerSettings:
    return IndexerSettings()


def _es(s: IndexerSettings) -> Elasticsearch:
    return Elasticsearch(s.es_url, request_timeout=30, max_retries=1)


def _guard(fn: Any) -> Any:
    """Turn expected infrastructure failures into one-line errors."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except EsConnectionError:
            _fail(f"Elasticsearch is not reachable at {_settings().es_url} (start it: make services)")
        except KafkaError as err:
            _fail(f"Kafka error at {_settings().kafka_bootstrap}: {type(err).__name__} (start it: make services)")
        except ApiError as err:
            _fail(f"Elasticsearch refused: {err.meta.status} {err.message}")
    return wrapper


@app.command()
@_guard
def init() -> None:
    """Create the topics and the index behind the alias, if missing.

    Example: catalog init
    """
    from analyzers import get_analyzer
    from indexer.admin import ensure_alias, ensure_topics

    s = _settings()
    ensure_topics(s.kafka_bootstrap, {s.topic: s.topic_partitions, s.dlq_topic: 1})
    name = ensure_alias(_es(s), s.index, get_analyzer())
    console.print(f"topics [bold]{s.topic}[/bold], [bold]{s.dlq_topic}[/bold]; alias [bold]{s.index}[/bold] -> {name}")


@app.command()
@_guard
def demo(count: Annotated[int, typer.Option(min=1, max=200_000, help="products to generate")] = 5000,
         seed: Annotated[int, typer.Option(help="same seed, same catalog")] = 7) -> None:
    """Produce the seeded demo catalog as upsert events to the change topic.

    Example: catalog demo --count 5000
    """
    from indexer.demo import demo_events
    from indexer.produce import produce_events

    s = _settings()
    n = produce_events(s.kafka_bootstrap, s.topic, demo_events(count, seed=seed))
    console.print(f"produced {n} demo events to {s.topic}")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    _fail(f"{path}:{i}: not JSON")


@app.command()
@_guard
def produce(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL of events")]) -> None:
    """Produce product events from a JSONL file to the change topic.

    Example: catalog produce events.jsonl
    """
    from indexer.produce import produce_events

    s = _settings()
    n = produce_events(s.kafka_bootstrap, s.topic, _read_jsonl(path))
    console.print(f"produced {n} events to {s.topic}")


@app.command()
@_guard
def status(as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Show the alias target, documents, size, consumer lag, DLQ size and versions.

    Example: catalog status --json
    """
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    from analyzers import get_analyzer
    from schemas.mapping import MAPPING_VERSION

    s = _settings()
    es = _es(s)
    if not es.indices.exists_alias(name=s.index):
        _fail(f"alias {s.index!r} does not exist (run: catalog init)")
    target = next(iter(es.indices.get_alias(name=s.index)))
    stats = es.indices.stats(index=target, metric=["docs", "store"])["indices"][target]["primaries"]
    meta = es.indices.get_mapping(index=target)[target]["mappings"].get("_meta", {})
    searchable = es.count(index=target, query={"term": {"searchable": True}})["count"]
    consumer = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=s.group_id, enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(s.topic) or set()
        tps = [TopicPartition(s.topic, p) for p in sorted(parts)]
        ends = consumer.end_offsets(tps) if tps else {}
        lag = {}
        for tp in tps:
            committed = consumer.committed(tp)
            lag[str(tp.partition)] = ends[tp] - (committed or 0)
        dlq_parts = consumer.partitions_for_topic(s.dlq_topic) or set()
        dtps = [TopicPartition(s.dlq_topic, p) for p in dlq_parts]
        dlq_size = sum(consumer.end_offsets(dtps).values()) - sum(consumer.beginning_offsets(dtps).values()) \
            if dtps else 0
    finally:
        consumer.close()
    code_analysis = get_analyzer().version
    reasons = []
    if meta.get("analysis_version") != code_analysis:
        reasons.append("dictionary or analysis changed")
    if meta.get("mapping_version") != MAPPING_VERSION:
        reasons.append("mapping changed")
    out = {
        "alias": s.index, "index": target, "documents": stats["docs"]["count"], "searchable": searchable,
        "size_bytes": stats["store"]["size_in_bytes"], "consumer_group": s.group_id,
        "lag": lag, "total_lag": sum(lag.values()), "dlq_size": dlq_size,
        "analysis_version": {"index": meta.get("analysis_version"), "code": code_analysis},
        "mapping_version": {"index": meta.get("mapping_version"), "code": MAPPING_VERSION},
        "reindex_needed": reasons,
    }
    if as_json:
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return
    t = Table(show_header=False)
    for k in ("alias", "index", "documents", "searchable", "size_bytes", "consumer_group", "total_lag", "dlq_size"):
        t.add_row(k, str(out[k]))
    t.add_row("lag by partition", ", ".join(f"{p}: {n}" for p, n in lag.items()) or "-")
    t.add_row("reindex needed", ("yes: " + "; ".join(reasons)) if reasons else "no")
    console.print(t)


if __name__ == "__main__":
    app()
