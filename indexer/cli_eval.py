"""``catalog eval relevance``: nDCG@10, P@10 and MRR@10 of our search against stock ES.

Mounted by ``indexer/cli.py`` as ``catalog eval``. Users run it after editing the user
dictionary or the synonyms to see whether their change helps on their own judged queries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from indexer.relevance import DEFAULT_CATALOGS, QUERY_VARIANTS

eval_app = typer.Typer(help="Measure search quality.", no_args_is_help=True)


@eval_app.command("relevance")
def relevance(
    judgments: Annotated[Path, typer.Option(
        "--judgments", exists=True, dir_okay=False,
        help="JSON lines with `query` and `relevant` (list of product ids).")],
    catalog: Annotated[list[Path] | None, typer.Option(
        "--catalog", exists=True, dir_okay=False,
        help="Catalog JSON-lines file; repeat for several. Default: the three shared catalogs.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the metrics as JSON.")] = False,
    es_url: Annotated[str, typer.Option(
        "--es-url", envvar="POCKET_ES_URL",
        help="Elasticsearch to create the throwaway indices in.")] = "http://127.0.0.1:9200",
    direct: Annotated[bool, typer.Option(
        "--direct", help="Query ES directly instead of through /search.")] = False,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", help=f"Also run every query as shoppers write it; repeatable: "
                          f"{', '.join(QUERY_VARIANTS)}.")] = None,
) -> None:
    """Index the catalog into throwaway indices and score ours and the standard-analyzer baseline.

    Example: catalog eval relevance --judgments ../shared/data/relevance/product1m_label_queries.jsonl --json

    Example: catalog eval relevance --judgments my_judged.jsonl --catalog my_catalog.jsonl --variant traditional
    """
    from elasticsearch import Elasticsearch

    from indexer.relevance import evaluate

    unknown = [v for v in variant or () if v not in QUERY_VARIANTS]
    if unknown:
        raise typer.BadParameter(f"unknown {unknown}; choose from {', '.join(QUERY_VARIANTS)}",
                                 param_hint="--variant")
    es = Elasticsearch(es_url, request_timeout=120)
    result = evaluate(es, judgments_path=judgments, catalog_paths=catalog or list(DEFAULT_CATALOGS),
                      use_api=False if direct else None, es_url=es_url, variants=variant or ())
    keys = ("ndcg@10", "p@10", "mrr@10")
    if as_json:
        out = {k: result[k] for k in keys}
        out["baseline"] = {k: result["baseline"][k] for k in keys}
        if result["variants"]:
            out["variants"] = result["variants"]
        typer.echo(json.dumps(out))
        return
    table = Table(title=f"Relevance on {result['queries']} queries, {result['products']} products "
                        f"(via {result['path']}, {result['seconds']} s)")
    table.add_column("metric")
    table.add_column("ours", justify="right")
    table.add_column("baseline (ES standard + match)", justify="right")
    table.add_column("delta", justify="right")
    for k in keys:
        delta = result[k] - result["baseline"][k]
        table.add_row(k, f"{result[k]:.4f}", f"{result['baseline'][k]:.4f}",
                      f"[{'green' if delta >= 0 else 'red'}]{delta:+.4f}[/]")
    for name, scores in result["variants"].items():
        delta = scores["ours"]["ndcg@10"] - scores["baseline"]["ndcg@10"]
        table.add_row(f"ndcg@10, {name} queries", f"{scores['ours']['ndcg@10']:.4f}",
                      f"{scores['baseline']['ndcg@10']:.4f}",
                      f"[{'green' if delta >= 0 else 'red'}]{delta:+.4f}[/]")
    Console().print(table)


@eval_app.command("known-items")
def known_items(
    catalog: Annotated[list[Path] | None, typer.Option(
        "--catalog", exists=True, dir_okay=False,
        help="Catalog JSON-lines file; repeat for several. Default: the three shared catalogs.")] = None,
    count: Annotated[int, typer.Option("--count", min=1, help="How many queries to make.")] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Another seed gives another sample.")] = 1,
    out: Annotated[Path | None, typer.Option(
        "--out", dir_okay=False, help="Write the judged queries here (default: standard output).")] = None,
) -> None:
    """Make judged queries from the catalog itself, for a shop with none: a few words of one
    title as a shopper types them, and that title's listings as the right answers.

    Example: catalog eval known-items --catalog my_catalog.jsonl --out known.jsonl
    then: catalog eval relevance --judgments known.jsonl --catalog my_catalog.jsonl
    """
    from indexer.known_items import known_item_queries
    from indexer.relevance import load_catalog

    try:
        rows = load_catalog(catalog or list(DEFAULT_CATALOGS))
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--catalog") from err
    queries = known_item_queries(rows, count=count, seed=seed)
    text = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
    typer.echo(f"{len(queries)} known-item queries from {len(rows)} products (seed {seed})", err=True)
