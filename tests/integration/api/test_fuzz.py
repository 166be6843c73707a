"""Fuzz the API with schemathesis, against our own OpenAPI schema (issue 5).

Every operation gets generated requests, valid and invalid (``phases`` default: explicit
examples, coverage and generation, positive and negative data), run in-process against the
ASGI app over a small real index. The bar: no 5xx for any input, and every answer matches
the documented schema. ``attr.<name>`` parameters are dynamic (not in the schema), so a
hypothesis test of its own fuzzes them and hand-made ``search_after`` tokens.

At least 1,000 requests are sent in total; ``test_enough_requests`` checks the count.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import schemathesis
from api_catalog import HIDDEN, ON_SHELF, create_catalog, drop_catalog
from elasticsearch import Elasticsearch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.datastructures import QueryParams

from schemas.errors import InvalidParameter
from search_api.main import create_app
from search_api.params import SearchParams, SortMode, parse_attr_params
from search_api.settings import ApiSettings

SENT: dict[str, int] = {}
EXAMPLES_PER_OPERATION = 300


@pytest.fixture(scope="module")
def fuzz_app(api_es: Elasticsearch, api_es_url: str) -> Iterator[Any]:
    alias = f"t{uuid.uuid4().hex[:10]}-fuzz"
    try:
        create_catalog(api_es, alias, ON_SHELF + HIDDEN[:2], deleted=HIDDEN[2:])
        yield create_app(ApiSettings(es_url=api_es_url, index=alias))
    finally:
        drop_catalog(api_es, alias)


@pytest.fixture(scope="module")
def fuzz_session(fuzz_app: Any) -> Iterator[Any]:
    """One in-process client for the whole run: the lifespan (ES client, analyzer) runs once."""
    with asgi.get_client(fuzz_app) as session:
        yield session


# The schema is static (it does not depend on the index), so it loads at import from an app
# whose lifespan never runs; requests go through ``fuzz_session`` to the app over the test index.
# (``schemathesis.pytest.from_fixture`` does not work with pytest 9: it reads ``node._nodeid``.)
# The storefront's endpoints; /merchant/* (API keys, Kafka look-ups) is fuzzed with its own suite.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ApiSettings(index="fuzz-schema-only"))
                                        ).include(path_regex=r"^/(search|suggest|products|analyze|healthz|readyz)")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, fuzz_session: Any) -> None:
    SENT[case.operation.label] = SENT.get(case.operation.label, 0) + 1
    case.call_and_validate(session=fuzz_session, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance])


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_sort_values = st.lists(st.one_of(_int64, st.floats(), _text, st.none(), st.booleans()), max_size=4)


def _token(values: Any, key: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"s": values, "k": key})).decode().rstrip("=")


def _key_of(params: list[tuple[str, str]], sort: str) -> str:
    """The query key a genuine token for these parameters carries (else the token fails early)."""
    try:
        attrs = parse_attr_params(QueryParams(params))
    except InvalidParameter:
        attrs = {}
    return SearchParams(attrs=attrs, sort=SortMode(sort)).query_key()


@given(attrs=st.lists(st.tuples(_text, _text), max_size=4),
       after=st.one_of(st.none(), _text, _sort_values),
       sort=st.sampled_from([m.value for m in SortMode]))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_dynamic_parameters_never_fail(fuzz_session: Any, attrs: list[tuple[str, str]],
                                       after: str | list[Any] | None, sort: str) -> None:
    """``attr.<name>=<value>`` and ``search_after`` tokens (bound to this query, with any sort
    values): 200 or a 422 naming the parameter."""
    params: list[tuple[str, str]] = [(f"attr.{k}", v) for k, v in attrs] + [("sort", sort)]
    if isinstance(after, list):
        params.append(("search_after", _token(after, _key_of(params, sort))))
    elif after is not None:
        params.append(("search_after", after))
    resp = fuzz_session.get("/search", params=params)
    SENT["dynamic"] = SENT.get("dynamic", 0) + 1
    assert resp.status_code in (200, 422), (params, resp.status_code, resp.text)
    if resp.status_code == 422:
        assert resp.json()["param"], resp.json()


def test_enough_requests() -> None:
    """The fuzz bar of issue 5: at least 1,000 generated requests over the endpoints."""
    print("fuzz requests:", SENT)
    assert sum(SENT.values()) >= 1000, SENT
