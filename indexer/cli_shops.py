"""``catalog shops``: suspend and resume shops (every storefront path hides a suspended shop)."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from elasticsearch import Elasticsearch
from rich.console import Console
from rich.table import Table

from indexer.cli_common import guard
from search_api.settings import ApiSettings
from search_api.shops import list_suspended, set_suspended

shops_app = typer.Typer(help="Suspend and resume shops.", no_args_is_help=True)
console = Console()


def _es() -> tuple[Elasticsearch, ApiSettings]:
    s = ApiSettings()
    return Elasticsearch(s.es_url, request_timeout=30, max_retries=1), s


@shops_app.command("suspend")
@guard
def suspend(shop_id: Annotated[str, typer.Argument(help="the shop to hide")],
            reason: Annotated[str, typer.Option(help="shown to the merchant")] = "店铺已被平台暂停") -> None:
    """Hide every listing of a shop from search, suggestions and product pages, at once.

    Example: catalog shops suspend shop-007 --reason 资质过期
    """
    es, s = _es()
    set_suspended(es, s.shops_index, shop_id, reason)
    console.print(f"suspended {shop_id}: {reason}")


@shops_app.command("resume")
@guard
def resume(shop_id: Annotated[str, typer.Argument(help="the shop to show again")]) -> None:
    """Show a suspended shop's listings again.

    Example: catalog shops resume shop-007
    """
    es, s = _es()
    changed = set_suspended(es, s.shops_index, shop_id, None)
    console.print(f"resumed {shop_id}" if changed else f"{shop_id} was not suspended")


@shops_app.command("list")
@guard
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the suspended shops and why.

    Example: catalog shops list --json
    """
    es, s = _es()
    suspended = list_suspended(es, s.shops_index)
    if as_json:
        sys.stdout.write(orjson.dumps(suspended).decode() + "\n")
        return
    t = Table("shop", "reason", "since")
    for shop, info in sorted(suspended.items()):
        t.add_row(shop, info.get("reason", ""), info.get("since", ""))
    console.print(t)
