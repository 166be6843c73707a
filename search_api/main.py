"""The storefront API: routes parse and return; :mod:`search_api.service` does the work.

Run: ``pocket-api`` (or ``python -m search_api.main``); settings from ``POCKET_*``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import uvicorn
from elasticsearch import AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer
from fastapi import FastAPI, Path, Query, Request

from analyzers import get_analyzer
from schemas.errors import BackendUnavailable, NotFound
from search_api import errors, merchant
from search_api.models import Error, Health, SearchResponse, SuggestResponse
from search_api.params import ID_PATTERN, MAX_Q_CHARS, MAX_SIZE, SearchParams, SortMode, parse_attr_params
from search_api.responses import OrjsonResponse
from search_api.service import SearchService
from search_api.settings import ApiSettings

_ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": Error}, 503: {"model": Error}}


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the app. One ES client and one analyzer per process, made in the lifespan."""
    settings = settings if settings is not None else ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The client opens an OpenTelemetry span per request whenever opentelemetry-api is importable
        # (FastAPI pulls it in), even with no tracing SDK to record it. We ship no SDK, so the spans
        # are off unless the operator turns them on with the client's own switch.
        os.environ.setdefault("OTEL_PYTHON_INSTRUMENTATION_ELASTICSEARCH_ENABLED", "false")
        # orjson both ways: request bodies and ES responses (hits, facets) cost ~0.5 ms less a search.
        es = AsyncElasticsearch(settings.es_url, request_timeout=settings.request_timeout_s, max_retries=1,
                                retry_on_timeout=False, serializer=OrjsonSerializer(),
                                connections_per_node=settings.es_connections)
        analyzer = get_analyzer()
        analyzer.warm()
        app.state.service = SearchService(es, analyzer, settings)
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
    app.include_router(merchant.router)

    def service(request: Request) -> SearchService:
        return request.app.state.service  # type: ignore[no-any-return, unused-ignore]

    @app.get("/search", response_model=SearchResponse, responses=_ERRORS)
    async def search(
        request: Request,
        q: Annotated[str, Query(max_length=MAX_Q_CHARS, description="query text; empty browses")] = "",
        shop_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN,
                                             description="search one shop's storefront")] = None,
        category: Annotated[str | None, Query(max_length=200, description="category path prefix, 美妆/面霜")]
        = None,
        brand: Annotated[list[str], Query(max_length=20, description="repeatable")] = [],  # noqa: B006
        price_min: Annotated[float | None, Query(ge=0, le=1e8)] = None,
        price_max: Annotated[float | None, Query(ge=0, le=1e8)] = None,
        in_stock: Annotated[bool | None, Query(description="only products with stock")] = None,
        sort: Annotated[SortMode, Query()] = SortMode.RELEVANCE,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        size: Annotated[int, Query(ge=1, le=MAX_SIZE)] = 20,
        search_after: Annotated[str | None, Query(max_length=500, description="`next` of the previous page")]
        = None,
        explain: Annotated[bool, Query(description="explain each hit's score")] = False,
        hl_pre: Annotated[str, Query(max_length=20)] = "<em>",
        hl_post: Annotated[str, Query(max_length=20)] = "</em>",
    ) -> Any:
        """Search products. Repeatable `attr.<name>=<value>` filters by attribute."""
        params = SearchParams(
            q=q.strip(), shop_id=shop_id, category=category, brand=[b for b in brand if b],
            price_min=price_min, price_max=price_max, attrs=parse_attr_params(request.query_params),
            in_stock=in_stock, sort=sort, page=page, size=size, search_after=search_after, explain=explain,
            hl_pre=hl_pre, hl_post=hl_post,
        )
        params.validate()
        return OrjsonResponse(await service(request).search(params))

    @app.get("/suggest", response_model=SuggestResponse, responses=_ERRORS)
    async def suggest(
        request: Request,
        q: Annotated[str, Query(max_length=50, description="what the shopper typed so far")] = "",
        shop_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
        size: Annotated[int, Query(ge=1, le=20)] = 8,
    ) -> Any:
        """Suggest products and categories for a prefix (Chinese, pinyin or initials)."""
        return OrjsonResponse(await service(request).suggest(q, shop_id, size))

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
