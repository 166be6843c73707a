"""``catalog keys ...`` and ``catalog visibility``: merchant API keys, and the ops twin of
``GET /merchant/listings/{id}/visibility`` (same code, same answer, no authentication).

Settings come from ``ApiSettings`` (``POCKET_*``, the same names the indexer uses for the
index, topics and group), so the CLI sees what the API sees.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import orjson
import typer
from elasticsearch import AsyncElasticsearch
from rich.console import Console
from rich.table import Table

from schemas.errors import PocketSearchError
from search_api.settings import ApiSettings

keys_app = typer.Typer(help="Merchant API keys: create, list, revoke.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def _run(work: Callable[[AsyncElasticsearch, ApiSettings], Awaitable[T]]) -> T:
    """Run ``work`` with a fresh async ES client; expected failures become a one-line error."""
    from elasticsearch import ApiError
    from elasticsearch import ConnectionError as EsConnectionError

    settings = ApiSettings()

    async def main() -> T:
        es = AsyncElasticsearch(settings.es_url, request_timeout=30, max_retries=1)
        try:
            return await work(es, settings)
        finally:
            await es.close()

    try:
        return asyncio.run(main())
    except EsConnectionError:
        err_console.print(f"[red]error:[/red] Elasticsearch is not reachable at {settings.es_url}")
    except ApiError as err:
        err_console.print(f"[red]error:[/red] Elasticsearch refused: {err.meta.status} {err.message}")
    except PocketSearchError as err:
        err_console.print(f"[red]error:[/red] {err.detail}")
    raise typer.Exit(1)


def _store(es: AsyncElasticsearch, s: ApiSettings) -> Any:
    from search_api.keys import KeyStore

    return KeyStore(es, index=s.merchant.keys_index, iterations=s.merchant.key_iterations)


@keys_app.command("create")
def create_key(shop: Annotated[str, typer.Option("--shop", help="the shop the key acts for")],
               as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Issue an API key for a shop; the key is printed once and never stored.

    Example: catalog keys create --shop shop-digital
    """
    from pydantic import TypeAdapter, ValidationError

    from schemas.events import Id  # the shop id rule of the events

    try:
        TypeAdapter(Id).validate_python(shop)
    except ValidationError:
        err_console.print("[red]error:[/red] --shop must be 1-64 of A-Z a-z 0-9 _ . : -")
        raise typer.Exit(1) from None
    issued = _run(lambda es, s: _store(es, s).create(shop))
    if as_json:
        sys.stdout.write(orjson.dumps({"key_id": issued.key_id, "shop_id": issued.shop_id,
                                       "key": issued.key}).decode() + "\n")
        return
    console.print(f"key id [bold]{issued.key_id}[/bold] for shop [bold]{issued.shop_id}[/bold]")
    console.print("API key (shown once; store it now):")
    sys.stdout.write(issued.key + "\n")


@keys_app.command("list")
def list_keys(shop: Annotated[str | None, typer.Option("--shop", help="only this shop's keys")] = None,
              as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """List key ids, shops, creation and last use, and revocation (never the keys).

    Example: catalog keys list --shop shop-digital
    """
    rows = _run(lambda es, s: _store(es, s).list_keys(shop))
    if as_json:
        sys.stdout.write(orjson.dumps(rows).decode() + "\n")
        return
    t = Table("key id", "shop", "created", "last used", "revoked")
    for r in rows:
        t.add_row(r["key_id"], r["shop_id"], r["created_at"], r.get("last_used_at") or "-",
                  r.get("revoked_at") or ("yes" if r.get("revoked") else "no"))
    console.print(t)


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="the key id (not the key)")]) -> None:
    """Revoke a key now; requests with it get 401 from the next one on.

    Example: catalog keys revoke 3f9a0c1d2e4b
    """
    if not _run(lambda es, s: _store(es, s).revoke(key_id)):
        err_console.print(f"[red]error:[/red] no key {key_id!r}")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")


def visibility_cmd(
    product_id: Annotated[str, typer.Argument(help="the product id")],
    query: Annotated[str, typer.Option("--query", "-q", help="explain the rank for this query")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="the API's JSON answer")] = False,
) -> None:
    """Explain why a product shows in search or not (any shop; ops only).

    Example: catalog visibility p01 --query 华为手机 --json
    """
    from analyzers import get_analyzer
    from search_api.service import SearchService
    from search_api.visibility import VisibilityService

    async def work(es: AsyncElasticsearch, s: ApiSettings) -> dict[str, Any]:
        return await VisibilityService(SearchService(es, get_analyzer(), s), s).visibility(
            product_id, shop_id=None, q=query)

    ans = _run(work)
    if as_json:
        sys.stdout.write(orjson.dumps(ans).decode() + "\n")
        return
    console.print(f"[bold]{ans['summary']}[/bold]")
    idx = ans["indexed"]
    console.print(f"indexed version {idx['version']} at {idx['indexed_at']}; newest in stream "
                  f"{idx['newest_version_in_stream']}; pending {len(idx['pending'])}; "
                  f"dead letters {len(idx['dead_letters'])}")
    for r in ans["eligible"]["reasons"]:
        console.print(f"  {r['code']} ({r['effect']}): {r['message']}")
    for tip in ans["suggestions"]:
        console.print(f"  - {tip}")
