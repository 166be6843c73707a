"""``catalog``: the ops CLI. Every command has --help with an example, and exits non-zero
with a one-line reason (no stack trace) on an expected failure."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer
from rich.console import Console
from rich.table import Table

from indexer.cli_common import err_console, fail, guard
from indexer.malloc import freeze_startup_heap, limit_malloc_arenas
from indexer.settings import DEFAULT_CANARIES, DEFAULT_CANARY_OVERLAP, IndexerSettings

if TYPE_CHECKING:
    from analyzers import Analyzer

app = typer.Typer(name="catalog", help="Operate pocket-search: index, topics, demo data, status.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()


@app.callback()
def _process() -> None:
    # Loads and reindexes analyse products in parallel_bulk's threads, like the indexer.
    limit_malloc_arenas()


def _bulk_analyzer() -> Analyzer:
    """The analyzer for a command about to analyse a whole catalog, with the heap it loaded
    frozen out of the garbage collector's full walks (as the indexer does; indexer/malloc.py)."""
    from analyzers import get_analyzer

    analyzer = get_analyzer()
    freeze_startup_heap()
    return analyzer


try:  # the relevance evaluation (analysis work) mounts here when present
    from indexer.cli_eval import eval_app

    app.add_typer(eval_app, name="eval", help="Evaluate search quality.")
except ImportError:  # pragma: no cover
    pass

from indexer.cli_merchant import keys_app, visibility_cmd  # noqa: E402  (merchant keys, issue 7)

app.add_typer(keys_app, name="keys")
app.command("visibility")(visibility_cmd)

from indexer.cli_shops import shops_app  # noqa: E402  (shop suspension)

app.add_typer(shops_app, name="shops")


def _settings() -> IndexerSettings:
    return IndexerSettings()


def _es(s: IndexerSettings) -> Elasticsearch:
    return Elasticsearch(s.es_url, request_timeout=30, max_retries=1, serializer=OrjsonSerializer())


@app.command()
@guard
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
@guard
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
                    fail(f"{path}:{i}: not JSON")


