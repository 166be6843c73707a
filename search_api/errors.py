"""The one exception handler: every error is ``{"error", "detail", "param"?}``."""

from __future__ import annotations

import logging

from elasticsearch import ApiError, ConnectionError, ConnectionTimeout, TransportError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from schemas.errors import BackendUnavailable, InvalidParameter, PocketSearchError, RateLimited, Unauthorized
from search_api.responses import OrjsonResponse

log = logging.getLogger("pocket.api")


def _render(err: PocketSearchError) -> OrjsonResponse:
    body = {"error": err.code, "detail": err.detail}
    if err.param:
        body["param"] = err.param
    headers: dict[str, str] | None = None
    if isinstance(err, BackendUnavailable):
        headers = {"Retry-After": "2"}
    elif isinstance(err, RateLimited):
        headers = {"Retry-After": str(err.retry_after)}
    elif isinstance(err, Unauthorized):
        headers = {"WWW-Authenticate": 'Bearer realm="pocket-search merchant"'}
    return OrjsonResponse(body, status_code=err.status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(PocketSearchError)
    async def _pocket(_: Request, err: PocketSearchError) -> OrjsonResponse:
        return _render(err)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, err: RequestValidationError) -> OrjsonResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(x) for x in first.get("loc", ()) if x not in ("query", "path", "body")]
        param = loc[0] if loc else None
        return _render(InvalidParameter(f"{param or 'request'}: {first.get('msg')}", param=param))

    @app.exception_handler(ConnectionError)
    @app.exception_handler(ConnectionTimeout)
    async def _es_down(_: Request, err: Exception) -> OrjsonResponse:
        log.warning("elasticsearch unavailable: %s", err)
        return _render(BackendUnavailable("search backend unavailable, retry shortly"))

    @app.exception_handler(ApiError)
    async def _es_api(_: Request, err: ApiError) -> OrjsonResponse:
        if err.meta.status == 404:
            return _render(BackendUnavailable("the product index is not there yet"))
        if err.meta.status in (429, 502, 503, 504):
            return _render(BackendUnavailable(f"search backend busy ({err.meta.status})"))
        log.error("elasticsearch rejected a request: %s", err)
        return OrjsonResponse({"error": "internal_error", "detail": "search failed"}, status_code=500)

    @app.exception_handler(TransportError)
    async def _transport(_: Request, err: TransportError) -> OrjsonResponse:
        return _render(BackendUnavailable(f"search backend unavailable: {type(err).__name__}"))
