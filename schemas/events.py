"""The product change event: what producers write to the ``products.changes`` topic.

One JSON object per Kafka message, keyed by ``product_id``. ``version`` grows
monotonically per product at the source (a row version, an update counter, or a
timestamp in microseconds) and is the only ordering the indexer trusts: Kafka offsets
are never used as versions (the Kafka Connect ES sink's bug, confluentinc/kafka-connect-elasticsearch#142).

* ``upsert``: the full product. Replaces every field older than ``version``.
* ``patch``: some fields (price, stock, status, ...). Each applies only if no newer
  write touched that field.
* ``delete``: the product is gone as of ``version``; older upserts arriving later stay ignored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

MAX_EVENT_BYTES = 256 * 1024
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Version = Annotated[int, Field(ge=1, le=2**62)]


class ProductStatus(StrEnum):
    ON_SHELF = "on_shelf"
    OFF_SHELF = "off_shelf"
    BANNED = "banned"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_category(v: list[str] | None) -> list[str] | None:
    for part in v or ():  # a loop, not any(<genexpr>): this runs for every event the indexer reads
        if "/" in part or not part.strip():
            raise ValueError("category levels must be non-empty and contain no '/'")
    return v


#: Attribute name -> value (``{"颜色": "黑色"}``): at most 50, names up to 30 and values up to 100
#: characters, the same bounds for an upsert and a patch.
Attributes = Annotated[dict[Annotated[str, Field(max_length=30)], Annotated[str, Field(max_length=100)]],
                       Field(max_length=50)]


class Product(_Strict):
    """A product as a marketplace has it: the payload of an ``upsert``."""

    title: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=5000)] = ""
    brand: Annotated[str, Field(max_length=100)] | None = None
    category: Annotated[list[Annotated[str, Field(max_length=50)]], Field(min_length=1, max_length=6)]
    attributes: Attributes = {}
    price: Annotated[float, Field(ge=0, le=1e8)]
    stock: Annotated[int, Field(ge=0, le=10**9)] = 0
    sales: Annotated[int, Field(ge=0)] = 0
    rating: Annotated[float, Field(ge=0, le=5)] | None = None
    #: The shop's quality score (0-5, like Taobao's 店铺评分 DSR), copied onto each of its
    #: products by the producer; a ranking signal (``RankingWeights.shop_quality``).
    shop_score: Annotated[float, Field(ge=0, le=5)] | None = None
    status: ProductStatus = ProductStatus.ON_SHELF
    image: Annotated[str, Field(max_length=500)] | None = None
    shop_name: Annotated[str, Field(max_length=100)] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _category = field_validator("category")(_check_category)


_REQUIRED = frozenset({"title", "description", "category", "price", "stock", "sales", "status"})


class ProductPatch(_Strict):
    """Some fields of a product: the payload of a ``patch``. At least one is set."""

    title: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    brand: Annotated[str, Field(max_length=100)] | None = None
    category: Annotated[list[Annotated[str, Field(max_length=50)]], Field(min_length=1, max_length=6)] | None \
        = None
    attributes: Attributes | None = None
    price: Annotated[float, Field(ge=0, le=1e8)] | None = None
    stock: Annotated[int, Field(ge=0, le=10**9)] | None = None
    sales: Annotated[int, Field(ge=0)] | None = None
    rating: Annotated[float, Field(ge=0, le=5)] | None = None
    shop_score: Annotated[float, Field(ge=0, le=5)] | None = None
    status: ProductStatus | None = None
    image: Annotated[str, Field(max_length=500)] | None = None
    shop_name: Annotated[str, Field(max_length=100)] | None = None
    updated_at: datetime | None = None

    _category = field_validator("category")(_check_category)

    @model_validator(mode="after")
    def _not_empty(self) -> ProductPatch:
        if not self.model_fields_set:
            raise ValueError("a patch must set at least one field")
        nulled = sorted(f for f in self.model_fields_set & _REQUIRED if getattr(self, f) is None)
        if nulled:
            raise ValueError(f"a patch cannot clear required fields: {', '.join(nulled)}")
        return self

    def fields(self) -> dict[str, Any]:
        """The fields this patch sets (explicit nulls included), JSON-ready."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class _EventBase(_Strict):
    event_id: Annotated[str, Field(min_length=1, max_length=100)]
    product_id: Id
    shop_id: Id
    version: Version
    occurred_at: datetime


class UpsertEvent(_EventBase):
    type: Literal["upsert"]
    product: Product


class PatchEvent(_EventBase):
    type: Literal["patch"]
    patch: ProductPatch


class DeleteEvent(_EventBase):
    type: Literal["delete"]


ProductEvent = Annotated[UpsertEvent | PatchEvent | DeleteEvent, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[UpsertEvent | PatchEvent | DeleteEvent] = TypeAdapter(ProductEvent)

#: Product fields that the merge tracks with their own versions.
PRODUCT_FIELDS: tuple[str, ...] = tuple(Product.model_fields)
