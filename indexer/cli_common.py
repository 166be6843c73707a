"""What every ``catalog`` command shares: the one-line failure, and the guard that turns
expected infrastructure errors into one.

An expected failure (ES or Kafka down, ES refusing, a :class:`PocketSearchError` such as a
held reindex lock) prints ``error: <reason>`` on stderr and exits 1, with no stack trace.
"""

from __future__ import annotations

import functools
from typing import Any, NoReturn

import typer
from elasticsearch import ApiError
from elasticsearch import ConnectionError as EsConnectionError
from kafka.errors import KafkaError
from rich.console import Console

from indexer.settings import IndexerSettings
from schemas.errors import PocketSearchError

err_console = Console(stderr=True)


def fail(msg: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {msg}")
    raise typer.Exit(1)


def guard(fn: Any) -> Any:
    """Decorate a command: expected failures become :func:`fail`."""

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except EsConnectionError:
            fail(f"Elasticsearch is not reachable at {IndexerSettings().es_url} (start it: make services)")
        except KafkaError as err:
            fail(f"Kafka error at {IndexerSettings().kafka_bootstrap}: {type(err).__name__} "
                 "(start it: make services)")
        except ApiError as err:
            fail(f"Elasticsearch refused: {err.meta.status} {err.message}")
        except PocketSearchError as err:
            fail(err.detail)
    return wrapper
