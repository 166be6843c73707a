"""Response models: they document the API in OpenAPI (responses are built as dicts and
serialised with orjson for speed, so keep these in step with service.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Error(BaseModel):
    error: str
    detail: str
    param: str | None = None


class Hit(BaseModel):
    id: str
    title: str | None
    highlight: str
    price: float | None
    shop_id: str | None
    shop_name: str | None
    brand: str | None
    image: str | None
    category: str | None
    sales: int | None
    rating: float | None
    in_stock: bool | None
    score: float | None
    explain: dict[str, Any] | None = None


class SearchResponse(BaseModel):
    total: int
    took_ms: float
    partial: bool
    hits: list[Hit]
    facets: dict[str, Any]
    #: False when the facets counted only the best ``facet_sample`` matches of a broad text search.
    facets_exact: bool
    applied: dict[str, Any]
    next: str | None


class Suggestion(BaseModel):
    id: str
    text: str | None
    matched: str


class Completion(BaseModel):
    text: str = Field(description="the brand or product word the typed prefix completes to (lyq -> 连衣裙)")
    count: int = Field(description="how many of the suggested products it stands for")


class SuggestResponse(BaseModel):
    query: str
    completions: list[Completion]
    products: list[Suggestion]
    categories: list[dict[str, Any]]
    took_ms: float
    #: True when nothing started with what was typed, and these complete a spelling one edit
    #: away from it (``addid`` -> adidas) or, for Chinese, its pinyin (``运东鞋`` -> 运动鞋).
    fuzzy: bool = False


class Health(BaseModel):
    status: str
    detail: str | None = None
