"""One error tree for pocket-search.

Every error carries an HTTP ``status`` (rendered by the API's one exception handler as
``{"error": code, "detail": ...}``) and a ``retriable`` flag (the consumer branches on it:
retriable errors are retried with backoff, the others dead-lettered).
"""

from __future__ import annotations


class PocketSearchError(Exception):
    status: int = 500
    code: str = "internal_error"
    retriable: bool = False

    def __init__(self, detail: str, *, param: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.param = param


class InvalidEvent(PocketSearchError):
    """An event that can never be indexed: it goes to the dead-letter topic with ``reason``."""

    status = 422
    code = "invalid_event"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class InvalidParameter(PocketSearchError):
    status = 422
    code = "invalid_parameter"


class NotFound(PocketSearchError):
    status = 404
    code = "not_found"


class Unauthorized(PocketSearchError):
    status = 401
    code = "unauthorized"


class RateLimited(PocketSearchError):
    status = 429
    code = "rate_limited"
    retriable = True

    def __init__(self, detail: str, *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class BackendUnavailable(PocketSearchError):
    """Elasticsearch or Kafka cannot be reached now; try again later."""

    status = 503
    code = "backend_unavailable"
    retriable = True