@app.command()
@guard
def produce(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL of events")]) -> None:
    """Produce product events from a JSONL file to the change topic.

    Example: catalog produce events.jsonl
    """
    from indexer.produce import produce_events

    s = _settings()
    n = produce_events(s.kafka_bootstrap, s.topic, _read_jsonl(path))
    console.print(f"produced {n} events to {s.topic}")


@app.command()
@guard
def status(as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Show the alias target, documents, size, segments, bulk catch-up, consumer lag, DLQ size and versions.

    Example: catalog status --json
    """
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    from analyzers import get_analyzer
    from indexer.refresh import catch_up_modes
    from schemas.mapping import MAPPING_VERSION

    s = _settings()
    es = _es(s)
    if not es.indices.exists_alias(name=s.index):
        fail(f"alias {s.index!r} does not exist (run: catalog init)")
    target = next(iter(es.indices.get_alias(name=s.index)))
    stats = es.indices.stats(index=target, metric=["docs", "store", "segments"])["indices"][target]["primaries"]
    flat = es.indices.get_settings(index=target, flat_settings=True)[target]["settings"]
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
        "size_bytes": stats["store"]["size_in_bytes"], "segments": stats["segments"]["count"],
        "catch_up": [m.label for m in catch_up_modes(es, s) if m.shown_by(flat)], "consumer_group": s.group_id,
        "lag": lag, "total_lag": sum(lag.values()), "dlq_size": dlq_size,
        "analysis_version": {"index": meta.get("analysis_version"), "code": code_analysis},
        "mapping_version": {"index": meta.get("mapping_version"), "code": MAPPING_VERSION},
        "reindex_needed": reasons,
    }
    if as_json:
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
        return
    t = Table(show_header=False)
    for k in ("alias", "index", "documents", "searchable", "size_bytes", "segments", "consumer_group", "total_lag",
              "dlq_size"):
        t.add_row(k, str(out[k]))
    t.add_row("bulk catch-up", ", ".join(out["catch_up"]) or "no")
    t.add_row("lag by partition", ", ".join(f"{p}: {n}" for p, n in lag.items()) or "-")
    t.add_row("reindex needed", ("yes: " + "; ".join(reasons)) if reasons else "no")
    console.print(t)


def _progress_bar() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description:10}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err_console, transient=True)


@contextmanager
def _phase_bars() -> Iterator[Callable[[str, int, int | None], None]]:
    """A ``progress(phase, done, total)`` callback drawing one bar per phase, on stderr."""
    with _progress_bar() as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield progress


@app.command()
@guard
def impact(
    apply: Annotated[bool, typer.Option("--apply", help="write the affected documents back re-analysed")] = False,
    samples: Annotated[int, typer.Option(min=0, max=1000, help="affected documents to show")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Which indexed documents the current dictionary and analysis tokenise differently.

    Run it after editing the user dictionary (and restarting the indexers): it analyses every
    document again, compares the tokens field by field, and with --apply rewrites only the
    affected ones (conditional writes), instead of a full reindex.

    Example: catalog impact

    Example: catalog impact --apply --json
    """
    from indexer.impact import analysis_impact

    s = _settings()
    es = _es(s)
    if not es.indices.exists_alias(name=s.index):
        fail(f"alias {s.index!r} does not exist (run: catalog init)")
    with _phase_bars() as progress:
        report = analysis_impact(es, s.index, _bulk_analyzer(), apply=apply, samples=samples,
                                 progress=None if as_json else progress)
    if as_json:
        sys.stdout.write(orjson.dumps(report.as_dict()).decode() + "\n")
        return
    versions = "same" if report.index_version == report.code_version else \
        f"index {report.index_version}, code {report.code_version}"
    console.print(f"{report.index}: {report.analysed} of {report.documents} documents analysed again "
                  f"(analysis version: {versions}); [bold]{report.affected}[/bold] would change")
    if report.fields:
        console.print("fields: " + ", ".join(f"{f} {n}" for f, n in report.fields.most_common()))
    for sample in report.samples:
        console.print(f"  {sample['id']}  {sample['title'][:60]}")
        for name, d in sample["fields"].items():
            change = (f"-{' '.join(d['removed'][:8]) or '∅'}  +{' '.join(d['added'][:8]) or '∅'}"
                      if d["removed"] or d["added"] else "the same tokens in another order")
            console.print(f"      {name}: {change}")
    if apply:
        console.print(f"rewrote {report.rewritten}; {report.conflicts} changed meanwhile (left to the indexer)"
                      + ("; the index now records this analysis version" if report.version_updated
                         else "; run it again to record the analysis version"))
    elif report.affected:
        console.print("catalog impact --apply rewrites them; catalog reindex rebuilds the whole index")


@app.command()
@guard
def reindex(
    source: Annotated[str, typer.Option("--from", help="index | file | topic")] = "index",
    path: Annotated[Path | None, typer.Option("--path", help="JSONL snapshot for --from file")] = None,
    retain: Annotated[int, typer.Option(min=0, help="old indices kept for rollback")] = 2,
    resume: Annotated[bool, typer.Option("--resume", help="finish a half-done reindex")] = False,
    abort_: Annotated[bool, typer.Option("--abort", help="drop a half-done reindex")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable summary")] = False,
    canary: Annotated[list[str] | None, typer.Option(
        "--canary", help="a query whose top 10 must mostly stay; repeatable (default: "
                         + " ".join(DEFAULT_CANARIES) + ")")] = None,
    canary_overlap: Annotated[float, typer.Option(
        "--canary-overlap", min=0.0, max=1.0,
        help="least share of each canary's old top 10 the new index keeps; lower it when the "
             "change is meant to re-rank (a new dictionary, BM25 settings)")] = DEFAULT_CANARY_OVERLAP,
) -> None:
    """Rebuild the index with zero downtime and no lost writes, then swap the alias.

    Example: catalog reindex --from index --retain 2 --yes

    Example: catalog reindex --yes --canary 手机 --canary 口红 --canary-overlap 0.3
    """
    from indexer.reindex import ReindexConfig, abort
    from indexer.reindex import reindex as run_reindex

    s = _settings()
    es = _es(s)
    if abort_:
        dropped = abort(es, s.index)
        console.print(f"aborted; dropped {dropped}")
        return
    if not yes and not resume and sys.stdin.isatty():
        typer.confirm(f"Reindex alias {s.index!r} from {source}?", abort=True)
    cfg = ReindexConfig(alias=s.index, topic=s.topic, group_id=s.group_id, kafka_bootstrap=s.kafka_bootstrap,
                        source=source, path=str(path) if path else None, retain=retain,
                        canaries=tuple(canary or DEFAULT_CANARIES), canary_min_overlap=canary_overlap)
    with _phase_bars() as progress:
        report = run_reindex(es, cfg, _bulk_analyzer(), resume=resume, progress=None if as_json else progress)
    if as_json:
        sys.stdout.write(orjson.dumps(report.as_dict()).decode() + "\n")
        return
    console.print(f"alias [bold]{s.index}[/bold] -> {report.new_index}: {report.documents} documents "
                  f"({report.loaded} loaded at {report.docs_per_second}/s, {report.caught_up}+"
                  f"{report.final_caught_up} caught up) in {report.seconds}s; checks: {report.checks}")
    if report.deleted_indices:
        console.print(f"deleted old indices: {', '.join(report.deleted_indices)}")


@app.command()
@guard
def rollback(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Point the alias back at the previous index (one call) and replay what it missed.

    Example: catalog rollback
    """
    from analyzers import get_analyzer
    from indexer.reindex import rollback as run_rollback

    s = _settings()
    out = run_rollback(_es(s), s.index, get_analyzer(), kafka_bootstrap=s.kafka_bootstrap, topic=s.topic)
    if as_json:
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
    else:
        console.print(f"alias {out['alias']} -> {out['now']} (was {', '.join(out['was'])}); "
                      f"replayed {out['replayed_events']} events")


@app.command("export")
@guard
def export_cmd(path: Annotated[Path, typer.Argument(dir_okay=False, help="JSONL file to write")]) -> None:
    """Write the live index as a JSONL snapshot of product events (backup, moving clusters).

    Example: catalog export backup.jsonl
    """
    from indexer.reindex import export_events

    s = _settings()
    with path.open("wb") as f:
        n = export_events(_es(s), s.index, f)
    console.print(f"wrote {n} events to {path}")


@app.command("import")
@guard
def import_cmd(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL of events")]) -> None:
    """Load a JSONL snapshot of product events straight into the live index (merge rules apply).

    Example: catalog import backup.jsonl
    """
    from indexer.reindex import _events_from_file, count_events, load_events
    from indexer.sink import EsSink

    s = _settings()
    with _progress_bar() as bar:
        task = bar.add_task("import", total=count_events(str(path)))
        n = load_events(_events_from_file(str(path)), EsSink(_es(s), index=s.index, analyzer=_bulk_analyzer()),
                        lambda _phase, done, _total: bar.update(task, completed=done))
    console.print(f"imported {n} events into {s.index}")


dlq_app = typer.Typer(help="Inspect and replay dead letters.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


def _dead_letters(s: IndexerSettings) -> list[Any]:
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition

    c = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, enable_auto_commit=False, group_id=None,
                      consumer_timeout_ms=1500)
    try:
        tps = [TopicPartition(s.dlq_topic, p) for p in sorted(c.partitions_for_topic(s.dlq_topic) or ())]
        if not tps:
            return []
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        out = []
        while any(c.position(tp) < ends[tp] for tp in tps):
            for recs in c.poll(timeout_ms=1000).values():
                out.extend(recs)
        return out
    finally:
        c.close()


def _letter_row(rec: Any, copies: int = 1) -> dict[str, Any]:
    from indexer.dlq import parse_headers

    h = parse_headers(rec.headers)
    return {"id": f"{rec.partition}:{rec.offset}", "key": rec.key.decode(errors="replace") if rec.key else None,
            **h, "bytes": len(rec.value or b""), "copies": copies}


def _unique_letters(records: list[Any]) -> list[tuple[Any, int]]:
    """One letter per source record, with how many copies the DLQ holds.

    The DLQ is written at least once: a send retried after a lost acknowledgement, or a
    batch replayed after a crash, dead-letters the same source record (topic, partition,
    offset) twice. Listing or replaying it twice would only confuse; the first copy stands
    for all. A replayed letter that fails again comes from a new offset: a letter of its own.
    """
    from indexer.dlq import parse_headers

    seen: dict[tuple[Any, ...], list[Any]] = {}
    for rec in records:
        h = parse_headers(rec.headers)
        origin = (h.get("topic"), h.get("partition"), h.get("offset"))
        key = origin if None not in origin else ("dlq", rec.partition, rec.offset)
        if key in seen:
            seen[key][1] += 1
        else:
            seen[key] = [rec, 1]
    return [(rec, n) for rec, n in seen.values()]


def _matches(row: dict[str, Any], reason: str | None, since: str | None = None) -> bool:
    return (reason is None or row.get("reason") == reason) and (since is None or row.get("failed_at", "") >= since)


@dlq_app.command("list")
@guard
def dlq_list(reason: Annotated[str | None, typer.Option(help="only this reason")] = None,
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List dead letters with their reasons (one row per source record, with its copies).

    Example: catalog dlq list --reason schema_violation
    """
    rows = [_letter_row(r, n) for r, n in _unique_letters(_dead_letters(_settings()))]
    rows = [r for r in rows if _matches(r, reason)]
    if as_json:
        sys.stdout.write(orjson.dumps(rows).decode() + "\n")
        return
    t = Table("id", "key", "reason", "failed_at", "detail")
    for r in rows:
        t.add_row(r["id"], str(r["key"]), r.get("reason", ""), r.get("failed_at", ""), r.get("detail", "")[:80])
    console.print(t)


@dlq_app.command("show")
@guard
def dlq_show(letter_id: Annotated[str, typer.Argument(help="PARTITION:OFFSET from dlq list")]) -> None:
    """Show one dead letter: headers and the original bytes.

    Example: catalog dlq show 0:12
    """
    for r in _dead_letters(_settings()):
        if f"{r.partition}:{r.offset}" == letter_id:
            row = _letter_row(r)
            row["value"] = (r.value or b"").decode(errors="replace")
            sys.stdout.write(orjson.dumps(row, option=orjson.OPT_INDENT_2).decode() + "\n")
            return
    fail(f"no dead letter {letter_id}")


@dlq_app.command("replay")
@guard
def dlq_replay(reason: Annotated[str | None, typer.Option(help="only this reason")] = None,
               since: Annotated[str | None, typer.Option(help="only letters failed at or after this ISO time")]
               = None) -> None:
    """Send dead letters back through the normal path (the change topic), e.g. after a fix.

    Each source record is sent once, however many copies of its letter the DLQ holds.

    Example: catalog dlq replay --reason es_rejected --since 2026-11-25T00:00:00
    """
    from indexer.produce import make_producer

    s = _settings()
    letters = [r for r, _ in _unique_letters(_dead_letters(s))
               if _matches(_letter_row(r), reason, since)]
    prod = make_producer(s.kafka_bootstrap)
    try:
        futures = [prod.send(s.topic, value=r.value, key=r.key) for r in letters]
        prod.flush(timeout=60)
        for f in futures:
            f.get(timeout=30)
    finally:
        prod.close(timeout=10)
    console.print(f"replayed {len(letters)} dead letters to {s.topic}")


if __name__ == "__main__":
    app()
