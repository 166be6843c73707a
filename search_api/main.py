"""The storefront API: routes parse and return; :mod:`search_api.service` does the work.

Run: ``pocket-api`` (or ``python -m search_api.main``); settings from ``POCKET_*``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, cast

import uvicorn
from elasticsearch import AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer
from fastapi import FastAPI, Path, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from analyzers import get_analyzer
from indexer.malloc import freeze_startup_heap
from schemas.errors import BackendUnavailable, NotFound
from search_api import errors, es_node, merchant, spelling
from search_api.gate import EsGate, GatedEs
from search_api.metrics import ApiMetrics, ObserveRequests
from search_api.models import Error, Health, SearchResponse, SuggestResponse
from search_api.params import (
    MAX_Q_CHARS,
    SearchParams,
    SearchQuery,
    SuggestQuery,
    parse_attr_params,
    parse_query,
    query_parameters,
)
from search_api.responses import OrjsonResponse
from search_api.service import SearchService
from search_api.settings import ApiSettings

_ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": Error}, 503: {"model": Error}}


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the app. One ES client and one analyzer per process, made in the lifespan."""
    settings = settings if settings is not None else ApiSettings()
    gate = EsGate(settings.es_in_flight, settings.es_max_waiting, settings.es_max_wait_ms / 1000)
    metrics = ApiMetrics(gate)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The client opens an OpenTelemetry span per request whenever opentelemetry-api is importable
        # (FastAPI pulls it in), even with no tracing SDK to record it. We ship no SDK, so the spans
        # are off unless the operator turns them on with the client's own switch.
        os.environ.setdefault("OTEL_PYTHON_INSTRUMENTATION_ELASTICSEARCH_ENABLED", "false")
        # orjson both ways: request bodies and ES responses (hits, facets) cost ~0.5 ms less a search.
        es = AsyncElasticsearch(settings.es_url, request_timeout=settings.request_timeout_s, max_retries=1,
                                retry_on_timeout=False, serializer=OrjsonSerializer(),
                                connections_per_node=settings.es_connections,
                                node_class=es_node.node_class(settings.es_url, settings.es_client_node))
        analyzer = get_analyzer()
        analyzer.warm()
        spelling.warm()
        # GatedEs stands in for the client: the calls a search makes, held to the gate.
        app.state.service = SearchService(cast(AsyncElasticsearch, GatedEs(es, gate)), analyzer, settings)
        freeze_startup_heap()  # the analyzer's tables out of the collector's full walks
        try:
            yield
        finally:
            merchant_objects = getattr(app.state, "merchant", None)  # made on a first merchant call
            if merchant_objects is not None:
                merchant_objects.visibility.stream.close()
            await es.close()

    app = FastAPI(title="pocket-search", version="0.1.0", lifespan=lifespan,
                  default_response_class=OrjsonResponse,
                  description="Product search for Chinese marketplaces on stock Elasticsearch.")
    errors.install(app)
    app.add_middleware(ObserveRequests, metrics=metrics)
    app.include_router(merchant.router)

    def service(request: Request) -> SearchService:
        return request.app.state.service  # type: ignore[no-any-return, unused-ignore]

    # The storefront's hot paths read their query string with one pydantic validation
    # (params.parse_query) instead of FastAPI's per-parameter dependencies, which cost more
    # than a third of a millisecond a search; the models document them in OpenAPI.
    @app.get("/search", response_model=SearchResponse, responses=_ERRORS,
             openapi_extra={"parameters": query_parameters(SearchQuery)})
    async def search(request: Request) -> Any:
        """Search products. Repeatable `attr.<name>=<value>` filters by attribute."""
        qp = request.query_params
        params = SearchParams.from_query(parse_query(SearchQuery, qp), parse_attr_params(qp))
        params.validate()
        answer = await service(request).search(params)
        metrics.search_done(answer)
        return OrjsonResponse(answer)

    @app.get("/suggest", response_model=SuggestResponse, responses=_ERRORS,
             openapi_extra={"parameters": query_parameters(SuggestQuery)})
    async def suggest(request: Request) -> Any:
        """Suggest products and categories for a prefix (Chinese, pinyin or initials)."""
        query = parse_query(SuggestQuery, request.query_params)
        answer = await service(request).suggest(query.q, query.shop_id, query.size)
        metrics.suggest_done(answer)
        return OrjsonResponse(answer)

    @app.get("/products/{product_id}", responses={404: {"model": Error}, **_ERRORS})
    async def product(
        request: Request, product_id: Annotated[str, Path(min_length=1, max_length=64)]
    ) -> Any:
        """Fetch one product on shelf."""
        doc = await service(request).product(product_id)
        if doc is None:
            raise NotFound(f"no product {product_id!r} on shelf")
        return OrjsonResponse(doc)

    @app.get("/analyze", responses=_ERRORS)
    async def analyze(
        request: Request, text: Annotated[str, Query(min_length=1, max_length=MAX_Q_CHARS)]
    ) -> Any:
        """Show the tokens of every field for a text (why something matches)."""
        a = service(request).analyzer
        fields = a.explain(text)
        return OrjsonResponse({"text": text, "normalized": a.normalize(text), "fields": fields,
                               "analysis_version": a.version})

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus metrics of this process (search_api/metrics.py)."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Any:
        """Report that the process is alive."""
        return OrjsonResponse({"status": "ok"})

    @app.get("/readyz", response_model=Health, responses={503: {"model": Error}})
    async def readyz(request: Request) -> Any:
        """Report ready when Elasticsearch answers and the index alias exists."""
        es = service(request).es
        try:
            exists = await es.indices.exists_alias(name=settings.index)
        except Exception as err:
            raise BackendUnavailable(f"elasticsearch unreachable: {type(err).__name__}") from err
        if not exists:
            raise BackendUnavailable(f"alias {settings.index!r} does not exist yet")
        return OrjsonResponse({"status": "ready"})

    return app


def main() -> None:
    settings = ApiSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
