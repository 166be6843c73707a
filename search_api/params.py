"""Search request parameters: parsed and bounded here, so OpenAPI documents every limit
and a bad value gets a 422 that names the parameter."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import math
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import QueryParams

from schemas.errors import InvalidParameter

MAX_Q_CHARS = 200
MAX_SIZE = 100
MAX_WINDOW = 10_000
MAX_ATTR_FILTERS = 10
#: Shop and product ids, as the event schema allows them (schemas/events.py ``Id``).
ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"


def printable(text: str) -> str:
    """``text`` without control, format and unassigned characters.

    ES reserves some control characters in completion prefixes and contexts (0x00, 0x1D-0x1F)
    and rejects them with a 400; no shopper types them on purpose.
    """
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


class SortMode(StrEnum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    SALES = "sales"
    NEWEST = "newest"
    RATING = "rating"


M = TypeVar("M", bound=BaseModel)


class SearchQuery(BaseModel):
    """The documented query parameters of ``GET /search`` (``attr.<name>`` is dynamic: see
    :func:`parse_attr_params`), checked by :func:`parse_query`."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field("", max_length=MAX_Q_CHARS, description="query text; empty browses")
    shop_id: str | None = Field(None, max_length=64, pattern=ID_PATTERN, description="search one shop's storefront")
    category: str | None = Field(None, max_length=200, description="category path prefix, 美妆/面霜")
    brand: list[str] = Field(default_factory=list, max_length=20, description="repeatable")
    price_min: float | None = Field(None, ge=0, le=1e8)
    price_max: float | None = Field(None, ge=0, le=1e8)
    in_stock: bool | None = Field(None, description="only products with stock")
    sort: SortMode = SortMode.RELEVANCE
    page: int = Field(1, ge=1, le=10_000)
    size: int = Field(20, ge=0, le=MAX_SIZE, description="hits per page; 0: only the total and the facets")
    search_after: str | None = Field(None, max_length=500, description="`next` of the previous page")
    explain: bool = Field(False, description="explain each hit's score")
    distinct: bool = Field(False, description="fold identical listings (同款: the same title, any shop) into "
                                              "one hit, the best of them, with `listings` counting them")
    hl_pre: str = Field("<em>", max_length=20)
    hl_post: str = Field("</em>", max_length=20)


class SuggestQuery(BaseModel):
    """The query parameters of ``GET /suggest``."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field("", max_length=50, description="what the shopper typed so far")
    shop_id: str | None = Field(None, max_length=64, pattern=ID_PATTERN)
    size: int = Field(8, ge=1, le=20)


def parse_query(model: type[M], qp: QueryParams) -> M:
    """The query string as ``model``, or an :class:`InvalidParameter` naming the first bad one.

    One pydantic validation of the whole query, with the same lax string coercion FastAPI
    applies to query parameters (``page=2``, ``in_stock=true``), at ~40 µs instead of the
    ~390 µs FastAPI's per-parameter machinery took for the 14 of ``/search`` (measured with
    the service stubbed out: 13% of the API's CPU per search). A repeated scalar takes its
    last value, as in FastAPI; list fields take every value.
    """
    data: dict[str, Any] = dict(qp)
    for name in _list_fields(model):
        if name in data:
            data[name] = qp.getlist(name)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        param = str(first["loc"][0]) if first.get("loc") else None
        raise InvalidParameter(f"{param or 'request'}: {first['msg']}", param=param) from None


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI ``parameters`` for the fields of ``model`` (the route's ``openapi_extra``), in the
    form FastAPI gives declared query parameters, with enums inlined."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    out = []
    for name, prop in schema["properties"].items():
        ref = prop.pop("$ref", None)
        if ref:
            prop = {**defs[ref.rsplit("/", 1)[-1]], **prop}
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        out.append(param)
    return out


@functools.cache
def _list_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` that take every value of a repeated parameter."""
    return tuple(n for n, f in model.model_fields.items() if getattr(f.annotation, "__origin__", None) is list)


