"""Settings of the search API deployable (env prefix ``POCKET_``), validated at start-up."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RankingWeights(BaseModel):
    """How business signals combine with text relevance (see ARCHITECTURE.md, "Ranking").

    score = text × (1 + sales·log10(1+sales) + rating·rating/5 + freshness·decay(age))
            × (out_of_stock if stock is 0)
    """

    sales: float = Field(0.15, ge=0, description="per decade of units sold")
    rating: float = Field(0.2, ge=0, description="at a 5.0 rating")
    freshness: float = Field(0.2, ge=0, description="for a product created today")
    freshness_scale_days: int = Field(30, ge=1, description="age at which the freshness boost halves")
    out_of_stock: float = Field(0.25, gt=0, le=1, description="multiplier for zero stock")
    brand_match: float = Field(1.5, ge=0, description="boost when the query names the product's brand")


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POCKET_", env_nested_delimiter="__", extra="ignore")

    es_url: str = "http://127.0.0.1:9200"
    index: str = Field("products", description="the alias storefronts search")
    host: str = "127.0.0.1"
    port: int = 8000
    es_timeout_ms: int = Field(1500, ge=50, description="ES-side search timeout (partial results after)")
    request_timeout_s: float = Field(5.0, gt=0, description="client-side timeout to ES")
    ranking: RankingWeights = RankingWeights()
