"""Merchant endpoints: a listing's visibility and the shop's hidden listings, for the key's shop only.

Routes parse and return; :mod:`search_api.visibility` does the work and :mod:`search_api.keys`
the authentication. Another shop's product id answers 404 exactly as a missing one does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from search_api.keys import Authenticator, FailureLimiter, KeyStore, Merchant
from search_api.models import Error
from search_api.params import ID_PATTERN, MAX_Q_CHARS
from search_api.responses import OrjsonResponse
from search_api.visibility import VisibilityService

router = APIRouter(prefix="/merchant", tags=["merchant"])
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer pk_<key_id>_<secret>`")
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Error} for code in (401, 404, 422, 429, 503)}


class ListingStatus(StrEnum):
    HIDDEN = "hidden"
    DEMOTED = "demoted"


class _Merchant:
    """The merchant objects of one app, made on first use from the storefront's service."""

    def __init__(self, request: Request) -> None:
        service = request.app.state.service
        m = service.settings.merchant
        self.authenticate = Authenticator(
            KeyStore(service.es, index=m.keys_index, iterations=m.key_iterations,
                     touch_interval_s=m.touch_interval_s),
            FailureLimiter(per_key=m.max_failures_per_key, per_address=m.max_failures_per_address,
                           window_s=m.failure_window_s))
        self.visibility = VisibilityService(service, service.settings)


def _merchant_objects(request: Request) -> _Merchant:
    state = request.app.state
    if getattr(state, "merchant", None) is None:
        state.merchant = _Merchant(request)
    return state.merchant


async def current_merchant(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Merchant:
    """The shop of the bearer key; 401 for any bad key, 429 after too many failures."""
    raw = creds.credentials if creds is not None else None
    address = request.client.host if request.client else None
    return await _merchant_objects(request).authenticate(raw, address=address)


@router.get("/listings/{product_id}/visibility", responses=_ERRORS)
async def listing_visibility(
    request: Request,
    merchant: Annotated[Merchant, Depends(current_merchant)],
    product_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)],
    q: Annotated[str, Query(max_length=MAX_Q_CHARS, description="a shopper's query to explain the rank for")]
    = "",
) -> Any:
    """Explain whether and where one of your listings shows in search."""
    ans = await _merchant_objects(request).visibility.visibility(product_id, shop_id=merchant.shop_id, q=q)
    return OrjsonResponse(ans)


@router.get("/listings", responses=_ERRORS)
async def hidden_listings(
    request: Request,
    merchant: Annotated[Merchant, Depends(current_merchant)],
    status: Annotated[ListingStatus, Query(description="hidden: not shown; demoted: shown but sunk")]
    = ListingStatus.HIDDEN,
    page: Annotated[int, Query(ge=1, le=100, description="page × size stays within 10,000")] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """List your listings that shoppers cannot find now, with the reasons."""
    ans = await _merchant_objects(request).visibility.hidden_listings(
        merchant.shop_id, status=status.value, page=page, size=size)
    return OrjsonResponse(ans)
