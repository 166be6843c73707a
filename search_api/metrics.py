"""Prometheus metrics of one API process, served at ``GET /metrics`` (own registry per app).

What an operator of a storefront search watches: requests and their latency by route and
status, how text searches end (found, recovered by which step, empty), how suggestions end
(found, fuzzy, empty), and the ES gate:
requests in ES, waiting in the API, and shed with a 503 (search_api/gate.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from search_api.gate import EsGate, new_request


class _GateCollector(Collector):
    """Reads the gate when scraped: nothing is counted twice on the request path."""

    def __init__(self, gate: EsGate) -> None:
        self.gate = gate

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("pocket_api_es_in_flight", "ES requests of this process in flight",
                                value=self.gate.in_flight)
        yield GaugeMetricFamily("pocket_api_es_waiting", "Requests waiting in the API for a place in ES",
                                value=self.gate.waiting)
        yield CounterMetricFamily("pocket_api_es_shed", "Requests answered 503 because too many waited for ES",
                                  value=self.gate.shed)


class ApiMetrics:
    def __init__(self, gate: EsGate) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("pocket_api_requests", "HTTP requests by route template and status",
                                ["route", "status"], registry=r)
        self.seconds = Histogram("pocket_api_request_seconds", "Time to answer, by route template", ["route"],
                                 buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
                                 registry=r)
        self.searches = Counter(
            "pocket_api_searches", "Searches with text by how they ended: found (the query as typed), "
            "recovered (by step: corrected, relaxed, dropped_term) or empty", ["outcome", "step"], registry=r)
        self.suggests = Counter(
            "pocket_api_suggests", "Suggestions by how they ended: found (what starts with the prefix), "
            "fuzzy (only when asked again: a typo allowed, or a Chinese prefix by its pinyin) or empty",
            ["outcome"], registry=r)
        r.register(_GateCollector(gate))

    def search_done(self, answer: dict[str, Any]) -> None:
        applied = answer.get("applied") or {}
        if not applied.get("query"):
            return  # browsing: no text to find
        step = (applied.get("recovery") or {}).get("step")
        if step:
            self.searches.labels("recovered", step).inc()
        else:
            self.searches.labels("found" if answer.get("total") else "empty", "").inc()

    def suggest_done(self, answer: dict[str, Any]) -> None:
        if not answer.get("products"):
            self.suggests.labels("empty").inc()
        else:
            self.suggests.labels("fuzzy" if answer.get("fuzzy") else "found").inc()


class ObserveRequests:
    """Pure ASGI middleware: marks each request's start for the ES gate, and counts and times it
    by the route template it matched (``/products/{product_id}``, not every id)."""

    def __init__(self, app: Any, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        new_request()
        t0 = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.seconds.labels(route).observe(time.perf_counter() - t0)
