"""Fixtures of the API tests: the fixture catalog indexed once per module, and a client.

The shared ``es``/``es_url`` fixtures are per test; the catalog here is built once per
module (indexing is the slow part), so this module has module-scoped twins of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from api_catalog import HIDDEN, ON_SHELF, create_catalog, drop_catalog
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search_api.main import create_app
from search_api.settings import ApiSettings


@pytest.fixture(scope="module")
def api_es_url(require_service: Callable[[str], str]) -> str:
    return require_service("es")  # a skip outside CI, a failure under CI=true


@pytest.fixture(scope="module")
def api_es(api_es_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(api_es_url, request_timeout=60, max_retries=3, retry_on_timeout=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def catalog(api_es: Elasticsearch) -> Iterator[str]:
    """The alias of the fixture catalog (on-shelf, off-shelf, banned and deleted products)."""
    alias = f"t{uuid.uuid4().hex[:10]}-api"
    try:
        create_catalog(api_es, alias, ON_SHELF + HIDDEN[:2], deleted=HIDDEN[2:])
        yield alias
    finally:
        drop_catalog(api_es, alias)


@pytest.fixture(scope="module")
def client(api_es_url: str, catalog: str) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(es_url=api_es_url, index=catalog))) as c:
        yield c