@dataclass
class SearchParams:
    q: str = ""
    shop_id: str | None = None
    category: str | None = None
    brand: list[str] = field(default_factory=list)
    price_min: float | None = None
    price_max: float | None = None
    attrs: dict[str, list[str]] = field(default_factory=dict)
    in_stock: bool | None = None
    sort: SortMode = SortMode.RELEVANCE
    page: int = 1
    size: int = 20
    search_after: str | None = None
    explain: bool = False
    distinct: bool = False
    hl_pre: str = "<em>"
    hl_post: str = "</em>"

    @classmethod
    def from_query(cls, query: SearchQuery, attrs: dict[str, list[str]]) -> SearchParams:
        """The search a validated ``/search`` query string asks for (``attrs``: its ``attr.*``)."""
        values = dict(query)  # the fields they share carry the same names
        values["q"] = query.q.strip()
        values["brand"] = [b for b in query.brand if b]
        values["category"] = (query.category or "").strip() or None  # an empty form field filters nothing
        return cls(**values, attrs=attrs)

    def validate(self) -> None:
        """Cross-parameter checks (single-parameter bounds are in the route's Query())."""
        if self.category and not self.category.strip("/").strip():
            raise InvalidParameter("category must name a path, such as 美妆/面霜", param="category")
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise InvalidParameter("price_min is greater than price_max", param="price_min")
        if self.page * self.size > MAX_WINDOW:
            raise InvalidParameter(f"page × size may not pass {MAX_WINDOW} results; use search_after to go "
                                   "deeper", param="page")
        if self.search_after and self.page != 1:
            raise InvalidParameter("search_after replaces page; leave page at 1", param="search_after")
        if self.search_after and self.distinct:
            raise InvalidParameter("distinct pages with page, not search_after", param="distinct")
        if len(self.attrs) > MAX_ATTR_FILTERS:
            raise InvalidParameter(f"at most {MAX_ATTR_FILTERS} attribute filters", param="attr")

    def query_key(self) -> str:
        """A fingerprint of what defines the result list, bound into search_after tokens."""
        key = [self.q, self.shop_id, self.category, sorted(self.brand), self.price_min, self.price_max,
               sorted((k, sorted(v)) for k, v in self.attrs.items()), self.in_stock, self.sort.value,
               self.distinct]
        return hashlib.blake2b(orjson.dumps(key), digest_size=6).hexdigest()


def parse_attr_params(qp: QueryParams) -> dict[str, list[str]]:
    """``attr.颜色=黑色&attr.颜色=白色`` -> ``{"颜色": ["黑色", "白色"]}``."""
    out: dict[str, list[str]] = {}
    for key, value in qp.multi_items():
        if not key.startswith("attr."):
            continue
        name = key[5:].strip()
        if not name or len(name) > 30 or "=" in name:
            raise InvalidParameter(f"bad attribute name in {key!r}", param=key)
        if not value.strip() or len(value) > 100:
            raise InvalidParameter(f"{key} needs a value of 1 to 100 characters", param=key)
        out.setdefault(name, []).append(value.strip())
    return out


def encode_after(sort_values: list[Any], params: SearchParams) -> str:
    raw = orjson.dumps({"s": sort_values, "k": params.query_key()})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_after(token: str, params: SearchParams) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        obj = orjson.loads(raw)
        values, key = obj["s"], obj["k"]
    except (binascii.Error, ValueError, KeyError, TypeError) as err:
        raise InvalidParameter("search_after is not a token from a previous response", param="search_after") \
            from err
    if key != params.query_key():
        raise InvalidParameter("search_after belongs to a different query or sort", param="search_after")
    # Every sort is (one numeric key, product_id): anything else would reach ES and fail there.
    if not (isinstance(values, list) and len(values) == 2 and _sort_number(values[0])
            and isinstance(values[1], str) and 0 < len(values[1]) <= 64):
        raise InvalidParameter("search_after is not a token from a previous response", param="search_after")
    return values


def _sort_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 2**63
